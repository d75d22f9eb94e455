"""Scripts for the repository itself (not part of the service)."""
