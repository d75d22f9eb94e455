"""Writing a unit of work's journal before its commit: audit events chained after the head,
the outbox, and the delivery rows for the subscriptions the events fan out to.

Every writer serialises on the chain head's row lock, held from the journal's write until
commit.

On PostgreSQL the writes go as one statement (rows passed as JSON). It moves the head only if
the head is where the writer expects (a compare-and-set), and writes nothing otherwise. The
comparison is made in the UPDATE's SET, not in its WHERE: PostgreSQL skips a row whose
committed version fails the WHERE without waiting for the transaction that is changing it,
so a writer expecting the head that an uncommitted writer will leave would fail at once.
Made in the SET, the statement waits for that commit and compares against the head it left.

Within a process, writers take turns on a lock held only while their statement runs, and
each chains after the end the writer before it left, without reading the head. The lock is
let go before the commit, so the next writer's statement is already waiting in the database
when that commit ends. If the head is elsewhere (the previous commit failed, or another
process wrote), the statement has locked the head row all the same; the writer reads the
head and writes after it.

A statement reads the subscriptions as of its start, which can be before the previous
writer's commit. So a unit of work that changes subscriptions is a fence: it keeps the
process lock until it has committed. A change made by another process moves the head, so a
writer here fails its compare-and-set, and its write after the head is a new statement that
sees the change.

SQLite has a single writer anyway; there the statements run one by one after locking.
"""

import asyncio
import json
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, Uuid, and_, any_, bindparam, case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.audit import AuditChainHead, AuditEvent
from app.models.events import DomainEvent
from app.models.webhooks import WebhookSubscription
from app.persistence.rows import insert_from_json, json_value, table_of
from app.services import audit, events, webhooks
from app.services.audit import ChainEnd
from app.services.journal import Journal
from app.services.webhooks import ACTIVE_FOR_AGENCIES, SUBSCRIBER_COLUMNS

PROCESS_LOCK_WAIT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class JournalRows:
    audit: list[dict[str, Any]]
    end: ChainEnd
    outbox: list[dict[str, Any]]
    agencies: list[uuid.UUID]


def _rows(after: ChainEnd, pending: Journal) -> JournalRows:
    chain, end = audit.chained(after, pending.audit)
    outbox = events.outbox_rows(pending.events)
    return JournalRows(chain, end, outbox, webhooks.involved_agencies(pending.events))


@asynccontextmanager
async def writing(session: AsyncSession, pending: Journal) -> AsyncIterator[None]:
    """Append the journal after the chain head; the body commits the unit of work."""
    if session.get_bind().dialect.name != "postgresql":
        await _write_each(session, pending)
        yield
        return
    known = _known_head()
    if pending.fence:
        async with _fenced(session, pending, known):
            yield
        return
    end = await _write_in_turn(session, pending, known)
    try:
        yield
    except BaseException:
        _forget(known, end)
        raise


def _forget(known: "_KnownHead", end: ChainEnd) -> None:
    """The commit failed: the head is not at `end`, so the writers chained after it fail too."""
    if known.end == end:
        known.end = None


async def _write_in_turn(session: AsyncSession, pending: Journal, known: "_KnownHead") -> ChainEnd:
    """Write after the end the process's previous writer left, once that writer has written.

    The process lock is let go before the commit: the next writer's statement then waits in
    the database for the row lock and runs the moment this commit ends.
    """
    if not await _take(known.lock):
        return (await _write_after_head(session, pending)).end
    try:
        known.end = await _write_after(session, pending, known.end)
        return known.end
    finally:
        known.lock.release()


async def _write_after(session: AsyncSession, pending: Journal, expected: ChainEnd | None) -> ChainEnd:
    """Write after `expected` if the head is there, else after the head read under lock."""
    if expected is not None:
        rows = _rows(expected, pending)
        if await _write_rows(session, pending, expected, rows):
            return rows.end
        # The previous writer's commit failed, or another process wrote; this transaction
        # now holds the head's row lock, so the read below does not wait.
    return (await _write_after_head(session, pending)).end


@asynccontextmanager
async def _fenced(session: AsyncSession, pending: Journal, known: "_KnownHead") -> AsyncIterator[None]:
    """Write, and commit before the process's next writer sends its statement."""
    if not await _take(known.lock):
        await _write_after_head(session, pending)
        yield
        return
    try:
        end = await _write_after(session, pending, known.end)
        known.end = None  # until the commit succeeds
        yield
        known.end = end
    finally:
        known.lock.release()


async def _take(lock: asyncio.Lock) -> bool:
    """The process lock, unless that takes over PROCESS_LOCK_WAIT_SECONDS.

    A guard, not a path taken in normal running: the holder waits only for the head's row
    lock, which no writer waiting here holds. Past the limit a writer uses the row lock
    alone, where PostgreSQL would see (and break) a deadlock.
    """
    try:
        async with asyncio.timeout(PROCESS_LOCK_WAIT_SECONDS):
            await lock.acquire()
    except TimeoutError:
        return False
    return True


