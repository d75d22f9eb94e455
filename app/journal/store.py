"""Writing a unit of work's journal just before its commit: plain inserts, no lock shared with other
writers (one statement on PostgreSQL); the sequencer orders the rows once they are committed.
"""

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.journal.leaves import LEAF_COLUMNS
from app.journal.pending import Journal, PendingAudit, PendingEvent
from app.models.audit import AuditEvent
from app.models.events import DomainEvent
from app.persistence.rows import insert_from_json, json_value, table_of

_EVENTS, _OUTBOX = table_of(AuditEvent), table_of(DomainEvent)
_OUTBOX_COLUMNS = ("id", "type", "occurred_at", "referral_id", "status", "from_agency_id", "to_agency_id")


def _audit_row(item: PendingAudit, at: datetime) -> dict[str, Any]:
    actor = item.actor
    return {
        "at": at,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_agency_id": actor.agency_id,
        "action": item.action,
        "entity_type": item.entity_type,
        "entity_id": item.entity_id,
        "referral_id": item.referral_id,
        "subject_id": item.subject_id,
        "details": item.details,
    }


def _outbox_row(item: PendingEvent, at: datetime) -> dict[str, Any]:
    return {
        "id": item.id,
        "type": item.type,
        "occurred_at": at,
        "referral_id": item.referral_id,
        "status": item.status,
        "from_agency_id": item.from_agency_id,
        "to_agency_id": item.to_agency_id,
    }


async def write(session: AsyncSession, pending: Journal) -> None:
    """Insert the journal's rows in the order they were queued (the sequencer keeps that order)."""
    at = utcnow()
    audit = [_audit_row(item, at) for item in pending.audit]
    outbox = [_outbox_row(item, at) for item in pending.events]
    if session.get_bind().dialect.name == "postgresql":
        await _write_at_once(session, audit, outbox)
        return
    for table, rows in ((_EVENTS, audit), (_OUTBOX, outbox)):
        if rows:
            await session.execute(insert(table), rows)


async def _write_at_once(
    session: AsyncSession, audit: list[dict[str, Any]], outbox: list[dict[str, Any]]
) -> None:
    params = {
        # Each row carries its place, so the sequence numbers the database gives follow it.
        "audit": json.dumps([row | {"n": n} for n, row in enumerate(audit)], default=json_value),
        "outbox": json.dumps([row | {"n": n} for n, row in enumerate(outbox)], default=json_value),
    }
    await session.execute(_statement(bool(audit), bool(outbox)), params)


@lru_cache(maxsize=4)
def _statement(with_audit: bool, with_outbox: bool) -> Insert:
    audit = insert_from_json(_EVENTS, LEAF_COLUMNS, "audit", order_key="n")
    outbox = insert_from_json(_OUTBOX, _OUTBOX_COLUMNS, "outbox", order_key="n")
    if with_audit and with_outbox:
        return outbox.add_cte(audit.cte("audit_written"))
    return audit if with_audit else outbox
