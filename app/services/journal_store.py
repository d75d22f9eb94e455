"""Writing a unit of work's journal under the chain lock: audit events, the chain head, the
outbox, and the read of the subscriptions the events fan out to.

Every writer waits for the chain lock, so each round trip made while holding it is paid by
all of them. On PostgreSQL the four statements therefore go as one, with the rows passed as
JSON; other databases (SQLite, a single writer anyway) run them one by one.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.audit import AuditChainHead, AuditEvent
from app.models.events import DomainEvent
from app.services.audit import ChainEnd
from app.services.rows import table_of
from app.services.webhooks import ACTIVE_FOR_AGENCIES, Subscriber


@dataclass(frozen=True, slots=True)
class JournalRows:
    audit: list[dict[str, Any]]
    end: ChainEnd
    outbox: list[dict[str, Any]]
    agencies: list[uuid.UUID]


async def write(session: AsyncSession, rows: JournalRows) -> Sequence[Subscriber]:
    """Write the rows; returns the active subscriptions of the agencies the events involve."""
    if session.get_bind().dialect.name == "postgresql":
        return await _write_at_once(session, rows)
    return await _write_each(session, rows)


_HEAD, _EVENTS, _OUTBOX = table_of(AuditChainHead), table_of(AuditEvent), table_of(DomainEvent)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1)


async def _write_each(session: AsyncSession, rows: JournalRows) -> Sequence[Subscriber]:
    if rows.audit:
        await session.execute(insert(_EVENTS), rows.audit)
        await session.execute(_MOVE_HEAD, {"seq": rows.end.seq, "hash": rows.end.hash})
    if rows.outbox:
        await session.execute(insert(_OUTBOX), rows.outbox)
    if not rows.agencies:
        return []
    return (await session.execute(ACTIVE_FOR_AGENCIES, {"agencies": rows.agencies})).all()


# jsonb_to_recordset turns the JSON text back into typed rows; the outbox keeps the events'
# order, since its sequence numbers are the feed's order.
_AT_ONCE = text(
    """
    WITH moved AS (
        UPDATE audit_chain_head SET seq = :seq, hash = :hash WHERE id = 1 AND :moves
    ), chained AS (
        INSERT INTO audit_events (seq, at, actor_kind, actor_id, actor_agency_id, action,
            entity_type, entity_id, referral_id, subject_id, details, prev_hash, hash)
        SELECT seq, at, actor_kind, actor_id, actor_agency_id, action,
            entity_type, entity_id, referral_id, subject_id, details, prev_hash, hash
        FROM jsonb_to_recordset(CAST(:audit AS jsonb)) AS r(seq bigint, at timestamptz,
            actor_kind varchar, actor_id varchar, actor_agency_id uuid, action varchar,
            entity_type varchar, entity_id varchar, referral_id uuid, subject_id uuid,
            details jsonb, prev_hash varchar, hash varchar)
    ), outbox AS (
        INSERT INTO domain_events (id, type, occurred_at, referral_id, status,
            from_agency_id, to_agency_id)
        SELECT id, type, occurred_at, referral_id, status, from_agency_id, to_agency_id
        FROM ROWS FROM (jsonb_to_recordset(CAST(:outbox AS jsonb)) AS (id uuid, type varchar,
            occurred_at timestamptz, referral_id uuid, status varchar,
            from_agency_id uuid, to_agency_id uuid))
            WITH ORDINALITY AS e(id, type, occurred_at, referral_id, status,
                from_agency_id, to_agency_id, n)
        ORDER BY n
    )
    SELECT id, agency_id, event_types FROM webhook_subscriptions
    WHERE agency_id = ANY(CAST(:agencies AS uuid[])) AND status = 'active' AND deleted_at IS NULL
    """
)


async def _write_at_once(session: AsyncSession, rows: JournalRows) -> Sequence[Subscriber]:
    params = {
        "seq": rows.end.seq,
        "hash": rows.end.hash,
        "moves": bool(rows.audit),
        "audit": _json(rows.audit),
        "outbox": _json(rows.outbox),
        "agencies": rows.agencies,
    }
    return (await session.execute(_AT_ONCE, params)).all()


def _json(rows: list[dict[str, Any]]) -> str:
    # Timestamps keep their microseconds and offset, so the stored value is the hashed one.
    return json.dumps(
        rows, default=lambda value: value.isoformat() if hasattr(value, "isoformat") else str(value)
    )
