"""The background worker: webhook deliveries and notifications (claim, send, record, each
committed), the daily digests, and periodic retention."""

import asyncio
import contextlib
import functools
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app import unit_of_work
from app.config import Settings
from app.db import get_sessionmaker, utcnow
from app.persistence import idempotency
from app.services import delivery, retention
from app.services.notifications import digests, sending
from app.services.notifications.backends import Backend, backend_for

logger = logging.getLogger("app.worker")
Clock = Callable[[], datetime]


J = TypeVar("J")
R = TypeVar("R")


async def _cycle(
    claim: Callable[[AsyncSession, datetime], Awaitable[list[J]]],
    send: Callable[[list[J]], Awaitable[list[R]]],
    record: Callable[[AsyncSession, list[R], datetime], Awaitable[None]],
    clock: Clock,
) -> list[R]:
    """Claim a batch in one transaction, send it outside any, record the attempts in another."""
    async with get_sessionmaker()() as session:
        jobs = await claim(session, clock())
        await unit_of_work.commit(session)
    if not jobs:
        return []
    results = await send(jobs)
    async with get_sessionmaker()() as session:
        await record(session, results, clock())
        await unit_of_work.commit(session)
    return results


async def deliver_due(settings: Settings, *, batch_size: int | None = None, clock: Clock = utcnow) -> int:
    """Claim one batch of due deliveries, send it and record the attempts; how many were sent."""
    limit = batch_size or settings.webhook_batch_size
    results = await _cycle(
        lambda session, now: delivery.claim(session, settings, now=now, limit=limit),
        lambda jobs: delivery.send_all(settings, jobs),
        lambda session, done, now: delivery.record(session, settings, done, now=now),
        clock,
    )
    if results:
        logger.info("sent %d deliveries, %d failed", len(results), sum(not r.succeeded for r in results))
    return len(results)


async def notify_due(
    settings: Settings,
    *,
    batch_size: int | None = None,
    clock: Clock = utcnow,
    backend: Backend | None = None,
) -> int:
    """Claim one batch of due notifications, send it and record the attempts; how many were tried."""
    limit, through = batch_size or settings.notify_batch_size, backend or backend_for(settings)
    results = await _cycle(
        lambda session, now: sending.claim(session, settings, now=now, limit=limit),
        lambda jobs: sending.send_all(settings, through, jobs),
        lambda session, done, now: sending.record(session, settings, done, now=now),
        clock,
    )
    if results:
        logger.info(
            "sent %d notifications, %d failed", len(results), sum(r.error is not None for r in results)
        )
    return len(results)


class Daily:
    """Makes the day's digests once the digest hour has come, once a day per process."""

    def __init__(self, settings: Settings, clock: Clock = utcnow) -> None:
        self.hour, self.clock = settings.notify_digest_hour, clock
        self.done_on: date | None = None

    async def run_if_due(self) -> int:
        now = self.clock()
        if self.done_on == now.date() or now.hour < self.hour:
            return 0
        made = await unit_of_work.committed(lambda session: digests.make_all(session, now))
        self.done_on = now.date()
        return made


@dataclass(frozen=True, slots=True)
class RetentionResult:
    anonymised: int
    idempotency_keys_purged: int
    closed_before: datetime


async def retention_pass(settings: Settings, *, batch_size: int = 500) -> RetentionResult:
    """Anonymise everyone past the retention period, batch by batch, then purge old idempotency keys."""
    closed_before = retention.cutoff(settings.retention_days)
    anonymised = 0
    while done := await unit_of_work.committed(
        lambda s: retention.anonymise_batch(s, closed_before, batch_size)
    ):
        anonymised += done
    purged = await unit_of_work.committed(idempotency.purge_expired)
    return RetentionResult(anonymised, purged, closed_before)


async def _maintain(settings: Settings) -> None:
    # Like delivery, maintenance must not bring the worker down with a passing database fault.
    try:
        result = await retention_pass(settings)
        logger.info(
            "retention: %d anonymised, %d idempotency keys purged",
            result.anonymised,
            result.idempotency_keys_purged,
        )
    except Exception:
        logger.exception("retention pass failed; it runs again at the next interval")


async def run(
    settings: Settings,
    *,
    once: bool,
    batch_size: int | None = None,
    poll_interval: float | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Deliver until stopped, or with `once` until nothing is due; the number of attempts made."""
    stop = stop or asyncio.Event()
    interval = settings.webhook_poll_interval_seconds if poll_interval is None else poll_interval
    total, next_maintenance, daily = 0, 0.0, Daily(settings)
    while not stop.is_set():
        if not once and settings.maintenance_interval_seconds and time.monotonic() >= next_maintenance:
            await _maintain(settings)
            next_maintenance = time.monotonic() + settings.maintenance_interval_seconds
        if not once:
            await _guarded(daily.run_if_due, "daily digests")
        sent = await _send_due(settings, batch_size, once)
        total += sent
        if sent:
            continue
        if once:
            break
        await _sleep(stop, interval)
    return total


async def _send_due(settings: Settings, batch_size: int | None, once: bool) -> int:
    """One batch of webhook deliveries and one of notifications; how many were tried."""
    sent = 0
    for step in (deliver_due, notify_due):
        work = functools.partial(step, settings, batch_size=batch_size)
        sent += await (work() if once else _guarded(work, f"{step.__name__} batch"))
    return sent


async def _guarded(work: Callable[[], Awaitable[int]], what: str) -> int:
    # A long-running worker outlives a database restart: log, wait, and try again (a batch's
    # claims are retried when their lease runs out).
    try:
        return await work()
    except Exception:
        logger.exception("%s failed; it is tried again", what)
        return 0


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def stop_on_signals(stop: asyncio.Event) -> None:
    """Finish the batch in hand, then exit, on SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
