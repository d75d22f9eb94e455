"""Notifications to staff: queued with the change they announce, sent by the worker, every attempt kept."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Field, Relationship, SQLModel

from app.db import UTCDateTime, enum_type, utcnow
from app.models.identity import NotificationKind


class NotificationStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    DEAD = "dead"
    # Waiting for the recipient's daily digest, then folded into it.
    HELD = "held"
    DIGESTED = "digested"


class Notification(SQLModel, table=True):
    """One message to one address. It names a referral by reference only: no personal data."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The worker's claim: due work by time.
        Index("ix_notifications_due", "status", "next_attempt_at"),
        # An agency's log, newest first, and a recipient's held items for their digest.
        Index("ix_notifications_log", "agency_id", "created_at", "id"),
        Index("ix_notifications_held", "recipient_user_id", "status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # The recipient's agency: the one whose admins see it in their log. None for a notice to an
    # account of no agency (a platform admin or an auditor), seen by platform admins only.
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="agencies.id")
    kind: NotificationKind = Field(sa_type=enum_type(NotificationKind))
    recipient_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    recipient_email: str = Field(max_length=254)
    referral_id: uuid.UUID | None = Field(default=None, foreign_key="referrals.id", index=True)
    referral_reference: str | None = Field(default=None, max_length=20)
    subject: str = Field(max_length=200)
    body: str = Field(max_length=20000)
    # The language it is written in: the recipient's (`en`, `cy`), or null for both (a team's address).
    language: str | None = Field(default=None, max_length=10)
    link: str | None = Field(default=None, max_length=500)
    # A new account's set-password link, put into the body where it says LINK_SLOT when sent. It
    # is a credential: kept encrypted (app.encryption), never shown in the log, wiped once sent.
    sealed_link: str | None = Field(default=None, sa_type=Text)
    status: NotificationStatus = Field(
        default=NotificationStatus.PENDING, sa_type=enum_type(NotificationStatus)
    )
    attempt_count: int = 0
    next_attempt_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claim_token: uuid.UUID | None = None
    last_error: str | None = Field(default=None, max_length=300)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set on digests, so each is made once however many workers build it.
    dedup_key: str | None = Field(default=None, max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    attempts: list["NotificationAttempt"] = Relationship(
        sa_relationship_kwargs={"lazy": "selectin", "order_by": "NotificationAttempt.started_at"}
    )


class NotificationAttemptBase(SQLModel):
    started_at: datetime = Field(sa_type=UTCDateTime)
    duration_ms: int
    error: str | None = Field(default=None, max_length=300)


class NotificationAttempt(NotificationAttemptBase, table=True):
    __tablename__ = "notification_attempts"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    notification_id: uuid.UUID = Field(foreign_key="notifications.id", index=True)


class NotificationAttemptPublic(NotificationAttemptBase):
    pass


class NotificationPublic(SQLModel):
    id: uuid.UUID
    agency_id: uuid.UUID | None
    kind: NotificationKind
    recipient: str
    recipient_user_id: uuid.UUID | None
    referral_id: uuid.UUID | None
    referral_reference: str | None
    subject: str
    status: NotificationStatus
    attempt_count: int
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime
    attempts: list[NotificationAttemptPublic]

    @classmethod
    def of(cls, row: Notification) -> "NotificationPublic":
        return cls.model_validate(row, update={"recipient": row.recipient_email})
