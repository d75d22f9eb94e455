"""Journeys: referrals made onward from one another for one person, seen party by party.

An agency sees only the referrals of a journey it sent or received: not the others, not even
how many there are.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import Unprocessable
from app.models.referral import JourneyReferral, Referral

NOT_RECEIVED = "is not a referral your agency received"


@dataclass(frozen=True, slots=True)
class Parent:
    """The referral a new one is made onward from: its journey, person and consent."""

    id: uuid.UUID
    journey_id: uuid.UUID
    subject_id: uuid.UUID
    consent_id: uuid.UUID


async def parent_for(
    session: AsyncSession, agency_id: uuid.UUID, parent_id: uuid.UUID | None
) -> Parent | None:
    """The parent named by the caller, who must be its receiver (one answer for missing and not yours)."""
    if parent_id is None:
        return None
    query = select(
        col(Referral.id), col(Referral.journey_id), col(Referral.subject_id), col(Referral.consent_id)
    ).where(col(Referral.id) == parent_id, col(Referral.to_agency_id) == agency_id)
    found = (await session.execute(query)).one_or_none()
    if found is None:
        raise Unprocessable.field("parent_referral_id", NOT_RECEIVED)
    return Parent(*found)


_JOURNEY_COLUMNS = [col(getattr(Referral, name)) for name in JourneyReferral.model_fields]


async def linked(session: AsyncSession, journey_id: uuid.UUID, agency_id: uuid.UUID) -> list[JourneyReferral]:
    """The journey's referrals that `agency_id` sent or received, oldest first."""
    party = or_(col(Referral.from_agency_id) == agency_id, col(Referral.to_agency_id) == agency_id)
    query = (
        select(*_JOURNEY_COLUMNS)
        .where(col(Referral.journey_id) == journey_id, party)
        .order_by(col(Referral.created_at), col(Referral.id))
    )
    return [JourneyReferral.model_validate(row._mapping) for row in await session.execute(query)]
