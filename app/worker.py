"""The background worker: sealing the audit log, webhook deliveries and notifications (claim a small
batch, send it, record each attempt as it ends), the daily digests, follow-ups falling due,
periodic retention, and the daily re-import of the directories named in DIRECTORY_SOURCES."""

import asyncio
import functools
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app import unit_of_work
from app.config import Settings
from app.db import get_sessionmaker, utcnow
from app.journal import keys, sequencer
from app.openreferral import refresh as directory_refresh
from app.periodic import Periodic, Periodics, daily_from, every
from app.persistence import idempotency

# Importing delivery imports webhooks, which registers its fan-out with the sequencer.
from app.services import delivery, follow_ups, retention
from app.services.notifications import digests, sending
from app.services.notifications.backends import Backend, backend_for

logger = logging.getLogger("app.worker")
Clock = Callable[[], datetime]


J = TypeVar("J")
R = TypeVar("R")


async def _cycle(
    claim: Callable[[AsyncSession, datetime], Awaitable[list[J]]],
    send: Callable[[list[J], Callable[[R], None]], Awaitable[list[R]]],
    record: Callable[[AsyncSession, list[R], datetime], Awaitable[None]],
    clock: Clock,
) -> list[R]:
    """Claim a batch in one transaction, send it outside any, and record each attempt as it ends.

    A worker that dies mid-batch leaves only the attempts not yet recorded to be made again when
    their lease runs out: those in flight, not the whole batch.
    """
    async with get_sessionmaker()() as session:
        jobs = await claim(session, clock())
        await unit_of_work.commit(session)
    if not jobs:
        return []
    ended: asyncio.Queue[R] = asyncio.Queue()
    recording = asyncio.create_task(_record_as_they_end(ended, len(jobs), record, clock))
    try:
        await send(jobs, ended.put_nowait)
    except BaseException:
        recording.cancel()
        raise
    # A failure to record (the database gone) is raised here, once the sends have ended.
    return await recording


async def _record_as_they_end(
    ended: "asyncio.Queue[R]",
    count: int,
    record: Callable[[AsyncSession, list[R], datetime], Awaitable[None]],
    clock: Clock,
) -> list[R]:
    """Record results as they arrive, those that arrived together in one transaction, until `count`.

    One connection at a time, however many sends end at once.
    """
    recorded: list[R] = []
    while len(recorded) < count:
        results = [await ended.get()]
        while not ended.empty():
            results.append(ended.get_nowait())
        async with get_sessionmaker()() as session:
            await record(session, results, clock())
            await unit_of_work.commit(session)
        recorded += results
    return recorded


async def deliver_due(settings: Settings, *, batch_size: int | None = None, clock: Clock = utcnow) -> int:
    """Claim one batch of due deliveries, send it and record the attempts; how many were sent."""
    limit = batch_size or settings.webhook_batch_size
    results = await _cycle(
        lambda session, now: delivery.claim(session, settings, now=now, limit=limit),
        lambda jobs, ended: delivery.send_all(settings, jobs, ended),
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
        lambda jobs, ended: sending.send_all(settings, through, jobs, ended),
        lambda session, done, now: sending.record(session, settings, done, now=now),
        clock,
    )
    if results:
        logger.info(
            "sent %d notifications, %d failed", len(results), sum(r.error is not None for r in results)
        )
    return len(results)


async def seal_pending(settings: Settings, *, wait: bool = False) -> sequencer.Batch | None:
    """Seal what is committed, a batch per transaction; the last batch (None: another sequencer is at it)."""
    signer, limit = keys.signer(settings), settings.audit_seal_batch_size

    async def one_batch(session: AsyncSession) -> sequencer.Batch | None:
        return await sequencer.seal_batch(session, signer, settings.audit_log_origin, limit=limit, wait=wait)

    while True:
        batch = await unit_of_work.committed(one_batch)
        if batch is None or (batch.sealed < limit and batch.positioned < limit):
            return batch


async def _seal_every(settings: Settings, stop: asyncio.Event, sealed: asyncio.Event) -> None:
    """Seal every AUDIT_SEAL_INTERVAL_SECONDS until stopped; set `sealed` when events reached the feed."""
    while not stop.is_set():
        try:
            batch = await seal_pending(settings)
        except Exception:
            logger.exception("sealing failed; it is tried again at the next interval")
            batch = None
        if batch and batch.positioned:
            sealed.set()
        await _sleep(stop, settings.audit_seal_interval_seconds)


async def make_digests(clock: Clock = utcnow) -> int:
    """Make the day's digests (held notifications, overdue referrals); how many."""
    now = clock()
    return await unit_of_work.committed(lambda session: digests.make_all(session, now))


async def announce_follow_ups(clock: Clock = utcnow) -> int:
    """Announce the follow-ups due by today (events and notifications to their agencies); how many."""
    announced = await unit_of_work.committed(lambda s: follow_ups.announce_due(s, clock().date()))
    if announced:
        logger.info("announced %d follow-ups falling due", announced)
    return announced


