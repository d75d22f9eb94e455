"""Distance travelled: a person's own 1-10 ratings on a few plain scales, over a referral.

Either agency records a rating once the referral is accepted (as with outcomes); the report
compares each person's first and latest rating per scale. Ratings are personal data: every
write and read is audited, and the event partners are told of carries ids only.
"""

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.errors import Conflict
from app.models.events import EventType
from app.models.measure import (
    DistanceTravelledReport,
    Measure,
    MeasureCreate,
    MeasurePublic,
    Scale,
    ScaleChange,
)
from app.models.referral import Referral
from app.models.report import PeriodQuery
from app.persistence import idempotency
from app.security import Principal, agency_of
from app.services import referrals
from app.services.outcomes import RECORDABLE
from app.services.referrals import PartyAccess
from app.services.reports.scope import agency_in_scope


def location(referral_id: uuid.UUID) -> str:
    return f"/v1/referrals/{referral_id}/measures"


async def record(
    session: AsyncSession, access: PartyAccess, body: MeasureCreate, claim: idempotency.Claim | None
) -> MeasurePublic:
    """Record a rating on a referral that has been accepted (also after it is completed)."""
    referral, principal = access.referral, access.principal
    if referral.status not in RECORDABLE:
        raise Conflict(
            f"Ratings are recorded once a referral is accepted; this one is {referral.status.value}."
        )
    measure = Measure.model_validate(
        body,
        update={
            "referral_id": referral.id,
            "subject_id": referral.subject_id,
            "recorded_by_agency_id": agency_of(principal),
            "recorded_by": principal.id,
        },
    )
    session.add(measure)
    await session.flush()
    details: dict[str, Any] = {"scale": body.scale.value}
    referrals.audit_for(session, principal, "measure.recorded", referral, ("measure", measure.id), details)
    referrals.emit_for(session, EventType.MEASURE_RECORDED, referral)
    public = MeasurePublic.model_validate(measure)
    idempotency.remember(claim, 201, public, {"Location": location(referral.id)})
    return public


async def list_for(session: AsyncSession, access: PartyAccess) -> list[MeasurePublic]:
    """Every rating on the referral, oldest first; audited, since each is about the person."""
    referral = access.referral
    query = (
        select(Measure)
        .where(col(Measure.referral_id) == referral.id)
        .order_by(col(Measure.taken_on), col(Measure.recorded_at), col(Measure.id))
    )
    rows = (await session.execute(query)).scalars().all()
    referrals.audit_for(session, access.principal, "measure.listed", referral, details={"count": len(rows)})
    return [MeasurePublic.model_validate(m) for m in rows]


async def report(session: AsyncSession, principal: Principal, query: PeriodQuery) -> DistanceTravelledReport:
    """Per scale, how far people moved from their first rating to their latest; no person is named."""
    agency_id = await agency_in_scope(session, principal, query.agency_id)
    found = {Scale(row.scale): row for row in await session.execute(_per_scale(query, agency_id))}
    return DistanceTravelledReport(
        start=query.start,
        end=query.end,
        agency_id=agency_id,
        generated_at=utcnow(),
        scales=[_change(scale, found.get(scale)) for scale in Scale],
    )


_MEANS = ("mean_first_score", "mean_latest_score", "mean_change")


def _change(scale: Scale, row: Any) -> ScaleChange:
    if row is None:
        return ScaleChange(scale=scale, people_measured=0, people=0, **dict.fromkeys(_MEANS))
    return ScaleChange(
        scale=scale,
        people_measured=row.people_measured,
        people=row.people,
        mean_first_score=_mean(row.mean_first),
        mean_latest_score=_mean(row.mean_latest),
        mean_change=_mean(row.mean_change),
    )


def _mean(value: Decimal | float | None) -> float | None:
    # PostgreSQL's avg of integers is numeric (a Decimal); SQLite's is a float.
    return round(float(value), 2) if value is not None else None


def _in_scope(query: PeriodQuery, agency_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    """Ratings on referrals created in the period that the agency (if any) sent or received."""
    created = col(Referral.created_at)
    found: list[ColumnElement[bool]] = [col(Referral.id) == col(Measure.referral_id)]
    if query.start is not None:
        found.append(created >= query.start)
    if query.end is not None:
        found.append(created < query.end)
    if agency_id is not None:
        found.append(or_(col(Referral.from_agency_id) == agency_id, col(Referral.to_agency_id) == agency_id))
    return found


def _per_scale(query: PeriodQuery, agency_id: uuid.UUID | None) -> Select[Any]:
    """One row per scale: people rated, people rated twice or more, and their mean first, latest, change."""
    return _people_per_scale(_first_and_latest(query, agency_id))


def _first_and_latest(query: PeriodQuery, agency_id: uuid.UUID | None) -> Any:
    """One row per person and scale: their first and latest rating, and how many they have.

    Every figure comes from one window over the person's ratings on the scale, in the order
    they were taken (then recorded): a single sort, which the subject index already serves,
    and no rating is read into the application.
    """
    person = (col(Measure.subject_id), col(Measure.scale))
    order = (col(Measure.taken_on), col(Measure.recorded_at), col(Measure.id))
    whole: Any = {"partition_by": person, "order_by": order, "rows": (None, None)}
    ranked = (
        select(
            col(Measure.scale).label("scale"),
            func.row_number().over(**whole).label("position"),
            func.first_value(col(Measure.score)).over(**whole).label("first"),
            func.last_value(col(Measure.score)).over(**whole).label("latest"),
            func.count().over(**whole).label("ratings"),
        )
        .select_from(Measure)
        .join(Referral, and_(*_in_scope(query, agency_id)))
        .subquery()
    )
    return select(ranked).where(ranked.c.position == 1).subquery()


def _people_per_scale(person: Any) -> Select[Any]:
    twice = person.c.ratings >= 2
    return select(
        person.c.scale.label("scale"),
        func.count().label("people_measured"),
        func.count(case((twice, 1))).label("people"),
        func.avg(case((twice, person.c.first))).label("mean_first"),
        func.avg(case((twice, person.c.latest))).label("mean_latest"),
        func.avg(case((twice, person.c.latest - person.c.first))).label("mean_change"),
    ).group_by(person.c.scale)
