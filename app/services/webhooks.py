"""An agency's webhook subscriptions, the fan-out of events to them, and their delivery log.

The fan-out runs in the sequencer, once per event; subscription changes keep it out until they commit.
"""

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import outbound
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.journal import fanout, lock
from app.journal.fanout import SequencedEvent
from app.models.audit import AuditActor
from app.models.webhooks import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookSubscription,
    WebhookSubscriptionCreate,
    wants,
)
from app.pagination import Keyset, keyset_page
from app.persistence.rows import new_row, table_of
from app.security import agency_of
from app.services import audit

SECRET_PREFIX = "whsec_"  # noqa: S105  (the prefix the specification defines)
OPEN_DELIVERIES = (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT)
SUBSCRIPTION_ORDER = Keyset(
    "webhook-subscriptions",
    (col(WebhookSubscription.created_at), col(WebhookSubscription.id)),
    (datetime, uuid.UUID),
)
DELIVERY_ORDER = Keyset(
    "webhook-deliveries",
    (col(WebhookDelivery.created_at), col(WebhookDelivery.id)),
    (datetime, uuid.UUID),
    descending=True,
)


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


async def create_subscription(
    session: AsyncSession, settings: Settings, actor: AuditActor, body: WebhookSubscriptionCreate
) -> WebhookSubscription:
    agency_id = agency_of(actor)
    await check_url(body.url, settings)
    subscription = WebhookSubscription.model_validate(
        body, update={"agency_id": agency_id, "secret": new_secret()}
    )
    await lock.fence(session)
    session.add(subscription)
    await session.flush()
    types = [t.value for t in body.event_types] if body.event_types else None
    audit.record(
        session,
        actor,
        "webhook.created",
        "webhook_subscription",
        subscription.id,
        details={"event_types": types},
    )
    return subscription


async def check_url(url: str, settings: Settings) -> None:
    """Refuse, naming `url`, a target the worker would refuse to call."""
    try:
        await outbound.resolve(url, settings)
    except outbound.UnsafeTarget as exc:
        raise Unprocessable.field("url", str(exc)) from None


async def get_subscription(
    session: AsyncSession, actor: AuditActor, subscription_id: uuid.UUID
) -> WebhookSubscription:
    """The caller's agency's subscription, or 404 (another agency's is not revealed)."""
    found = await session.get(WebhookSubscription, subscription_id)
    if found is None or found.agency_id != agency_of(actor) or found.deleted_at is not None:
        raise NotFound(f"Webhook subscription {subscription_id} not found.")
    return found


async def list_subscriptions(
    session: AsyncSession, actor: AuditActor, cursor: str | None, limit: int
) -> tuple[list[WebhookSubscription], str | None]:
    """The agency's subscriptions, oldest first."""
    query = select(WebhookSubscription).where(
        col(WebhookSubscription.agency_id) == agency_of(actor),
        col(WebhookSubscription.deleted_at).is_(None),
    )
    return await keyset_page(session, query, SUBSCRIPTION_ORDER, cursor, limit)


async def delete_subscription(session: AsyncSession, actor: AuditActor, subscription_id: uuid.UUID) -> None:
    """Hide the subscription and stop whatever is still on its way to it."""
    subscription = await get_subscription(session, actor, subscription_id)
    await lock.fence(session)
    subscription.deleted_at = subscription.updated_at = utcnow()
    await _cancel_open_deliveries(session, subscription.id)
    await session.flush()
    audit.record(session, actor, "webhook.deleted", "webhook_subscription", subscription.id)


async def disable_gone(session: AsyncSession, actor: AuditActor, subscription_id: uuid.UUID) -> None:
    """The endpoint answered 410 Gone: stop sending to it."""
    await lock.fence(session)
    # FOR NO KEY UPDATE: deliveries being queued for it elsewhere (their foreign key check
    # takes a key-share lock) are not held up while it is disabled.
    subscription = await session.get(
        WebhookSubscription, subscription_id, with_for_update={"key_share": True}
    )
    if subscription is None or subscription.status is not SubscriptionStatus.ACTIVE:
        return
    subscription.status, subscription.disabled_reason = SubscriptionStatus.DISABLED, "gone"
    subscription.disabled_at = subscription.updated_at = utcnow()
    await _cancel_open_deliveries(session, subscription.id)
    await session.flush()
    audit.record(
        session,
        actor,
        "webhook.disabled",
        "webhook_subscription",
        subscription.id,
        details={"reason": "gone"},
    )


