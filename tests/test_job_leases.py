"""Periodic jobs: of all the workers running, one makes each pass; a dead holder delays it only a while."""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from app import worker
from app.config import get_settings
from app.connection_budget import WORKER_CONNECTIONS
from app.db import get_engine, get_sessionmaker, utcnow
from app.models.job_lease import JobLease
from app.periodic import RETRY_AFTER, Periodic, Periodics, every
from app.services import job_leases
from tests.support.factories import make_agency
from tests.support.webhook_support import allow_loopback, emit_event, running_receiver, subscribe

LEASE = timedelta(minutes=5)


class Passes:
    """A job that counts its passes (and fails when told to)."""

    def __init__(self) -> None:
        self.made, self.fail = 0, False

    async def run(self) -> int:
        self.made += 1
        await asyncio.sleep(0.05)  # long enough for a second worker to ask meanwhile
        if self.fail:
            raise RuntimeError("the pass failed")
        return 1

    def job(self, interval: float = 3600) -> Periodic:
        return Periodic("counted", self.run, *every(interval), LEASE)


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


async def lease_row(name: str = "counted") -> JobLease:
    async with get_sessionmaker()() as session:
        found = await session.get(JobLease, name)
        assert found is not None
        return found


async def test_of_two_workers_asking_at_once_one_makes_the_pass() -> None:
    passes, now = Passes(), utcnow()
    first, second = Periodics([passes.job()], at(now)), Periodics([passes.job()], at(now))

    made = await asyncio.gather(first.run_due(passes.job()), second.run_due(passes.job()))

    assert sorted(made) == [0, 1]
    assert passes.made == 1
    row = await lease_row()
    assert row.leased_until is None
    assert row.due_at == now + timedelta(hours=1)


async def test_the_next_pass_waits_for_its_interval_whoever_asks() -> None:
    passes, now = Passes(), utcnow()
    await Periodics([passes.job()], at(now)).run_due(passes.job())

    assert await Periodics([passes.job()], at(now + timedelta(minutes=59))).run_due(passes.job()) == 0
    assert await Periodics([passes.job()], at(now + timedelta(minutes=61))).run_due(passes.job()) == 1
    assert passes.made == 2


async def test_a_lease_whose_holder_died_is_taken_once_it_runs_out() -> None:
    passes, now = Passes(), utcnow()
    dead = job_leases.holder_name()
    async with get_sessionmaker()() as session:
        taken = await job_leases.take(session, "counted", dead, now=now, lease=LEASE, first_due=now)
        await session.commit()
    assert taken.taken

    assert await Periodics([passes.job()], at(now + LEASE - timedelta(seconds=1))).run_due(passes.job()) == 0
    assert await Periodics([passes.job()], at(now + LEASE)).run_due(passes.job()) == 1


async def test_a_late_holder_finishing_does_not_move_the_next_holders_pass() -> None:
    now, first, second = utcnow(), job_leases.holder_name(), job_leases.holder_name()
    async with get_sessionmaker()() as session:
        await job_leases.take(session, "counted", first, now=now, lease=LEASE, first_due=now)
        later = now + LEASE
        await job_leases.take(session, "counted", second, now=later, lease=LEASE, first_due=now)
        await job_leases.finish(session, "counted", first, now=later, next_due=later + timedelta(days=9))
        await session.commit()

    row = await lease_row()
    assert (row.holder, row.leased_until, row.due_at) == (second, later + LEASE, now)


async def test_a_failed_pass_lets_the_lease_go_and_is_tried_again_later() -> None:
    passes, now = Passes(), utcnow()
    passes.fail = True

    with pytest.raises(RuntimeError):
        await Periodics([passes.job()], at(now)).run_due(passes.job())

    row = await lease_row()
    assert (row.holder, row.leased_until, row.due_at) == (None, None, now + RETRY_AFTER)
    passes.fail = False
    assert await Periodics([passes.job()], at(now + RETRY_AFTER)).run_due(passes.job()) == 1


async def test_a_worker_asks_the_database_only_once_a_pass_could_be_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passes, moments, asked = Passes(), [utcnow()], []
    take = job_leases.take

    async def counted(*args: Any, **kwargs: Any) -> job_leases.Turn:
        asked.append(kwargs["now"])
        return await take(*args, **kwargs)

    monkeypatch.setattr(job_leases, "take", counted)
    periodics = Periodics([passes.job(interval=60)], lambda: moments[-1])
    for seconds in (0, 1, 30, 59, 60):
        moments.append(moments[0] + timedelta(seconds=seconds))
        await periodics.run_due(passes.job(interval=60))

    assert passes.made == 2
    assert len(asked) == 2


async def test_two_long_running_workers_make_one_retention_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    passes = Passes()

    async def retention(_settings: object) -> int:
        return await passes.run()

    monkeypatch.setattr(worker, "_maintain", retention)
    stop = asyncio.Event()
    settings = get_settings().model_copy(update={"maintenance_interval_seconds": 3600})
    running = [
        asyncio.create_task(worker.run(settings, once=False, poll_interval=0.02, stop=stop)) for _ in "ab"
    ]
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*running)

    assert passes.made == 1
    assert (await lease_row("retention")).last_finished_at is not None


async def test_a_worker_holds_no_more_connections_than_the_budget_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What app/connection_budget.py counts for each worker process: sealing and sending at once,
    # here with events to seal, deliveries to send and record, and every periodic job due.
    settings = allow_loopback(monkeypatch)
    agency, partner = await make_agency(), await make_agency()
    most = [0]
    with running_receiver(delay=0.05) as receiver, counting_checkouts(most):
        await subscribe(settings, agency, receiver.url)
        for _ in range(25):
            await emit_event(agency, partner, sequence=False)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(settings, once=False, poll_interval=0.01, stop=stop))
        while len(receiver.delivered_ids()) < 25:  # noqa: ASYNC110 (another thread receives)
            await asyncio.sleep(0.05)
        stop.set()
        await running

    assert 2 <= most[0] <= WORKER_CONNECTIONS


@contextmanager
def counting_checkouts(most: list[int]) -> Iterator[None]:
    """Keep in `most[0]` the most connections checked out of the pool at once."""
    held, pool = [0], get_engine().sync_engine

    def checkout(*_: object) -> None:
        held[0] += 1
        most[0] = max(most[0], held[0])

    def checkin(*_: object) -> None:
        held[0] -= 1

    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    try:
        yield
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)
