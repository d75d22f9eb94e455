"""Table models; importing this package registers every table on `SQLModel.metadata`."""

from app.models import (
    audit,
    consent,
    directory,
    events,
    idempotency,
    identity,
    login_throttle,
    notification,
    referral,
    report,
    subject,
    web_session,
    webhooks,
)

__all__ = [
    "audit",
    "consent",
    "directory",
    "events",
    "idempotency",
    "identity",
    "login_throttle",
    "notification",
    "referral",
    "report",
    "subject",
    "web_session",
    "webhooks",
]
