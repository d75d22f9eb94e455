"""The sequencer: seals committed audit events into the log and gives committed domain events their
feed positions, one batch per transaction, one sequencer at a time (docs/architecture.md).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Column, TextClause, bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.journal import fanout, lock, tiles
from app.journal.leaves import LEAF_COLUMNS, fetch_plain, row_leaf_hash
from app.journal.merkle import Frontier
from app.journal.notes import Checkpoint, Signer
from app.models.audit import AuditCheckpoint, AuditEvent
from app.models.events import DomainEvent
from app.persistence.rows import table_of

_EVENTS, _OUTBOX, _CHECKPOINTS = table_of(AuditEvent), table_of(DomainEvent), table_of(AuditCheckpoint)
_ID = len(LEAF_COLUMNS)


@dataclass(frozen=True, slots=True)
class Batch:
    tree_size: int
    sealed: int
    positioned: int


async def seal_batch(
    session: AsyncSession, signer: Signer, origin: str, *, limit: int, wait: bool = False
) -> Batch | None:
    """Seal and position up to `limit` events each; None when another sequencer holds the lock."""
    if wait:
        await lock.take(session)
    elif not await lock.try_take(session):
        return None
    head = await latest_size(session)
    size = head or 0
    rows = await fetch_plain(session, _UNSEALED, {"limit": limit})
    positioned = await _position_events(session, limit)
    if rows or head is None:
        frontier = await _append(session, size, rows)
        await _publish(session, signer, Checkpoint(origin, frontier.size, frontier.root()))
    return Batch(size + len(rows), len(rows), positioned)


# The leaf's columns first, as row_leaf_hash reads them; the id after them.
_UNSEALED = (
    select(*(_EVENTS.c[name] for name in LEAF_COLUMNS), _EVENTS.c.id)
    .where(_EVENTS.c.seq.is_(None))
    .order_by(_EVENTS.c.id)
    .limit(bindparam("limit"))
)


async def backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many committed events wait to be sealed, and when the oldest of them happened."""
    statement = select(func.count(), func.min(_EVENTS.c.at)).where(_EVENTS.c.seq.is_(None))
    count, oldest = (await session.execute(statement)).one()
    return int(count), oldest


async def latest_size(session: AsyncSession) -> int | None:
    """The tree size of the latest checkpoint; None before the first."""
    found: int | None = (await session.execute(select(func.max(_CHECKPOINTS.c.tree_size)))).scalar()
    return found


async def _append(session: AsyncSession, size: int, rows: Sequence[Sequence[Any]]) -> Frontier:
    """Seal `rows` as leaves `size`, `size + 1`, ...; the tree's new right edge."""
    frontier, partial = await tiles.load(session, size)
    growth, leaves = tiles.Growth(), []
    for row in rows:
        leaves.append(row_leaf_hash(row))
        frontier.append(leaves[-1], growth)
    if rows:
        ids, seqs = [row[_ID] for row in rows], list(range(size, frontier.size))
        await _set(session, _EVENTS.c.id, ids, seq=("bigint", seqs), leaf_hash=("bytea", leaves))
    await tiles.save(session, tiles.grown_tiles(size, partial, growth))
    return frontier


async def _set(
    session: AsyncSession, key: Column[Any], ids: list[Any], **columns: tuple[str, list[Any]]
) -> None:
    """For each id, set the named columns (`name=(SQL type, values)`) of the row whose `key` it is."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            _unnest_update(key, tuple((n, t) for n, (t, _) in columns.items())), _arrays(ids, columns)
        )
        return
    statement = update(key.table).where(key == bindparam("row_id"))
    rows = [{"row_id": i, **{f"new_{n}": v[k] for n, (_, v) in columns.items()}} for k, i in enumerate(ids)]
    await session.execute(statement.values({n: bindparam(f"new_{n}") for n in columns}), rows)


def _arrays(ids: list[Any], columns: dict[str, tuple[str, list[Any]]]) -> dict[str, list[Any]]:
    return {"row_id": ids} | {f"new_{n}": values for n, (_, values) in columns.items()}


@lru_cache(maxsize=4)
def _unnest_update(key: Column[Any], columns: tuple[tuple[str, str], ...]) -> TextClause:
    """UPDATE ... FROM unnest(arrays): a whole batch in one statement and one round trip."""
    arrays = "".join(f", CAST(:new_{n} AS {sql_type}[])" for n, sql_type in columns)
    names = ", ".join(n for n, _ in columns)
    assignments = ", ".join(f"{n} = v.{n}" for n, _ in columns)
    return text(
        f"UPDATE {key.table.name} AS t SET {assignments} "  # noqa: S608  (names from the model, values bound)
        f"FROM unnest(CAST(:row_id AS bigint[]){arrays}) AS v(row_id, {names}) WHERE t.{key.name} = v.row_id"
    )


async def _position_events(session: AsyncSession, limit: int) -> int:
    """Give committed domain events the next feed positions, in the order they were written."""
    rows = (await session.execute(_UNPOSITIONED, {"limit": limit})).all()
    if not rows:
        return 0
    start = ((await session.execute(select(func.max(_OUTBOX.c.position)))).scalar() or 0) + 1
    positions = list(range(start, start + len(rows)))
    await _set(session, _OUTBOX.c.seq, [row.seq for row in rows], position=("bigint", positions))
    await fanout.announce(session, rows)
    return len(rows)


_UNPOSITIONED = (
    select(_OUTBOX.c.seq, _OUTBOX.c.id, _OUTBOX.c.type, _OUTBOX.c.from_agency_id, _OUTBOX.c.to_agency_id)
    .where(_OUTBOX.c.position.is_(None))
    .order_by(_OUTBOX.c.seq)
    .limit(bindparam("limit"))
)


async def _publish(session: AsyncSession, signer: Signer, checkpoint: Checkpoint) -> None:
    """Sign the checkpoint and keep it."""
    note = signer.sign(checkpoint.body())
    values = {"tree_size": checkpoint.size, "root_hash": checkpoint.root, "note": note, "signed_at": utcnow()}
    await session.execute(insert(_CHECKPOINTS).values(values))
