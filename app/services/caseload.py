"""What became of the referrals an agency lists: the latest outcome of each."""

import uuid

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.outcome import Outcome, OutcomeType
from app.models.referral import Referral
from app.security import Principal, agency_of


async def latest_outcomes(
    session: AsyncSession, principal: Principal, referral_ids: list[uuid.UUID]
) -> dict[uuid.UUID, OutcomeType]:
    """The most recent outcome of each referral listed that the caller's agency is party to."""
    agency = agency_of(principal)
    newest = (
        select(col(Outcome.referral_id), func.max(col(Outcome.recorded_at)).label("at"))
        .where(col(Outcome.referral_id).in_(referral_ids))
        .group_by(col(Outcome.referral_id))
        .subquery()
    )
    query = (
        select(col(Outcome.referral_id), col(Outcome.type))
        .join(
            newest,
            and_(newest.c.referral_id == col(Outcome.referral_id), newest.c.at == col(Outcome.recorded_at)),
        )
        .join(Referral, col(Referral.id) == col(Outcome.referral_id))
        .where((col(Referral.from_agency_id) == agency) | (col(Referral.to_agency_id) == agency))
    )
    return {row[0]: row[1] for row in (await session.execute(query)).all()}
