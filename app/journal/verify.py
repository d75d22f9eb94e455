"""Recomputing the log from its events: every leaf, the tree over them, and the checkpoints signed for
it; stopping at the first fault and naming the leaf when the fault is in one (docs/architecture.md).
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.journal import merkle, proofs, tiles
from app.journal.leaves import LEAF_COLUMNS, fetch_plain, row_leaf_hash
from app.journal.merkle import Frontier
from app.journal.notes import Checkpoint, NoteError, Verifier, open_checkpoint
from app.models.audit import AuditCheckpoint, AuditEvent, LogProblem
from app.persistence.rows import table_of

BATCH_SIZE = 10_000
_EVENTS, _CHECKPOINTS = table_of(AuditEvent), table_of(AuditCheckpoint)


@dataclass(frozen=True, slots=True)
class Finding:
    problem: LogProblem
    seq: int | None
    detail: str


@dataclass
class Walk:
    """How far the recomputation has got, and what it is checking against."""

    size: int
    kept: Checkpoint | None
    frontier: Frontier = field(default_factory=Frontier)
    finding: Finding | None = None

    def fail(self, problem: LogProblem, seq: int | None, detail: str) -> None:
        self.finding = Finding(problem, seq, detail)


@dataclass(frozen=True, slots=True)
class Verdict:
    events_checked: int
    tree_size: int
    root: bytes
    unsealed: int
    finding: Finding | None


async def verify_log(
    session: AsyncSession,
    verifier: Verifier,
    origin: str,
    *,
    kept: Checkpoint | None = None,
    batch_size: int | None = None,
) -> Verdict:
    """Recompute the log up to its latest checkpoint and check it against every checkpoint."""
    latest, walk = await _latest(session, verifier, origin), Walk(0, kept)
    if isinstance(latest, Finding):
        walk.finding = latest
    else:
        walk.size = latest.size if latest else 0
        await _walk(session, walk, batch_size or BATCH_SIZE)
    root = latest.root if isinstance(latest, Checkpoint) else merkle.EMPTY_ROOT
    return Verdict(walk.frontier.size, walk.size, root, await unsealed_count(session), walk.finding)


async def _latest(session: AsyncSession, verifier: Verifier, origin: str) -> Checkpoint | Finding | None:
    """The latest checkpoint, opened with the verifier key; a finding if it does not open."""
    statement = select(_CHECKPOINTS.c.note).order_by(_CHECKPOINTS.c.tree_size.desc()).limit(1)
    note = (await session.execute(statement)).scalar()
    if note is None:
        return None
    try:
        return open_checkpoint(note, verifier, origin)
    except NoteError as exc:
        return Finding(LogProblem.BAD_CHECKPOINT, None, f"the latest checkpoint: {exc}")


async def unsealed_count(session: AsyncSession) -> int:
    statement = select(func.count()).select_from(_EVENTS).where(_EVENTS.c.seq.is_(None))
    return int((await session.execute(statement)).scalar_one())


@dataclass(frozen=True, slots=True)
class _Batch:
    """Leaves read in index order, with the checkpoints they reach and the stored tree's tiles for them."""

    rows: Sequence[Sequence[Any]]
    checkpoints: dict[int, bytes]
    stored: tiles.Tiles

    @property
    def last(self) -> int:
        return int(self.rows[-1][_SEQ]) if self.rows else -1


async def _read(session: AsyncSession, after: int, size: int, batch_size: int) -> _Batch:
    """The next batch of sealed leaves below `size`, after leaf `after`."""
    rows = await fetch_plain(session, _LEAVES, {"after": after, "size": size, "limit": batch_size})
    if not rows:
        return _Batch(rows, {}, {})
    first, last = rows[0][_SEQ], rows[-1][_SEQ]
    return _Batch(
        rows, await _signed_roots(session, first + 1, last + 1), await _leaf_tiles(session, first, last)
    )


async def _walk(session: AsyncSession, walk: Walk, batch_size: int) -> None:
    """Check every leaf in order, reading each batch while the one before is hashed."""
    _check_root(walk, await _signed_roots(session, 0, 0))
    batch = await _read(session, -1, walk.size, batch_size)
    while batch.rows and not walk.finding:
        reading = asyncio.ensure_future(_read(session, batch.last, walk.size, batch_size))
        await asyncio.sleep(0)  # its query is on its way before this batch is hashed
        _check(walk, batch)
        batch = await reading  # the session is used by one task at a time
    if not walk.finding:
        await _finish(session, walk)


