"""Domain events: the outbox behind the partner event feed and webhooks."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime
from app.models.audit import BigIntKey


class EventType(StrEnum):
    """What partners are told about; the thin payload says which referral and its status."""

    REFERRAL_CREATED = "referral.created"
    REFERRAL_STATUS_CHANGED = "referral.status_changed"
    REFERRAL_VIEWED = "referral.viewed"
    OUTCOME_RECORDED = "outcome.recorded"
    MESSAGE_POSTED = "message.posted"
    REFERRAL_ASSIGNED = "referral.assigned"
    # The sender corrected the person's details on the referral; the event carries no values.
    DETAILS_CORRECTED = "referral.details_corrected"
    APPOINTMENT_CHANGED = "referral.appointment_changed"
    MEASURE_RECORDED = "measure.recorded"
    # To the agency that must follow up only, never to the other party.
    FOLLOW_UP_DUE = "follow_up.due"


class DomainEventBase(SQLModel):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    type: str = Field(max_length=60)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    referral_id: uuid.UUID | None = Field(default=None, index=True)
    status: str | None = Field(default=None, max_length=40)


class DomainEvent(DomainEventBase, table=True):
    """One change worth telling partners about; thin, with no personal data.

    `seq` is the order it was written in; `position`, its place in the feed, is given by the
    sequencer once it is committed, so a reader resuming after a position never skips one.
    """

    __tablename__ = "domain_events"
    __table_args__ = (
        Index("ix_domain_events_position", "position", unique=True),
        Index(
            "ix_domain_events_unsequenced",
            "seq",
            postgresql_where=text("position IS NULL"),
            sqlite_where=text("position IS NULL"),
        ),
    )

    seq: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True, autoincrement=True))
    position: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    from_agency_id: uuid.UUID | None = Field(default=None, index=True)
    to_agency_id: uuid.UUID | None = Field(default=None, index=True)


class DomainEventPublic(DomainEventBase):
    pass


class EventFeedPage(SQLModel):
    """A page of the event feed; `next_cursor` is always set, so a poller can store it and resume."""

    items: list[DomainEventPublic]
    next_cursor: str
    has_more: bool
