"""Domain events for partners: queued with the change, written to the outbox at commit."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.services.journal import PendingEvent, journal_of


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


def outbox_rows(pending: list[PendingEvent]) -> list[dict[str, Any]]:
    """The outbox rows for the pending events; the feed's sequence numbers come from the database."""
    at = utcnow()
    return [
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
