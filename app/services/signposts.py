"""Signposting: an agency records that it told someone about a service, without referring them.

No personal data is asked for or kept: a signpost says which agency told someone about which
service, for what purpose and on what day. Its note is about the service, never the person.
"""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.errors import NotFound, Unprocessable
from app.models.directory import Purpose, Service
from app.models.report import PeriodQuery
from app.models.signpost import (
    PurposeCount,
    ServiceCount,
    Signpost,
    SignpostCreate,
    SignpostPublic,
    SignpostReport,
)
from app.pagination import Keyset, Page, keyset_page
from app.persistence import idempotency
from app.security import Principal, agency_of
from app.services import audit, directory
from app.services.reports.scope import agency_in_scope, first_day_from

SIGNPOST_ORDER = Keyset(
    "signposts", (col(Signpost.occurred_on), col(Signpost.id)), (date, uuid.UUID), descending=True
)


def location(signpost_id: uuid.UUID) -> str:
    return f"/v1/signposts/{signpost_id}"


async def record(
    session: AsyncSession, principal: Principal, body: SignpostCreate, claim: idempotency.Claim | None
) -> SignpostPublic:
    """Record that the caller's agency signposted someone to a service."""
    agency_id = agency_of(principal)
    if body.service_id is not None:
        await directory.get_service(session, body.service_id, field="service_id")
    signpost = Signpost.model_validate(body, update={"agency_id": agency_id, "recorded_by": principal.id})
    session.add(signpost)
    await session.flush()
    details: dict[str, audit.DetailValue] = {
        "purpose": body.purpose.value,
        "service_id": str(body.service_id) if body.service_id else None,
    }
    audit.record(session, principal.actor, "signpost.recorded", "signpost", signpost.id, details=details)
    public = SignpostPublic.model_validate(signpost)
    idempotency.remember(claim, 201, public, {"Location": location(signpost.id)})
    return public


async def get(session: AsyncSession, principal: Principal, signpost_id: uuid.UUID) -> SignpostPublic:
    """One of the caller's agency's signposts; 404 for any other agency's."""
    agency_id = agency_of(principal)
    signpost = await session.get(Signpost, signpost_id)
    if signpost is None or signpost.agency_id != agency_id:
        raise NotFound(f"Signpost {signpost_id} not found.")
    return SignpostPublic.model_validate(signpost)


async def list_for(
    session: AsyncSession,
    principal: Principal,
    *,
    purpose: Purpose | None,
    start: date | None,
    end: date | None,
    cursor: str | None,
    limit: int,
) -> Page[SignpostPublic]:
    """The caller's agency's signposts, newest first, on days in [start, end)."""
    if start is not None and end is not None and end <= start:
        raise Unprocessable.field("to", "must be later than from")
    found = [col(Signpost.agency_id) == agency_of(principal), *_days(start, end)]
    if purpose is not None:
        found.append(col(Signpost.purpose) == purpose)
    rows, next_cursor = await keyset_page(
        session, select(Signpost).where(*found), SIGNPOST_ORDER, cursor, limit
    )
    return Page(items=[SignpostPublic.model_validate(s) for s in rows], next_cursor=next_cursor)


def _days(start: date | None, end: date | None) -> list[ColumnElement[bool]]:
    day = col(Signpost.occurred_on)
    return [c for c in (day >= start if start else None, day < end if end else None) if c is not None]


async def report(session: AsyncSession, principal: Principal, query: PeriodQuery) -> SignpostReport:
    """Signposts on days in the period, in all, per purpose and per service; apart from referrals."""
    agency_id = await agency_in_scope(session, principal, query.agency_id)
    found = _days(first_day_from(query.start), first_day_from(query.end))
    if agency_id is not None:
        found.append(col(Signpost.agency_id) == agency_id)
    by_purpose = await _by_purpose(session, found)
    return SignpostReport(
        start=query.start,
        end=query.end,
        agency_id=agency_id,
        generated_at=utcnow(),
        signposts=sum(p.signposts for p in by_purpose),
        by_purpose=by_purpose,
        by_service=await _by_service(session, found),
    )


async def _by_purpose(session: AsyncSession, found: list[ColumnElement[bool]]) -> list[PurposeCount]:
    purpose, count = col(Signpost.purpose), func.count()
    query = select(purpose, count).where(*found).group_by(purpose).order_by(count.desc(), purpose)
    return [PurposeCount(purpose=p, signposts=n) for p, n in await session.execute(query)]


async def _by_service(session: AsyncSession, found: list[ColumnElement[bool]]) -> list[ServiceCount]:
    """Directory services by id (named as the directory names them now), others by the name recorded."""
    service_id, name = col(Signpost.service_id), col(Signpost.service_name)
    counted = (
        select(service_id.label("service_id"), name.label("name"), func.count().label("signposts"))
        .where(*found)
        .group_by(service_id, name)
        .subquery()
    )
    label: Any = func.coalesce(col(Service.name), counted.c.name)
    query = (
        select(counted.c.service_id, label, counted.c.signposts)
        .outerjoin(Service, col(Service.id) == counted.c.service_id)
        .order_by(counted.c.signposts.desc(), label, counted.c.service_id)
    )
    rows = await session.execute(query)
    return [ServiceCount(service_id=s, service_name=n, signposts=c) for s, n, c in rows]
