"""Helpers to emit domain events as the referral module does, subscribe to them, and read them back."""

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import Settings, get_settings
from app.db import get_sessionmaker
from app.models.audit import ActorKind, AuditActor
from app.models.directory import Agency
from app.models.events import DomainEvent
from app.models.webhooks import EventType, WebhookDelivery, WebhookSubscription, WebhookSubscriptionCreate
from app.services import events, webhooks
from tests.factories import committed


def allow_loopback(monkeypatch: pytest.MonkeyPatch, **overrides: object) -> Settings:
    """The process settings, changed for this test to let deliveries go to a loopback receiver."""
    settings = get_settings()
    values = {
        "webhook_allow_private_targets": True,
        "webhook_allow_http": True,
        "webhook_timeout_seconds": 5.0,
        "webhook_lease_seconds": 60.0,
        **overrides,
    }
    for name, value in values.items():
        monkeypatch.setattr(settings, name, value)
    return settings


def admin_of(agency: Agency) -> AuditActor:
    return AuditActor(kind=ActorKind.USER, id=f"admin-{agency.id}", agency_id=agency.id)


async def subscribe(
    settings: Settings, agency: Agency, url: str, event_types: list[EventType] | None = None
) -> WebhookSubscription:
    body = WebhookSubscriptionCreate(url=url, event_types=event_types)
    return await committed(lambda s: webhooks.create_subscription(s, settings, admin_of(agency), body))


async def emit_event(
    from_agency: Agency,
    to_agency: Agency,
    type_: str = EventType.REFERRAL_CREATED,
    status: str | None = "submitted",
    referral_id: uuid.UUID | None = None,
) -> None:
    """Commit one domain event between two agencies, as the referral module does."""

    async def work(session: AsyncSession) -> None:
        events.emit(
            session,
            type_,
            referral_id=referral_id or uuid.uuid4(),
            status=status,
            from_agency_id=from_agency.id,
            to_agency_id=to_agency.id,
        )

    await committed(work)


async def event_ids() -> list[str]:
    """Every committed event's id, in commit order."""
    async with get_sessionmaker()() as session:
        rows = await session.execute(select(col(DomainEvent.id)).order_by(col(DomainEvent.seq)))
        return [str(r) for r in rows.scalars()]


async def all_deliveries() -> list[WebhookDelivery]:
    async with get_sessionmaker()() as session:
        rows = await session.execute(select(WebhookDelivery).order_by(col(WebhookDelivery.created_at)))
        return list(rows.scalars())


async def reload_subscription(subscription_id: uuid.UUID) -> WebhookSubscription:
    async with get_sessionmaker()() as session:
        found = await session.get(WebhookSubscription, subscription_id)
        assert found is not None
        return found
