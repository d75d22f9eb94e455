"""Figures that follow a person rather than one referral: journeys, and jobs followed up.

A journey is one person's referrals made onward from one another, so counting an outcome
once per journey counts it once per person however many agencies recorded it.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.follow_up import FollowUp, FollowUpKind, FollowUpResult
from app.models.outcome import OUTCOME_BITS, OutcomeType
from app.models.referral import Referral
from app.services.reports.scope import SUSTAINMENT_FIGURES, SUSTAINMENT_KINDS, ReportScope, Tallies, key_of

SUSTAINED = (OutcomeType.JOB_SUSTAINED_13_WEEKS, OutcomeType.JOB_SUSTAINED_26_WEEKS)


async def journey_figures(
    session: AsyncSession, scope: ReportScope, _now: datetime, tallies: Tallies
) -> None:
    """Journeys per group; platform-wide, also per outcome type the journeys that record it.

    An agency's report counts the journeys of the referrals it sent or received: its staff see
    each referral's journey as the linked referrals they are party to, so the count tells them
    nothing of referrals they are not party to.
    """
    await _count_journeys(session, scope, tallies)
    if not scope.platform_wide:
        return
    for key, *per_type in await session.execute(_outcomes_per_journey(scope)):
        tally = tallies[key_of(key)]
        for outcome_type, count in zip(OUTCOME_BITS, per_type, strict=True):
            tally.outcome_journeys[outcome_type] += int(count or 0)


async def _count_journeys(session: AsyncSession, scope: ReportScope, tallies: Tallies) -> None:
    """Journeys per group.

    Over the whole platform and all time, every onward referral's parent is in the report
    too, so each journey has one first referral in it: journeys are the referrals less the
    onward ones, which a small index counts. Otherwise distinct journeys, by grouping, which
    reads the journey index in order rather than sorting them all as count(DISTINCT) does.
    """
    if not scope.conditions() and scope.group_by is None:
        onward = select(func.count()).where(col(Referral.parent_referral_id).is_not(None))
        tallies[None].onward = int((await session.execute(onward)).scalar_one())
        return
    journey = col(Referral.journey_id)
    per_journey = scope.select(journey).group_by(*scope.group_keys(), journey).subquery()
    counted = select(per_journey.c.key, func.count()).group_by(per_journey.c.key)
    for key, journeys in await session.execute(counted):
        tallies[key_of(key)].journeys = journeys


def _outcomes_per_journey(scope: ReportScope) -> Select[Any]:
    """Per group, how many journeys have each outcome type: a journey's types, then a sum per type.

    A journey's types are the bitwise OR of its referrals' (one aggregate, on PostgreSQL);
    elsewhere one flag per type.
    """
    journey, types = col(Referral.journey_id), col(Referral.outcome_types)
    if scope.postgres:
        combined = [func.bit_or(types).label("types")]
    else:
        combined = [
            func.max(case((types.op("&")(bit) != 0, bit), else_=0)).label(f"t{bit}")
            for bit in OUTCOME_BITS.values()
        ]
    per_journey = (
        scope.select(*combined)
        .where(col(Referral.outcome_count) > 0)
        .group_by(*scope.group_keys(), journey)
        .subquery()
    )

    def has(bit: int) -> ColumnElement[bool]:
        column = per_journey.c.types if scope.postgres else per_journey.c[f"t{bit}"]
        return column.op("&")(bit) != 0

    sums = [func.sum(case((has(bit), 1), else_=0)) for bit in OUTCOME_BITS.values()]
    return select(per_journey.c.key, *sums).group_by(per_journey.c.key)


async def sustainment_figures(
    session: AsyncSession, scope: ReportScope, now: datetime, tallies: Tallies
) -> None:
    """Job entries followed up at 13 and 26 weeks: due, done, and what was found.

    Counted per journey platform-wide (two agencies checking one job count once) and per
    follow-up in an agency's report, from a flag per unit and figure.
    """
    per_unit = _sustainment_per_unit(scope, now).subquery()
    sums = [func.sum(per_unit.c[figure]) for figure in SUSTAINMENT_FIGURES]
    query = select(per_unit.c.key, per_unit.c.kind, *sums).group_by(per_unit.c.key, per_unit.c.kind)
    for key, kind, *figures in await session.execute(query):
        counts = {figure: int(n or 0) for figure, n in zip(SUSTAINMENT_FIGURES, figures, strict=True)}
        tallies[key_of(key)].sustainment[FollowUpKind(kind)].update(counts)


def _sustainment_per_unit(scope: ReportScope, now: datetime) -> Select[Any]:
    """One row per journey (or follow-up) and kind, with a 0/1 flag for each figure."""
    unit = col(FollowUp.journey_id) if scope.platform_wide else col(FollowUp.id)
    # Closed because consent was withdrawn is not followed up.
    done = and_(col(FollowUp.done_at).is_not(None), col(FollowUp.result) != FollowUpResult.CONSENT_WITHDRAWN)
    found = col(FollowUp.found)
    conditions = {
        "due": col(FollowUp.due_on) <= now.date(),
        "followed_up": done,
        "sustained": and_(done, found.in_(SUSTAINED)),
        "not_sustained": and_(done, found == OutcomeType.JOB_NOT_SUSTAINED),
        "unable_to_contact": col(FollowUp.result) == FollowUpResult.UNABLE_TO_CONTACT,
    }
    flags = [func.max(case((conditions[name], 1), else_=0)).label(name) for name in SUSTAINMENT_FIGURES]
    columns: list[Any] = [scope.key().label("key"), col(FollowUp.kind).label("kind"), *flags]
    query: Select[Any] = select(*columns).select_from(FollowUp)
    referral_conditions = scope.conditions()
    if referral_conditions or scope.group_by:  # the period and grouping are the referrals'
        query = query.join(Referral, col(Referral.id) == col(FollowUp.referral_id)).where(
            *referral_conditions
        )
    owned = [] if scope.platform_wide else [col(FollowUp.agency_id) == scope.agency_id]
    return query.where(col(FollowUp.kind).in_(SUSTAINMENT_KINDS), *owned).group_by(
        *scope.group_keys(), col(FollowUp.kind), unit
    )
