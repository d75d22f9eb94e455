"""Domain events for partners: queued with the change, written to the outbox at commit."""

import uuid

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.models.events import DomainEvent
from app.services.journal import PendingEvent, journal_of
from app.services.rows import table_of

_OUTBOX = table_of(DomainEvent)


def emit(
    session: AsyncSession,
    type_: str,
    *,
    referral_id: uuid.UUID | None,
    status: str | None,
    from_agency_id: uuid.UUID | None,
    to_agency_id: uuid.UUID | None,
) -> None:
    """Queue a domain event for this unit of work (ids and codes only, no personal data)."""
    journal_of(session).events.append(PendingEvent(type_, referral_id, status, from_agency_id, to_agency_id))


async def write_outbox(session: AsyncSession, pending: list[PendingEvent]) -> None:
    """Insert the pending events; called by the journal with the chain lock held.

    The feed's sequence numbers are assigned by the database and are not read back.
    """
    if not pending:
        return
    at = utcnow()
    rows = [
        {
            "id": p.id,
            "type": p.type,
            "occurred_at": at,
            "referral_id": p.referral_id,
            "status": p.status,
            "from_agency_id": p.from_agency_id,
            "to_agency_id": p.to_agency_id,
        }
        for p in pending
    ]
    await session.execute(insert(_OUTBOX), rows)
