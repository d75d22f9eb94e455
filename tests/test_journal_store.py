"""On PostgreSQL the journal is written after the head the process remembers, checked under lock."""

import os
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_sessionmaker
from app.services import audit, journal_store
from app.services.audit import ChainEnd
from tests.factories import record_events

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
