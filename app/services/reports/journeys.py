"""Figures that follow a person rather than one referral: journeys, and jobs followed up.

A journey is one person's referrals made onward from one another, so counting an outcome
once per journey counts it once per person however many agencies recorded it.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.follow_up import FollowUp, FollowUpKind, FollowUpResult
from app.models.outcome import OUTCOME_BITS, Outcome, OutcomeType
from app.models.referral import Referral
from app.services.reports.scope import SUSTAINMENT_FIGURES, SUSTAINMENT_KINDS, ReportScope, Tallies, key_of

SUSTAINED = (OutcomeType.JOB_SUSTAINED_13_WEEKS, OutcomeType.JOB_SUSTAINED_26_WEEKS)


async def journey_figures(
    session: AsyncSession, scope: ReportScope, _now: datetime, tallies: Tallies
) -> None:
    """Platform-wide only: journeys per group, and per outcome type the journeys that record it."""
    if not scope.platform_wide:
        return
    journey = col(Referral.journey_id)
    counted = scope.select(func.count(distinct(journey))).group_by(*scope.group_keys())
    for key, journeys in await session.execute(counted):
        tallies[key_of(key)].journeys = journeys
    for key, *per_type in await session.execute(_outcomes_per_journey(scope)):
        tally = tallies[key_of(key)]
        for outcome_type, count in zip(OUTCOME_BITS, per_type, strict=True):
            tally.outcome_journeys[outcome_type] += int(count or 0)


def _outcomes_per_journey(scope: ReportScope) -> Any:
    """Per group, how many journeys have each outcome type: a flag per journey, then a sum."""
    types, journey = col(Referral.outcome_types), col(Referral.journey_id)
    flags = [
        func.max(case((types.op("&")(bit) != 0, 1), else_=0)).label(f"t{bit}")
        for bit in OUTCOME_BITS.values()
    ]
    per_journey = (
        scope.select(*flags)
        .where(col(Referral.outcome_count) > 0)
        .group_by(*scope.group_keys(), journey)
        .subquery()
    )
    sums = [func.sum(per_journey.c[f"t{bit}"]) for bit in OUTCOME_BITS.values()]
    return select(per_journey.c.key, *sums).group_by(per_journey.c.key)


async def sustainment_figures(
    session: AsyncSession, scope: ReportScope, now: datetime, tallies: Tallies
) -> None:
    """Job entries followed up at 13 and 26 weeks: due, done, and what was found."""
    unit = col(Referral.journey_id) if scope.platform_wide else col(FollowUp.id)
    # Closed because consent was withdrawn is not followed up.
    done = and_(col(FollowUp.done_at).is_not(None), col(FollowUp.result) != FollowUpResult.CONSENT_WITHDRAWN)
    found = col(Outcome.type)

    def counted(condition: ColumnElement[bool]) -> SQLColumnExpression[Any]:
        return func.count(distinct(case((condition, unit))))

    query = (
        scope.select(
            col(FollowUp.kind),
            counted(col(FollowUp.due_on) <= now.date()),
            counted(done),
            counted(and_(done, found.in_(SUSTAINED))),
            counted(and_(done, found == OutcomeType.JOB_NOT_SUSTAINED)),
            counted(col(FollowUp.result) == FollowUpResult.UNABLE_TO_CONTACT),
        )
        .join(FollowUp, col(FollowUp.referral_id) == col(Referral.id))
        .outerjoin(Outcome, col(Outcome.id) == col(FollowUp.outcome_id))
        .where(col(FollowUp.kind).in_(SUSTAINMENT_KINDS), *_owned(scope))
        .group_by(*scope.group_keys(), col(FollowUp.kind))
    )
    for key, kind, *figures in await session.execute(query):
        counts = dict(zip(SUSTAINMENT_FIGURES, figures, strict=True))
        tallies[key_of(key)].sustainment[FollowUpKind(kind)].update(counts)


def _owned(scope: ReportScope) -> list[ColumnElement[bool]]:
    """An agency's report counts the follow-ups that agency owns."""
    return [] if scope.platform_wide else [col(FollowUp.agency_id) == scope.agency_id]
