"""Sending webhook deliveries: claim due work under a lease, sign and send it, record the attempt.

A worker claims a small batch in one short transaction (marking it in flight until a lease runs
out), sends outside any transaction, and records each attempt as soon as it ends. A worker
that dies mid-send leaves the deliveries whose attempts it had not yet recorded in flight until
the lease expires, when another worker sends them again: delivery is at least once, and
receivers de-duplicate by the `webhook-id` header, which is the event id and the same on every
attempt. At most a batch (WEBHOOK_BATCH_SIZE) is sent twice for one worker's death.
"""

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from standardwebhooks import Webhook

from app import outbound
from app.config import Settings
from app.db import format_time, utcnow
from app.models.audit import ActorKind, AuditActor
from app.models.events import DomainEvent
from app.models.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from app.persistence import retrying
from app.services import webhooks

WORKER_ACTOR = AuditActor(kind=ActorKind.SYSTEM, id="webhook-worker")
USER_AGENT = "referral-exchange-webhooks/1"


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed delivery with everything needed to send it outside the claiming transaction."""

    delivery_id: uuid.UUID
    claim_token: uuid.UUID
    attempt: int
    subscription_id: uuid.UUID
    url: str
    secret: str
    message_id: str
    body: str


@dataclass(frozen=True, slots=True)
class Result:
    job: Job
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def payload(event: DomainEvent) -> str:
    """The Standard Webhooks body: type, time and thin data (ids and codes, no personal data)."""
    data = {
        "event_id": str(event.id),
        "referral_id": str(event.referral_id) if event.referral_id else None,
        "status": event.status,
        "from_agency_id": str(event.from_agency_id) if event.from_agency_id else None,
        "to_agency_id": str(event.to_agency_id) if event.to_agency_id else None,
    }
    body = {"type": event.type, "timestamp": format_time(event.occurred_at), "data": data}
    return json.dumps(body, separators=(",", ":"))


def signature_headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature` for one attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


async def claim(session: AsyncSession, settings: Settings, *, now: datetime, limit: int) -> list[Job]:
    """Mark up to `limit` due deliveries in flight under a lease and return them as jobs.

    On PostgreSQL rows another worker is claiming are skipped; on SQLite the transaction
    already holds the database's write lock, so claims are serialised.
    """
    rows = await _due(session, now, limit)
    lease_end = now + timedelta(seconds=settings.webhook_lease_seconds)
    jobs = []
    for delivery, event, subscription in rows:
        if delivery.attempt_count >= settings.webhook_max_attempts:
            _finish(delivery, now, DeliveryStatus.DEAD, error="abandoned: the worker's lease ran out")
            continue
        delivery.status, delivery.claim_token = DeliveryStatus.IN_FLIGHT, uuid.uuid4()
        delivery.attempt_count += 1
        delivery.claimed_until = delivery.next_attempt_at = delivery.updated_at = lease_end
        jobs.append(_job(delivery, event, subscription))
    await session.flush()
    return jobs


async def _due(
    session: AsyncSession, now: datetime, limit: int
) -> Sequence[Row[WebhookDelivery, DomainEvent, WebhookSubscription]]:
    # In-flight rows are due again once their lease (held in next_attempt_at) has run out.
    query = (
        select(WebhookDelivery, DomainEvent, WebhookSubscription)
        .join(DomainEvent, col(DomainEvent.id) == col(WebhookDelivery.event_id))
        .join(WebhookSubscription, col(WebhookSubscription.id) == col(WebhookDelivery.subscription_id))
        .where(
            col(WebhookDelivery.status).in_(webhooks.OPEN_DELIVERIES),
            col(WebhookDelivery.next_attempt_at) <= now,
            col(WebhookSubscription.status) == SubscriptionStatus.ACTIVE,
        )
        .order_by(col(WebhookDelivery.next_attempt_at), col(DomainEvent.seq))
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    return (await session.execute(query)).all()


def _job(delivery: WebhookDelivery, event: DomainEvent, subscription: WebhookSubscription) -> Job:
    assert delivery.claim_token is not None
    return Job(
        delivery_id=delivery.id,
        claim_token=delivery.claim_token,
        attempt=delivery.attempt_count,
        subscription_id=subscription.id,
        url=subscription.url,
        secret=subscription.secret,
        message_id=str(event.id),
        body=payload(event),
    )


def http_client(settings: Settings) -> httpx.AsyncClient:
    """A client that follows no redirects, reads no proxy settings and keeps no connections.

    Requests are pinned to a checked address with the host's name for TLS; a pooled
    connection could otherwise be reused for another host that shares the address.
    """
    return httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


async def send_all(
    settings: Settings, jobs: list[Job], ended: Callable[[Result], None] = lambda _: None
) -> list[Result]:
    """Send a batch concurrently; every job yields a result, failures included, handed to `ended`
    as soon as it is in (so that it can be recorded before the others end)."""
    async with http_client(settings) as client:

        async def one(job: Job) -> Result:
            result = await send(client, settings, job)
            ended(result)
            return result

        return list(await asyncio.gather(*(one(job) for job in jobs)))


async def send(client: httpx.AsyncClient, settings: Settings, job: Job) -> Result:
    """One signed attempt, within the overall timeout, with the target checked again first."""
    started, clock = utcnow(), time.monotonic()
    status_code, error = None, None
    try:
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            status_code = await _post(client, settings, job)
    except outbound.UnsafeTarget as exc:
        error = f"refused: {exc}"
    except TimeoutError:
        error = "timed out"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    return Result(job, started, round((time.monotonic() - clock) * 1000), status_code, error)


async def _post(client: httpx.AsyncClient, settings: Settings, job: Job) -> int:
    target = await outbound.resolve(job.url, settings)
    headers = {
        **target.headers,
        **signature_headers(job.secret, job.message_id, job.body, utcnow()),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    request = client.build_request(
        "POST", target.url, content=job.body.encode(), headers=headers, extensions=target.extensions
    )
    # The status is all that is kept; the body is never read, however large it is.
    response = await client.send(request, stream=True)
    await response.aclose()
    return response.status_code


async def record(session: AsyncSession, settings: Settings, results: list[Result], *, now: datetime) -> None:
    """Log every attempt and move each delivery on: done, retry later, or dead."""
    for result in results:
        session.add(_attempt(result))
        await _advance(session, settings, result, now)
    # After every result is in, so a batch's other successes to the same endpoint still count.
    for subscription_id in {r.job.subscription_id for r in results if r.gone}:
        await webhooks.disable_gone(session, WORKER_ACTOR, subscription_id)
    await session.flush()


def _attempt(result: Result) -> DeliveryAttempt:
    return DeliveryAttempt(
        delivery_id=result.job.delivery_id,
        started_at=result.started_at,
        duration_ms=result.duration_ms,
        status_code=result.status_code,
        error=result.error,
    )


async def _advance(session: AsyncSession, settings: Settings, result: Result, now: datetime) -> None:
    # Only while this worker's claim stands: a delivery cancelled, or re-claimed after the
    # lease ran out, is not overwritten by a late result.
    await session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == result.job.delivery_id,
            col(WebhookDelivery.claim_token) == result.job.claim_token,
            col(WebhookDelivery.status) == DeliveryStatus.IN_FLIGHT,
        )
        .values(**_next_state(settings, result, now))
    )


def _next_state(settings: Settings, result: Result, now: datetime) -> dict[str, object]:
    state: dict[str, object] = {
        "last_status_code": result.status_code,
        "last_error": result.error or (None if result.succeeded else f"HTTP {result.status_code}"),
        **retrying.released(now),
    }
    if result.succeeded:
        return {**state, "status": DeliveryStatus.SUCCEEDED, "next_attempt_at": None, "delivered_at": now}
    if result.gone or result.job.attempt >= settings.webhook_max_attempts:
        return {**state, "status": DeliveryStatus.DEAD, "next_attempt_at": None}
    return {
        **state,
        "status": DeliveryStatus.PENDING,
        "next_attempt_at": now + backoff(settings, result.job.attempt),
    }


def backoff(settings: Settings, attempt: int) -> timedelta:
    """Exponential delay after the given attempt, capped, with jitter."""
    return retrying.backoff(settings.webhook_retry_base_seconds, settings.webhook_retry_max_seconds, attempt)


def _finish(delivery: WebhookDelivery, now: datetime, status: DeliveryStatus, *, error: str) -> None:
    delivery.status, delivery.last_error = status, error
    delivery.next_attempt_at = delivery.claimed_until = delivery.claim_token = None
    delivery.updated_at = now
