"""Helpers to emit domain events as the referral module does, and to read them back."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import get_sessionmaker
from app.models.directory import Agency
from app.models.events import DomainEvent
from app.models.webhooks import EventType
from app.services import events
from tests.factories import committed


async def emit_event(
    from_agency: Agency,
    to_agency: Agency,
    type_: str = EventType.REFERRAL_CREATED,
    status: str | None = "submitted",
    referral_id: uuid.UUID | None = None,
) -> None:
    """Commit one domain event between two agencies, as the referral module does."""

    async def work(session: AsyncSession) -> None:
        events.emit(
            session,
            type_,
            referral_id=referral_id or uuid.uuid4(),
            status=status,
            from_agency_id=from_agency.id,
            to_agency_id=to_agency.id,
        )

    await committed(work)


async def event_ids() -> list[str]:
    """Every committed event's id, in commit order."""
    async with get_sessionmaker()() as session:
        rows = await session.execute(select(col(DomainEvent.id)).order_by(col(DomainEvent.seq)))
        return [str(r) for r in rows.scalars()]
