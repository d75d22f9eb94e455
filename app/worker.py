"""The background worker: webhook delivery (claim, send, record, each committed) and periodic retention."""

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app import unit_of_work
from app.config import Settings
from app.db import get_sessionmaker, utcnow
from app.persistence import idempotency
from app.services import delivery, retention

logger = logging.getLogger("app.worker")
Clock = Callable[[], datetime]


async def deliver_due(settings: Settings, *, batch_size: int | None = None, clock: Clock = utcnow) -> int:
    """Claim one batch of due deliveries, send it and record the attempts; how many were sent."""
    async with get_sessionmaker()() as session:
        jobs = await delivery.claim(
            session, settings, now=clock(), limit=batch_size or settings.webhook_batch_size
        )
        await unit_of_work.commit(session)
    if not jobs:
        return 0
    results = await delivery.send_all(settings, jobs)
    async with get_sessionmaker()() as session:
        await delivery.record(session, settings, results, now=clock())
        await unit_of_work.commit(session)
    failed = sum(not r.succeeded for r in results)
    logger.info("sent %d deliveries, %d failed", len(results), failed)
    return len(results)


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
    total, next_maintenance = 0, 0.0
    while not stop.is_set():
        if not once and settings.maintenance_interval_seconds and time.monotonic() >= next_maintenance:
            await _maintain(settings)
            next_maintenance = time.monotonic() + settings.maintenance_interval_seconds
        sent = await (
            deliver_due(settings, batch_size=batch_size) if once else _guarded(settings, batch_size)
        )
        total += sent
        if sent:
            continue
        if once:
            break
        await _sleep(stop, interval)
    return total


async def _guarded(settings: Settings, batch_size: int | None) -> int:
    # A long-running worker outlives a database restart: log, wait, and try again.
    try:
        return await deliver_due(settings, batch_size=batch_size)
    except Exception:
        logger.exception("delivery batch failed; its claims are retried when their lease runs out")
        return 0


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def stop_on_signals(stop: asyncio.Event) -> None:
    """Finish the batch in hand, then exit, on SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
