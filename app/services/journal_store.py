"""Writing a unit of work's journal before its commit: audit events chained after the head,
the outbox, and the delivery rows for the subscriptions the events fan out to.

Every writer serialises on the chain head's row lock, held from the journal's first write
until commit, so each round trip made while holding it is paid by all of them.

On PostgreSQL the writes go as one statement (rows passed as JSON). That statement moves the
head only if it is still where this process last left it (a compare-and-set under the row
lock), which saves reading it first: within a process the journals are written one after
another, so the head this process remembers is right unless another process wrote since, or
the previous writer's commit failed. If it was moved, nothing was written; the head is then
read under lock and the statement repeated. Either way the subscriptions are read after the
lock is held, by a statement whose snapshot includes every subscription committed before: a
subscription is created, deleted or disabled only with an audit event, which moves the head
and so fails a stale compare-and-set.

SQLite has a single writer anyway; there the statements run one by one after locking.
"""

import asyncio
import json
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, Uuid, and_, any_, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.audit import AuditChainHead, AuditEvent
from app.models.events import DomainEvent
from app.models.webhooks import WebhookSubscription
from app.services import audit, events, webhooks
from app.services.audit import ChainEnd
from app.services.journal import Journal
from app.services.rows import insert_from_json, json_value, table_of
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


async def write(session: AsyncSession, pending: Journal) -> ChainEnd | None:
    """Append the journal after the chain head; returns the new end the process now expects."""
    if session.get_bind().dialect.name != "postgresql":
        await _write_each(session, pending)
        return None
    return await _write_in_turn(session, pending, _known_head())


def forget(end: ChainEnd | None) -> None:
    """The commit after `write` failed: the head is not at `end`, so the next writer reads it."""
    known = _known_head()
    if end is not None and known.end == end:
        known.end = None


async def _write_in_turn(session: AsyncSession, pending: Journal, known: "_KnownHead") -> ChainEnd:
    """Write after the head this process's previous writer left, once that writer has written.

    The process lock is let go before the commit: the next writer's statement then waits in
    the database for the row lock and runs the moment this commit ends. Should this commit
    fail, the head it expects is not there, and it reads the head again.
    """
    try:
        async with asyncio.timeout(PROCESS_LOCK_WAIT_SECONDS):
            await known.lock.acquire()
    except TimeoutError:
        # This transaction may hold a row lock the current holder waits for. Without the
        # process lock it waits on the head's row lock alone, where PostgreSQL sees (and
        # breaks) any deadlock; the head this process remembers is only a shortcut.
        return await _write_at_once(session, pending, None)
    try:
        known.end = await _write_at_once(session, pending, known.end)
        return known.end
    finally:
        known.lock.release()


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
    """The chain end this process last committed, and the lock that keeps it current."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    end: ChainEnd | None = None


# Per event loop: an asyncio lock belongs to the loop it is used on (tests run several).
_KNOWN: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _KnownHead]" = weakref.WeakKeyDictionary()


def _known_head() -> _KnownHead:
    return _KNOWN.setdefault(asyncio.get_running_loop(), _KnownHead())


async def _write_at_once(session: AsyncSession, pending: Journal, guess: ChainEnd | None) -> ChainEnd:
    """Write after `guess` if the head is still there, else after the head read under lock."""
    if guess is not None:
        end = await _write_after(session, pending, guess)
        if end is not None:
            return end
    end = await _write_after(session, pending, await audit.lock_chain(session))
    if end is None:
        raise RuntimeError("the audit chain head moved while locked")
    return end


async def _write_after(session: AsyncSession, pending: Journal, expected: ChainEnd) -> ChainEnd | None:
    """The chain's new end, or None (and nothing written) if the head was not at `expected`."""
    rows = _rows(expected, pending)
    found = (await session.execute(_AT_ONCE, _params(expected, rows))).all()
    if not found:
        return None
    webhooks.queue_deliveries(session, pending.events, [s for s in found if s.id is not None])
    return rows.end


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


# Moves the head only from where it is expected; the inserts happen only if it moved.
_MOVED = (
    update(_HEAD)
    .where(
        _HEAD.c.id == 1,
        _HEAD.c.seq == bindparam("expected_seq"),
        _HEAD.c.hash == bindparam("expected_hash"),
    )
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
    .returning(_HEAD.c.id)
    .cte("moved")
)
_IF_MOVED = (select(_MOVED.c.id).exists(),)
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
    .add_cte(_CHAINED, _OUTBOXED)
)
