"""Webhook subscriptions, their deliveries (one per subscription and event) and every attempt."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from app import outbound
from app.db import JSONType, UTCDateTime, enum_type, utcnow
from app.encryption import EncryptedText
from app.models.events import EventType


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SUCCEEDED = "succeeded"
    DEAD = "dead"
    CANCELLED = "cancelled"


class WebhookSubscriptionBase(SQLModel):
    url: str = Field(min_length=1, max_length=2000)
    description: str | None = Field(default=None, max_length=500)
    # None means every event type.
    event_types: list[EventType] | None = Field(default=None, sa_type=JSONType)


class WebhookSubscription(WebhookSubscriptionBase, table=True):
    __tablename__ = "webhook_subscriptions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    agency_id: uuid.UUID = Field(foreign_key="agencies.id", index=True)
    # Encrypted at rest: it is needed again to sign every delivery, so it cannot be hashed.
    secret: str = Field(sa_type=EncryptedText)
    status: SubscriptionStatus = Field(
        default=SubscriptionStatus.ACTIVE, sa_type=enum_type(SubscriptionStatus)
    )
    disabled_reason: str | None = Field(default=None, max_length=40)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Deleted subscriptions are kept (hidden) so their delivery log and audit references stay whole.
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def wants(event_types: list[str] | None, event_type: str) -> bool:
    """Whether a subscription to `event_types` (None: every type) receives `event_type`."""
    return event_types is None or event_type in event_types


class WebhookSubscriptionCreate(WebhookSubscriptionBase):
    event_types: list[EventType] | None = Field(default=None, min_length=1)

    @field_validator("url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        try:
            url = outbound.parse(value)
        except outbound.UnsafeTarget as exc:
            raise ValueError(str(exc)) from None
        if url.scheme not in {"http", "https"} or not url.host:
            raise ValueError("must be an absolute https URL")
        if url.userinfo:
            raise ValueError("must not carry credentials; receivers authenticate deliveries by signature")
        if url.fragment:
            raise ValueError("must not have a fragment")
        return value


class WebhookSubscriptionPublic(WebhookSubscriptionBase):
    id: uuid.UUID
    agency_id: uuid.UUID
    status: SubscriptionStatus
    disabled_reason: str | None
    disabled_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookSubscriptionCreated(WebhookSubscriptionPublic):
    secret: str = Field(description="The signing secret; shown only in this response.")


class WebhookDelivery(SQLModel, table=True):
    """One event on its way to one subscription, retried until it succeeds or dies."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_subscription_event"),
        # The worker's claim: due work by time.
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_log", "subscription_id", "created_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    subscription_id: uuid.UUID = Field(foreign_key="webhook_subscriptions.id")
    event_id: uuid.UUID = Field(foreign_key="domain_events.id")
    event_type: str = Field(max_length=60)
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, sa_type=enum_type(DeliveryStatus))
    # Attempts in the current round: reset by a manual redelivery, bounded by the retry limit.
    attempt_count: int = 0
    # When it is next due; None once it has nowhere left to go (succeeded, dead or cancelled).
    next_attempt_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claim_token: uuid.UUID | None = None
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    attempts: list["DeliveryAttempt"] = Relationship(
        sa_relationship_kwargs={"lazy": "selectin", "order_by": "DeliveryAttempt.started_at"}
    )


class DeliveryAttemptBase(SQLModel):
    started_at: datetime = Field(sa_type=UTCDateTime)
    duration_ms: int
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=300)


class DeliveryAttempt(DeliveryAttemptBase, table=True):
    __tablename__ = "webhook_delivery_attempts"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    delivery_id: uuid.UUID = Field(foreign_key="webhook_deliveries.id", index=True)


class DeliveryAttemptPublic(DeliveryAttemptBase):
    pass


class WebhookDeliveryPublic(SQLModel):
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[DeliveryAttemptPublic]
