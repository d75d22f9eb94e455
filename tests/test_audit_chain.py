"""Recomputing the hash chain finds the first event that is not what was written."""

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_sessionmaker
from app.models.audit import GENESIS_HASH, AuditEvent, ChainProblem, ChainVerification
from app.services import audit
from app.unit_of_work import committed
from tests.factories import record_events
from tests.tampering import rewrite_with_valid_hash, tamper

# Small batches, so every case also crosses batch boundaries.
BATCH = 3


async def verify(batch_size: int = BATCH) -> ChainVerification:
    async with get_sessionmaker()() as session:
        return await audit.verify_chain(session, batch_size=batch_size)


async def test_an_empty_chain_is_valid() -> None:
    result = await verify()
    assert result.valid
    assert result.events_checked == 0
    assert (result.head.seq, result.head.hash) == (0, GENESIS_HASH)


@pytest.mark.parametrize("batch_size", [1, BATCH, 1000])
async def test_an_untouched_chain_is_valid_whatever_the_batch_size(batch_size: int) -> None:
    await record_events(4)
    await record_events(6)

    result = await verify(batch_size)

    assert result.valid, result
    assert result.events_checked == 10
    assert result.head.seq == 10
    assert result.first_invalid_seq is None
    assert result.problem is None


@pytest.mark.parametrize("seq", [1, 5, 10])
async def test_a_changed_event_is_named(seq: int) -> None:
    await record_events(10)
    await tamper("UPDATE audit_events SET entity_id = 'changed' WHERE seq = :s", s=seq)

    result = await verify()

    assert not result.valid
    assert (result.first_invalid_seq, result.problem) == (seq, ChainProblem.HASH_MISMATCH)
    assert result.events_checked == seq


async def test_a_rehashed_event_breaks_the_link_to_the_next() -> None:
    await record_events(8)
    await rewrite_with_valid_hash(4, "agency.deleted")

    result = await verify()

    assert (result.first_invalid_seq, result.problem) == (5, ChainProblem.BROKEN_LINK)


async def test_a_removed_event_leaves_a_gap() -> None:
    await record_events(8)
    await tamper("DELETE FROM audit_events WHERE seq = 6")

    result = await verify()

    assert (result.first_invalid_seq, result.problem) == (6, ChainProblem.SEQUENCE_GAP)


@pytest.mark.parametrize("removed", [1, 3])
async def test_a_removed_tail_disagrees_with_the_head(removed: int) -> None:
    await record_events(7)
    await tamper("DELETE FROM audit_events WHERE seq > :s", s=7 - removed)

    result = await verify()

    assert not result.valid
    assert (result.first_invalid_seq, result.problem) == (8 - removed, ChainProblem.HEAD_MISMATCH)
    assert result.events_checked == 7 - removed
    assert result.head.seq == 7


async def test_an_event_added_past_the_head_is_found() -> None:
    await record_events(3)
    async with get_sessionmaker()() as session:
        last = await session.get(AuditEvent, 3)
        assert last is not None
        extra = AuditEvent.model_validate(last.model_dump() | {"seq": 4, "prev_hash": last.hash})
    extra.hash = audit.compute_hash(extra)

    async def insert(session: AsyncSession) -> None:
        session.add(extra)

    await committed(insert)

    result = await verify()

    assert (result.first_invalid_seq, result.problem) == (4, ChainProblem.HEAD_MISMATCH)


async def test_a_rewritten_head_is_found() -> None:
    await record_events(3)
    await tamper("UPDATE audit_chain_head SET hash = :h", h="f" * 64)

    result = await verify()

    assert (result.first_invalid_seq, result.problem) == (3, ChainProblem.HEAD_MISMATCH)


async def test_a_rewritten_head_of_an_empty_chain_is_found() -> None:
    await tamper("UPDATE audit_chain_head SET hash = :h", h="f" * 64)

    result = await verify()

    assert not result.valid
    assert (result.first_invalid_seq, result.problem) == (0, ChainProblem.HEAD_MISMATCH)


async def test_a_removed_head_row_is_reported_not_raised() -> None:
    await record_events(2)
    await tamper("DELETE FROM audit_chain_head")

    result = await verify()

    assert (result.head.seq, result.head.hash) == (0, "")
    assert (result.first_invalid_seq, result.problem) == (1, ChainProblem.HEAD_MISMATCH)