async def _write_each(session: AsyncSession, pending: Journal) -> None:
    rows = _rows(await audit.lock_chain(session), pending)
    if rows.audit:
        await session.execute(insert(_EVENTS), rows.audit)
        await session.execute(_MOVE_HEAD, {"seq": rows.end.seq, "hash": rows.end.hash})
    if rows.outbox:
        await session.execute(insert(_OUTBOX), rows.outbox)
    found = await session.execute(_SUBSCRIBERS, {"agencies": rows.agencies}) if rows.agencies else None
    webhooks.queue_deliveries(session, pending.events, found.all() if found else [])


_HEAD, _EVENTS, _OUTBOX = table_of(AuditChainHead), table_of(AuditEvent), table_of(DomainEvent)
_SUBSCRIPTIONS = table_of(WebhookSubscription)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1)
_SUBSCRIBERS = select(*SUBSCRIBER_COLUMNS).where(*ACTIVE_FOR_AGENCIES)


@dataclass
class _KnownHead:
    """Where this process's last writer leaves the chain head, and the lock for reading it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    end: ChainEnd | None = None  # None: unknown, the next writer reads it under lock


# Per event loop: an asyncio lock belongs to the loop it is used on (tests run several).
_KNOWN: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _KnownHead]" = weakref.WeakKeyDictionary()


def _known_head() -> _KnownHead:
    return _KNOWN.setdefault(asyncio.get_running_loop(), _KnownHead())


async def _write_after_head(session: AsyncSession, pending: Journal) -> JournalRows:
    """Write after the head read under its row lock."""
    head = await audit.lock_chain(session)
    rows = _rows(head, pending)
    if not await _write_rows(session, pending, head, rows):
        raise RuntimeError("the audit chain head moved while locked")
    return rows


async def _write_rows(session: AsyncSession, pending: Journal, expected: ChainEnd, rows: JournalRows) -> bool:
    """Write the rows if the head is at `expected`; False (nothing written) if it is not."""
    found = (await session.execute(_AT_ONCE, _params(expected, rows))).all()
    if not found:
        return False
    webhooks.queue_deliveries(session, pending.events, [s for s in found if s.id is not None])
    return True


def _params(expected: ChainEnd, rows: JournalRows) -> dict[str, Any]:
    # The outbox rows carry their order, which the feed's sequence numbers must follow.
    outbox = [row | {"n": n} for n, row in enumerate(rows.outbox)]
    return {
        "expected_seq": expected.seq,
        "expected_hash": expected.hash,
        "new_seq": rows.end.seq,
        "new_hash": rows.end.hash,
        # Timestamps keep their microseconds and offset, so the stored value is the hashed one.
        "audit": json.dumps(rows.audit, default=json_value),
        "outbox": json.dumps(outbox, default=json_value),
        "agencies": rows.agencies,
    }


# The head moves only from where it is expected. The row is locked either way: the condition
# is in the SET, not the WHERE, because PostgreSQL skips a row whose committed version fails
# the WHERE without waiting for the transaction that holds it. So a statement chained after
# an uncommitted writer waits for that commit, then compares against the head it left. When
# the head is elsewhere, the row keeps its values and stays locked for the fallback's read.
_AT_EXPECTED = and_(_HEAD.c.seq == bindparam("expected_seq"), _HEAD.c.hash == bindparam("expected_hash"))
_MOVED = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(
        seq=case((_AT_EXPECTED, bindparam("new_seq")), else_=_HEAD.c.seq),
        hash=case((_AT_EXPECTED, bindparam("new_hash")), else_=_HEAD.c.hash),
    )
    .returning(
        _HEAD.c.id,
        and_(_HEAD.c.seq == bindparam("new_seq"), _HEAD.c.hash == bindparam("new_hash")).label("moved"),
    )
    .cte("moved")
)
_IF_MOVED = (select(_MOVED.c.id).where(_MOVED.c.moved).exists(),)
_CHAINED = insert_from_json(_EVENTS, tuple(c.key for c in _EVENTS.columns), "audit", where=_IF_MOVED).cte(
    "chained"
)
_OUTBOXED = insert_from_json(
    _OUTBOX,
    tuple(c.key for c in _OUTBOX.columns if c.key != "seq"),
    "outbox",
    where=_IF_MOVED,
    order_key="n",
).cte("outboxed")
# The agencies as one array parameter: a list expanded into IN (...) would have this long
# statement rewritten on every execution.
_OF_AGENCIES = _SUBSCRIPTIONS.c.agency_id == any_(bindparam("agencies", type_=ARRAY(Uuid())))
# No rows back: the head was not at the expected place and nothing was written. Otherwise one
# row per active subscription, or a single row of NULLs when there is none.
_AT_ONCE = (
    select(*SUBSCRIBER_COLUMNS)
    .select_from(_MOVED.outerjoin(_SUBSCRIPTIONS, and_(_OF_AGENCIES, *webhooks.ACTIVE)))
    .where(_MOVED.c.moved)
    .add_cte(_CHAINED, _OUTBOXED)
)
