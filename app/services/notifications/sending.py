"""Sending queued notifications: claim due ones under a lease, send outside any transaction,
record every attempt. The same cycle as webhook deliveries, and as reliable: at least once."""

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import Settings
from app.db import utcnow
from app.models.notification import Notification, NotificationAttempt, NotificationStatus
from app.persistence import retrying
from app.services.notifications import accounts as account_notices
from app.services.notifications.backends import Backend, Outgoing

OPEN = (NotificationStatus.PENDING, NotificationStatus.IN_FLIGHT)


@dataclass(frozen=True, slots=True)
class Job:
    message: Outgoing
    notification_id: uuid.UUID
    claim_token: uuid.UUID
    attempt: int


@dataclass(frozen=True, slots=True)
class Result:
    job: Job
    started_at: datetime
    duration_ms: int
    error: str | None


def lease(settings: Settings) -> timedelta:
    # Longer than any one send can take, so a second worker never sends the same one at once.
    return timedelta(seconds=4 * settings.notify_timeout_seconds)


async def claim(session: AsyncSession, settings: Settings, *, now: datetime, limit: int) -> list[Job]:
    """Mark up to `limit` due notifications in flight under a lease (skipping rows others hold)."""
    query = (
        select(Notification)
        .where(col(Notification.status).in_(OPEN), col(Notification.next_attempt_at) <= now)
        .order_by(col(Notification.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    jobs = []
    for row in (await session.execute(query)).scalars():
        if row.attempt_count >= settings.notify_max_attempts:
            row.status, row.last_error, row.next_attempt_at, row.sealed_link = (
                NotificationStatus.DEAD,
                "abandoned: lease ran out",
                None,
                None,
            )
            continue
        row.status, row.claim_token, row.attempt_count = (
            NotificationStatus.IN_FLIGHT,
            uuid.uuid4(),
            row.attempt_count + 1,
        )
        row.claimed_until = row.next_attempt_at = row.updated_at = now + lease(settings)
        jobs.append(_job(row))
    await session.flush()
    return jobs


def _job(row: Notification) -> Job:
    assert row.claim_token is not None
    body, link = account_notices.unsealed(row)
    message = Outgoing(
        str(row.id),
        row.kind.value,
        row.recipient_email,
        row.subject,
        body,
        row.referral_reference,
        link,
        withheld=link if row.sealed_link is not None else None,
        language=row.language,
    )
    return Job(message, row.id, row.claim_token, row.attempt_count)


async def send_all(
    settings: Settings, backend: Backend, jobs: list[Job], ended: Callable[[Result], None] = lambda _: None
) -> list[Result]:
    """Send a batch concurrently; every job yields a result, failures included, handed to `ended`
    as soon as it is in (so that it can be recorded before the others end)."""

    async def one(job: Job) -> Result:
        result = await send(settings, backend, job)
        ended(result)
        return result

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def send(settings: Settings, backend: Backend, job: Job) -> Result:
    started, clock, error = utcnow(), time.monotonic(), None
    try:
        async with asyncio.timeout(settings.notify_timeout_seconds):
            await backend.send(job.message)
    except TimeoutError:
        error = "timed out"
    except Exception as exc:  # any failure of the backend is a failed attempt, retried later
        error = f"{type(exc).__name__}: {exc}"[:300]
    return Result(job, started, round((time.monotonic() - clock) * 1000), error)


async def record(session: AsyncSession, settings: Settings, results: list[Result], *, now: datetime) -> None:
    """Keep every attempt and move each notification on: sent, retried later, or dead."""
    for result in results:
        session.add(
            NotificationAttempt(
                notification_id=result.job.notification_id,
                started_at=result.started_at,
                duration_ms=result.duration_ms,
                error=result.error,
            )
        )
        # Only while this worker's claim stands: a re-claimed row is not overwritten late.
        await session.execute(
            update(Notification)
            .where(
                col(Notification.id) == result.job.notification_id,
                col(Notification.claim_token) == result.job.claim_token,
            )
            .values(**_next_state(settings, result, now))
        )
    await session.flush()


def _next_state(settings: Settings, result: Result, now: datetime) -> dict[str, object]:
    state = {"last_error": result.error, **retrying.released(now)}
    # A sealed link is kept only while it may still be sent.
    if result.error is None:
        return state | {
            "status": NotificationStatus.SENT,
            "next_attempt_at": None,
            "sent_at": now,
            "sealed_link": None,
        }
    if result.job.attempt >= settings.notify_max_attempts:
        return state | {"status": NotificationStatus.DEAD, "next_attempt_at": None, "sealed_link": None}
    delay = retrying.backoff(
        settings.notify_retry_base_seconds, settings.notify_retry_max_seconds, result.job.attempt
    )
    return state | {"status": NotificationStatus.PENDING, "next_attempt_at": now + delay}
