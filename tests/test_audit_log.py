"""Recomputing the log finds what was changed behind the service's back, naming the first bad leaf."""

import base64

import pytest
from sqlalchemy import select
from sqlmodel import col

from app.config import get_settings
from app.db import get_sessionmaker
from app.journal import keys, notes, verify
from app.models.audit import AuditCheckpoint, LogProblem, LogVerification
from app.services import audit
from tests.support import rfc9162
from tests.support.factories import record_events, seal
from tests.support.tampering import forge_log, rehash_leaf, swap_leaves, tamper

# Small batches, so every case also crosses batch boundaries.
BATCH = 3


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify, "BATCH_SIZE", BATCH)


async def check(kept: str | None = None) -> LogVerification:
    async with get_sessionmaker()() as session:
        return await audit.verify_log(session, get_settings(), kept)


async def sealed_log(*commits: int) -> None:
    """Events committed and sealed in the given groups (a checkpoint after each)."""
    for count in commits:
        await record_events(count)
        await seal()


async def latest_note() -> str:
    async with get_sessionmaker()() as session:
        return await audit.latest_checkpoint(session)


def bad(result: LogVerification) -> tuple[LogProblem | None, int | None]:
    assert not result.valid
    return result.problem, result.first_invalid_seq


async def test_an_empty_log_is_valid_before_and_after_its_first_checkpoint() -> None:
    before = await check()
    await seal()
    after = await check()

    for result in (before, after):
        assert result.valid
        assert (result.events_checked, result.tree_size, result.unsealed) == (0, 0, 0)
        assert result.root_hash == base64.b64encode(rfc9162.sha256(b"")).decode()


@pytest.mark.parametrize("batch_size", [1, BATCH, 1000])
async def test_an_untouched_log_is_valid_whatever_the_batch_size(
    monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    monkeypatch.setattr(verify, "BATCH_SIZE", batch_size)
    await sealed_log(4, 6)
    await record_events(2)  # committed, not yet sealed

    result = await check()

    assert result.valid, result
    assert (result.events_checked, result.tree_size, result.unsealed) == (10, 10, 2)
    assert (result.first_invalid_seq, result.problem, result.detail) == (None, None, None)


@pytest.mark.parametrize("seq", [0, 4, 9])
async def test_a_changed_event_is_named(seq: int) -> None:
    await sealed_log(10)
    await tamper("UPDATE audit_events SET entity_id = 'changed' WHERE seq = :s", s=seq)

    result = await check()

    assert bad(result) == (LogProblem.LEAF_CHANGED, seq)
    assert result.events_checked == seq


async def test_an_event_rehashed_to_match_is_named_by_the_stored_tree() -> None:
    await sealed_log(8)
    await rehash_leaf(4, "agency.deleted")

    assert bad(await check()) == (LogProblem.TREE_MISMATCH, 4)


async def test_a_removed_leaf_is_named() -> None:
    await sealed_log(8)
    await tamper("DELETE FROM audit_events WHERE seq = 5")

    assert bad(await check()) == (LogProblem.LEAF_MISSING, 5)


@pytest.mark.parametrize("removed", [1, 3])
async def test_a_removed_tail_is_named(removed: int) -> None:
    await sealed_log(7)
    await tamper("DELETE FROM audit_events WHERE seq >= :s", s=7 - removed)

    result = await check()

    assert bad(result) == (LogProblem.LEAF_MISSING, 7 - removed)
    assert result.tree_size == 7


async def test_a_reordered_pair_is_named() -> None:
    await sealed_log(4, 4)
    await swap_leaves(3, 4)

    assert bad(await check()) == (LogProblem.TREE_MISMATCH, 3)


async def test_a_changed_checkpoint_no_longer_verifies() -> None:
    await sealed_log(3)
    forged = (await latest_note()).replace("\n3\n", "\n2\n")
    await tamper("UPDATE audit_checkpoints SET note = :n WHERE tree_size = 3", n=forged)

    assert bad(await check()) == (LogProblem.BAD_CHECKPOINT, None)


async def test_a_checkpoint_that_disagrees_with_the_leaves_is_found() -> None:
    await sealed_log(2, 3, 1)
    await tamper("UPDATE audit_checkpoints SET root_hash = :r WHERE tree_size = 5", r=b"\x00" * 32)

    result = await check()

    assert bad(result) == (LogProblem.CHECKPOINT_MISMATCH, None)
    assert "size 5" in (result.detail or "")


async def test_the_log_still_extends_a_checkpoint_an_auditor_kept() -> None:
    await sealed_log(5)
    kept = await latest_note()
    await sealed_log(3, 4)

    result = await check(kept)

    assert result.valid, result
    assert result.tree_size == 12


@pytest.mark.parametrize("fresh_key", [False, True])
async def test_a_log_rewritten_and_signed_afresh_fails_against_a_kept_checkpoint(
    monkeypatch: pytest.MonkeyPatch, fresh_key: bool
) -> None:
    await sealed_log(6)
    kept = await latest_note()
    await sealed_log(2)
    signer = notes.new_signer(get_settings().audit_log_origin) if fresh_key else keys.signer(get_settings())
    await forge_log("UPDATE audit_events SET action = 'agency.deleted' WHERE seq = 2", signer)
    if fresh_key:  # the forger also swapped the service's key for theirs
        monkeypatch.setattr(get_settings(), "audit_signing_key", None)
        monkeypatch.setattr(get_settings(), "audit_verifier_key", signer.verifier.text())

    assert (await check()).valid  # consistent in itself: only the kept checkpoint shows the rewrite
    result = await check(kept)

    expected = LogProblem.BAD_CHECKPOINT if fresh_key else LogProblem.KEPT_CHECKPOINT_MISMATCH
    assert bad(result) == (expected, None)


async def test_a_log_cut_back_below_a_kept_checkpoint_is_found() -> None:
    await sealed_log(7, 3)
    kept = await latest_note()
    await tamper(
        "DELETE FROM audit_events WHERE seq >= 7", "DELETE FROM audit_checkpoints WHERE tree_size = 10"
    )

    assert (await check()).valid
    assert bad(await check(kept)) == (LogProblem.KEPT_CHECKPOINT_MISMATCH, 7)


async def test_every_checkpoint_is_kept() -> None:
    await sealed_log(1, 2, 3)
    await seal()  # nothing new: no new checkpoint

    async with get_sessionmaker()() as session:
        sizes = (await session.execute(select(col(AuditCheckpoint.tree_size)))).scalars().all()
    assert sorted(sizes) == [1, 3, 6]