def _check(walk: Walk, batch: _Batch) -> None:
    for row in batch.rows:
        if not _step(walk, row, batch.stored):
            return
        _check_root(walk, batch.checkpoints)
        if walk.finding:
            return


# The leaf's columns first, as row_leaf_hash reads them; the leaf index and stored hash after them.
_SEQ, _STORED = len(LEAF_COLUMNS), len(LEAF_COLUMNS) + 1
_LEAVES = (
    select(*(_EVENTS.c[name] for name in LEAF_COLUMNS), _EVENTS.c.seq, _EVENTS.c.leaf_hash)
    .where(_EVENTS.c.seq > bindparam("after"), _EVENTS.c.seq < bindparam("size"))
    .order_by(_EVENTS.c.seq)
    .limit(bindparam("limit"))
)


async def _signed_roots(session: AsyncSession, smallest: int, largest: int) -> dict[int, bytes]:
    """The root hash of each checkpoint with a tree size in [smallest, largest]."""
    sizes = _CHECKPOINTS.c.tree_size.between(smallest, largest)
    found = await session.execute(select(_CHECKPOINTS.c.tree_size, _CHECKPOINTS.c.root_hash).where(sizes))
    return dict(found.all())


async def _leaf_tiles(session: AsyncSession, first: int, last: int) -> tiles.Tiles:
    """The stored tree's tiles of leaves first..last."""
    numbers = range(first // tiles.TILE_WIDTH, last // tiles.TILE_WIDTH + 1)
    return await tiles.read_tiles(session, [(0, n) for n in numbers])


def _step(walk: Walk, row: Sequence[Any], stored: tiles.Tiles) -> bool:
    """Check one leaf against its place, its event and the stored tree; False at a fault."""
    expected, leaf = walk.frontier.size, row_leaf_hash(row)
    if row[_SEQ] != expected:
        walk.fail(LogProblem.LEAF_MISSING, expected, f"leaf {expected} is missing")
    elif leaf != row[_STORED]:
        walk.fail(
            LogProblem.LEAF_CHANGED, expected, f"the event at leaf {expected} no longer hashes to its leaf"
        )
    elif _stored_leaf(stored, expected) != leaf:
        walk.fail(LogProblem.TREE_MISMATCH, expected, f"the stored tree holds another leaf at {expected}")
    else:
        walk.frontier.append(leaf)
    return walk.finding is None


def _stored_leaf(stored: tiles.Tiles, seq: int) -> bytes | None:
    try:
        return tiles.node_in(stored, (0, seq))
    except tiles.MissingNode:
        return None


def _check_root(walk: Walk, checkpoints: dict[int, bytes]) -> None:
    """Compare the root so far with any checkpoint signed at this size, the auditor's kept one included."""
    size, root = walk.frontier.size, walk.frontier.root
    if size in checkpoints and checkpoints[size] != root():
        walk.fail(
            LogProblem.CHECKPOINT_MISMATCH, None, f"the leaves differ from the checkpoint at size {size}"
        )
    elif walk.kept and walk.kept.size == size and walk.kept.root != root():
        walk.fail(
            LogProblem.KEPT_CHECKPOINT_MISMATCH,
            None,
            f"the first {size} leaves differ from the kept checkpoint",
        )


async def _finish(session: AsyncSession, walk: Walk) -> None:
    """After the last leaf: none missing at the end, the stored tree's root, and a kept checkpoint beyond."""
    size = walk.frontier.size
    if size < walk.size:
        walk.fail(LogProblem.LEAF_MISSING, size, f"leaves {size} to {walk.size - 1} are missing")
    elif walk.kept and walk.kept.size > size:
        walk.fail(
            LogProblem.KEPT_CHECKPOINT_MISMATCH,
            size,
            f"the log has {size} leaves, the kept checkpoint {walk.kept.size}",
        )
    elif await _stored_root(session, size) != walk.frontier.root():
        walk.fail(LogProblem.TREE_MISMATCH, None, "the stored tree's root differs from the leaves'")


async def _stored_root(session: AsyncSession, size: int) -> bytes | None:
    try:
        return await proofs.root(session, size)
    except tiles.MissingNode:
        return None
