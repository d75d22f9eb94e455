"""Table models; importing this package registers every table on `SQLModel.metadata`."""

from app.models import (
    audit,
    consent,
    directory,
    events,
    follow_up,
    idempotency,
    identity,
    login_throttle,
    measure,
    notification,
    referral,
    report,
    signpost,
    subject,
    web_session,
    webhooks,
)

__all__ = [
    "audit",
    "consent",
    "directory",
    "events",
    "follow_up",
    "idempotency",
    "identity",
    "login_throttle",
    "measure",
    "notification",
    "referral",
    "report",
    "signpost",
    "subject",
    "web_session",
    "webhooks",
]
