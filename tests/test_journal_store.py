"""On PostgreSQL each journal is written after the end the process expects, checked under lock."""

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_sessionmaker
from app.models.webhooks import WebhookDelivery, WebhookSubscription
from app.services import audit, events, journal, journal_store
from app.services.audit import ChainEnd
from app.unit_of_work import committed
from tests.factories import SYSTEM, make_agency, record_events

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the compare-and-set write is the PostgreSQL path",
)


async def assert_chain_is(count: int) -> None:
    async with get_sessionmaker()() as session:
        verification = await audit.verify_chain(session)
    assert verification.valid
    assert verification.events_checked == count


def count_head_reads(monkeypatch: pytest.MonkeyPatch) -> list[ChainEnd]:
    reads: list[ChainEnd] = []
    locking: Callable[[AsyncSession], Awaitable[ChainEnd]] = audit.lock_chain

    async def counted(session: AsyncSession) -> ChainEnd:
        reads.append(await locking(session))
        return reads[-1]

    monkeypatch.setattr(audit, "lock_chain", counted)
    return reads


async def test_the_head_this_process_left_is_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    await record_events(2)
    reads = count_head_reads(monkeypatch)

    await record_events(3)

    assert reads == []
    await assert_chain_is(5)


async def test_a_head_moved_elsewhere_is_read_under_lock_and_followed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await record_events(1)
    stale = journal_store._known_head().end
    await record_events(2)  # as another process would: this one's memory is wound back below
    journal_store._known_head().end = stale
    reads = count_head_reads(monkeypatch)

    await record_events(1)

    assert [r.seq for r in reads] == [3]
    await assert_chain_is(4)


async def test_a_writer_kept_from_the_process_lock_uses_the_row_lock_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await record_events(1)
    monkeypatch.setattr(journal_store, "PROCESS_LOCK_WAIT_SECONDS", 0.05)
    known = journal_store._known_head()
    await known.lock.acquire()  # held, as by a writer waiting for a row lock of this one
    try:
        await record_events(2)
    finally:
        known.lock.release()

    await assert_chain_is(3)
    await record_events(1)
    await assert_chain_is(4)


async def test_after_a_failed_commit_the_head_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    await record_events(1)
    committing = AsyncSession.commit

    async def failing(session: AsyncSession) -> None:
        await session.rollback()
        raise ConnectionError("the database went away at commit")

    monkeypatch.setattr(AsyncSession, "commit", failing)
    with pytest.raises(ConnectionError):
        await record_events(2)
    monkeypatch.setattr(AsyncSession, "commit", committing)
    reads = count_head_reads(monkeypatch)

    await record_events(1)

    assert [r.seq for r in reads] == [1]
    await assert_chain_is(2)


def hold_first_commit(
    monkeypatch: pytest.MonkeyPatch, release: asyncio.Event, *, fail: bool
) -> asyncio.Event:
    """The next commit waits, holding its row locks, until `release` (then fails if asked).

    Returns an event set once that commit has been reached.
    """
    reached, committing = asyncio.Event(), AsyncSession.commit

    async def held(session: AsyncSession) -> None:
        if not reached.is_set():
            reached.set()
            await release.wait()
            if fail:
                await session.rollback()
                raise ConnectionError("the database went away at commit")
        await committing(session)

    monkeypatch.setattr(AsyncSession, "commit", held)
    return reached


async def writer_held_at_commit(
    monkeypatch: pytest.MonkeyPatch, *, fail: bool
) -> tuple[asyncio.Event, "asyncio.Task[None]", list[ChainEnd]]:
    """After one event, a writer of two held at its commit: its release, its task, the head reads since."""
    await record_events(1)
    release = asyncio.Event()
    reached = hold_first_commit(monkeypatch, release, fail=fail)
    held = asyncio.create_task(record_events(2))
    await reached.wait()
    return release, held, count_head_reads(monkeypatch)


async def test_concurrent_writers_chain_after_each_other_without_reading_the_head(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await asyncio.gather(*(record_events(1) for _ in range(12)))  # connections ready, statements prepared
    await record_events(1)
    reads = count_head_reads(monkeypatch)

    await asyncio.gather(*(record_events(2) for _ in range(12)))

    assert reads == []
    await assert_chain_is(37)


async def test_a_writer_chained_after_one_whose_commit_failed_reads_the_head_and_follows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release, failing, reads = await writer_held_at_commit(monkeypatch, fail=True)

    following = asyncio.create_task(record_events(1))  # chained after the held journal
    await asyncio.sleep(0.2)  # its statement now waits in PostgreSQL for the held row lock
    release.set()
    await following
    with pytest.raises(ConnectionError):
        await failing

    assert [r.seq for r in reads] == [1]
    await assert_chain_is(2)


async def subscribe(agency_id: uuid.UUID) -> None:
    async def work(session: AsyncSession) -> None:
        session.add(WebhookSubscription(agency_id=agency_id, url="https://partner.example/hook", secret="s"))
        journal.fence(session)
        audit.record(session, SYSTEM, "webhook.created", "webhook_subscription", None)

    await committed(work)


async def notify(agency_id: uuid.UUID) -> None:
    async def work(session: AsyncSession) -> None:
        events.emit(
            session,
            "referral.created",
            referral_id=None,
            status=None,
            from_agency_id=agency_id,
            to_agency_id=None,
        )

    await committed(work)


async def test_an_event_written_after_a_new_subscription_waits_for_its_commit_and_reaches_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agency = await make_agency()
    await record_events(1)
    release = asyncio.Event()
    reached = hold_first_commit(monkeypatch, release, fail=False)
    subscribing = asyncio.create_task(subscribe(agency.id))
    await reached.wait()

    notifying = asyncio.create_task(notify(agency.id))
    await asyncio.sleep(0.2)
    assert not notifying.done()  # its journal waits for the subscription's commit
    release.set()
    await asyncio.gather(subscribing, notifying)

    async with get_sessionmaker()() as session:
        deliveries = (await session.execute(select(WebhookDelivery))).scalars().all()
    assert [d.event_type for d in deliveries] == ["referral.created"]


async def test_a_writer_after_an_uncommitted_one_waits_for_that_commit_instead_of_reading_the_head(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release, first, reads = await writer_held_at_commit(monkeypatch, fail=False)

    second = asyncio.create_task(record_events(1))
    await asyncio.sleep(0.2)
    assert not second.done()  # its statement waits in PostgreSQL for the first commit
    release.set()
    await asyncio.gather(first, second)

    assert reads == []
    await assert_chain_is(4)
