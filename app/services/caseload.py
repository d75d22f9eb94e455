"""How many referrals each view of an agency's inbox or sent box holds, and what became of them."""

import uuid
from collections import Counter
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.models.referral import Outcome, OutcomeType, Referral, ReferralStatus
from app.models.report import UNDECIDED_STATUSES
from app.security import Principal, agency_of
from app.services.referrals import Box


async def status_counts(session: AsyncSession, principal: Principal, box: Box) -> Counter[ReferralStatus]:
    """The caller's agency's referrals in the box, counted by status."""
    owner = col(Referral.to_agency_id) if box == Box.INBOX else col(Referral.from_agency_id)
    query = (
        select(col(Referral.status), func.count())
        .where(owner == agency_of(principal))
        .group_by(col(Referral.status))
    )
    return Counter({row[0]: row[1] for row in (await session.execute(query)).all()})


async def overdue_count(session: AsyncSession, principal: Principal, now: datetime | None = None) -> int:
    """Referrals awaiting the agency's decision past their due time (as the overdue report lists)."""
    query = select(func.count()).where(
        col(Referral.to_agency_id) == agency_of(principal),
        col(Referral.status).in_(UNDECIDED_STATUSES),
        col(Referral.due_by) < (now or utcnow()),
    )
    return int(await session.scalar(query) or 0)


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