async def _cancel_open_deliveries(session: AsyncSession, subscription_id: uuid.UUID) -> None:
    await session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.subscription_id) == subscription_id,
            col(WebhookDelivery.status).in_(OPEN_DELIVERIES),
        )
        .values(
            status=DeliveryStatus.CANCELLED, next_attempt_at=None, claimed_until=None, updated_at=utcnow()
        )
    )


_SUBSCRIPTIONS = table_of(WebhookSubscription)
_SUBSCRIBERS = select(_SUBSCRIPTIONS.c.id, _SUBSCRIPTIONS.c.agency_id, _SUBSCRIPTIONS.c.event_types).where(
    _SUBSCRIPTIONS.c.agency_id.in_(bindparam("agencies", expanding=True)),
    _SUBSCRIPTIONS.c.status == SubscriptionStatus.ACTIVE,
    _SUBSCRIPTIONS.c.deleted_at.is_(None),
)


def involved_agencies(events: Sequence[SequencedEvent]) -> list[uuid.UUID]:
    """The agencies whose subscriptions may receive these events."""
    return list({a for e in events for a in (e.from_agency_id, e.to_agency_id) if a is not None})


async def queue_deliveries(session: AsyncSession, events: Sequence[SequencedEvent]) -> None:
    """One delivery per event and active subscription of an agency it involves.

    Queued in the sequencer's transaction, which positions the events in the feed: each event
    is fanned out exactly once, and only once its change has committed.
    """
    agencies = involved_agencies(events)
    subscribers = (await session.execute(_SUBSCRIBERS, {"agencies": agencies})).all() if agencies else []
    deliveries = [
        new_row(WebhookDelivery, subscription_id=s.id, event_id=e.id, event_type=e.type).values
        for e in events
        for s in subscribers
        if s.agency_id in (e.from_agency_id, e.to_agency_id) and wants(s.event_types, e.type)
    ]
    if deliveries:
        await session.execute(insert(WebhookDelivery), deliveries)


fanout.register(queue_deliveries)


async def list_deliveries(
    session: AsyncSession,
    actor: AuditActor,
    subscription_id: uuid.UUID,
    *,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[WebhookDelivery], str | None]:
    """The subscription's deliveries with their attempts, newest first."""
    subscription = await get_subscription(session, actor, subscription_id)
    query = select(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == subscription.id)
    if status is not None:
        query = query.where(col(WebhookDelivery.status) == status)
    return await keyset_page(session, query, DELIVERY_ORDER, cursor, limit)


async def redeliver(
    session: AsyncSession, actor: AuditActor, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Send a delivery again now, with a fresh round of retries."""
    subscription = await get_subscription(session, actor, subscription_id)
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound(f"Delivery {delivery_id} not found.")
    if subscription.status is not SubscriptionStatus.ACTIVE:
        raise Conflict("The subscription is disabled; create a new one to receive events again.")
    now = utcnow()
    # A claim whose lease has run out belongs to a worker that died; it can be taken over.
    if (
        delivery.status is DeliveryStatus.IN_FLIGHT
        and delivery.claimed_until
        and delivery.claimed_until > now
    ):
        raise Conflict("The delivery is being sent now; try again when this attempt has finished.")
    delivery.status, delivery.attempt_count = DeliveryStatus.PENDING, 0
    delivery.claimed_until = delivery.claim_token = None
    delivery.next_attempt_at = delivery.updated_at = now
    await session.flush()
    audit.record(
        session,
        actor,
        "webhook.redelivery_requested",
        "webhook_delivery",
        delivery.id,
        details={"subscription_id": str(subscription.id), "event_id": str(delivery.event_id)},
    )
    return delivery


async def rotate_secrets(session: AsyncSession, actor: AuditActor) -> int:
    """Re-encrypt every stored signing secret under SECRETS_KEY's first key; how many there are.

    Read with whichever key decrypts each one and written back with the first, so that the
    keys after it can then be dropped.
    """
    rows = (await session.execute(select(col(WebhookSubscription.id), col(WebhookSubscription.secret)))).all()
    for subscription_id, secret in rows:
        await session.execute(
            update(WebhookSubscription)
            .where(col(WebhookSubscription.id) == subscription_id)
            .values(secret=secret)
        )
    audit.record(session, actor, "secrets.rotated", "webhook_subscription", details={"secrets": len(rows)})
    return len(rows)