# How long each pass may hold its job before another worker takes it as abandoned: well beyond
# what a pass takes (seconds for the digests and announcements; retention goes in batches of 500).
DIGEST_LEASE = timedelta(minutes=10)
ANNOUNCEMENT_LEASE = timedelta(minutes=2)
RETENTION_LEASE = timedelta(minutes=30)


def periodic_jobs(settings: Settings, clock: Clock = utcnow) -> list[Periodic]:
    """The passes one worker of them all makes at a time: digests, announcements and retention."""
    jobs = [
        Periodic(
            "daily_digests",
            lambda: make_digests(clock),
            *daily_from(settings.notify_digest_hour),
            DIGEST_LEASE,
        ),
        Periodic(
            "follow_up_announcements",
            lambda: announce_follow_ups(clock),
            *every(settings.follow_up_announce_interval_seconds),
            ANNOUNCEMENT_LEASE,
        ),
    ]
    if settings.maintenance_interval_seconds:
        jobs.append(
            Periodic(
                "retention",
                lambda: _maintain(settings),
                *every(settings.maintenance_interval_seconds),
                RETENTION_LEASE,
            )
        )
    return jobs


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


async def _maintain(settings: Settings) -> int:
    # A failure is raised to the periodic runner, which logs it and lets the lease go.
    result = await retention_pass(settings)
    logger.info(
        "retention: %d anonymised, %d idempotency keys purged",
        result.anonymised,
        result.idempotency_keys_purged,
    )
    return result.anonymised + result.idempotency_keys_purged


async def run(
    settings: Settings,
    *,
    once: bool,
    batch_size: int | None = None,
    poll_interval: float | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Seal and send until stopped, or with `once` seal what is committed and send what is due.

    Returns the number of delivery and notification attempts made.
    """
    stop = stop or asyncio.Event()
    interval = settings.webhook_poll_interval_seconds if poll_interval is None else poll_interval
    if once:
        await announce_follow_ups()
        await refresh_directories(settings)
        await seal_pending(settings, wait=True)
        return await _send_until_idle(settings, batch_size)
    sealed = asyncio.Event()
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(_seal_every(settings, stop, sealed))
        tasks.create_task(_refresh_every(settings, stop))
        sending = tasks.create_task(_send_until_stopped(settings, batch_size, interval, stop, sealed))
    return sending.result()


# How often a running worker asks whether the day's directory re-import is due, and how long one
# pass may hold it. An import reads other services over the network, for minutes at most, so it
# runs beside deliveries rather than in their loop.
DIRECTORY_CHECK_SECONDS = 300.0
DIRECTORY_LEASE = timedelta(hours=1)


async def refresh_directories(settings: Settings) -> int:
    """Re-import the configured directories not yet taken today; how many were tried."""
    return len(await directory_refresh.refresh_due(settings)) if settings.directory_sources else 0


def directory_job(settings: Settings) -> Periodic:
    """The daily re-import, made by one worker of them all (each source is also taken for the
    day on its own, so a pass that outlives its lease imports nothing twice)."""
    return Periodic(
        "directory_refresh",
        functools.partial(refresh_directories, settings),
        *daily_from(settings.directory_refresh_hour),
        DIRECTORY_LEASE,
    )


async def _refresh_every(settings: Settings, stop: asyncio.Event) -> None:
    if not settings.directory_sources:
        return
    periodics = Periodics([directory_job(settings)])
    while not stop.is_set():
        await _guarded(functools.partial(periodics.run_due, periodics.jobs[0]), "directory refresh")
        await _sleep(stop, DIRECTORY_CHECK_SECONDS)


async def _send_until_idle(settings: Settings, batch_size: int | None) -> int:
    total = 0
    while sent := await _send_due(settings, batch_size, once=True):
        total += sent
    return total


async def _send_until_stopped(
    settings: Settings, batch_size: int | None, interval: float, stop: asyncio.Event, sealed: asyncio.Event
) -> int:
    """Send as work falls due, resting `interval` when idle unless the sequencer queues deliveries."""
    total, periodics = 0, Periodics(periodic_jobs(settings))
    while not stop.is_set():
        for job in periodics.jobs:
            await _guarded(functools.partial(periodics.run_due, job), job.name.replace("_", " "))
        sent = await _send_due(settings, batch_size, once=False)
        total += sent
        if not sent:
            await _sleep(stop, interval, sealed)
            sealed.clear()
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


async def _sleep(stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> None:
    """Rest `seconds`, or until stopped or woken."""
    waits = [asyncio.ensure_future(event.wait()) for event in (stop, wake) if event is not None]
    _, pending = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for waiting in pending:
        waiting.cancel()


def stop_on_signals(stop: asyncio.Event) -> None:
    """Finish the batch in hand, then exit, on SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
