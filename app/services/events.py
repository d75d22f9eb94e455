"""Domain events for partners: queued with the change, written to the outbox at commit."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.journal.pending import PendingEvent, journal_of


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
