"""Who may still act, and how often a password may be tried: the checks behind every sign-in and token."""
