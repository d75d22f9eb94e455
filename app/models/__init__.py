"""Table models; importing this package registers every table on `SQLModel.metadata`."""

from app.models import audit, directory, events, identity

__all__ = ["audit", "directory", "events", "identity"]
