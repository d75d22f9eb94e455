"""Ratings and signposts written straight to the tables, and what the audit trail and event feed hold."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import get_sessionmaker, utcnow
from app.models.audit import AuditEvent
from app.models.directory import Agency, Purpose
from app.models.events import DomainEvent
from app.models.measure import Measure, Scale
from app.models.referral import Referral
from app.models.signpost import Signpost
from app.unit_of_work import committed


async def insert_measures(
    referral: Referral,
    agency: Agency,
    ratings: list[tuple[Scale, int, date]],
    recorded_at: datetime | None = None,
) -> None:
    """Ratings on `referral`, recorded by `agency`, in the order given (later rows recorded later)."""
    start = recorded_at or utcnow()

    async def work(session: AsyncSession) -> None:
        for n, (scale, score, taken_on) in enumerate(ratings):
            session.add(
                Measure(
                    referral_id=referral.id,
                    subject_id=referral.subject_id,
                    scale=scale,
                    score=score,
                    taken_on=taken_on,
                    recorded_by_agency_id=agency.id,
                    recorded_by="caseworker",
                    recorded_at=start.replace(microsecond=n),
                )
            )

    await committed(work)


async def insert_signpost(
    agency: Agency, occurred_on: date, purpose: Purpose = Purpose.DEBT_ADVICE, **service: Any
) -> None:
    """A signpost to a directory service (`service_id=`) or any other (`service_name=`)."""

    async def work(session: AsyncSession) -> None:
        session.add(
            Signpost(
                agency_id=agency.id, occurred_on=occurred_on, purpose=purpose, recorded_by="cw", **service
            )
        )

    await committed(work)


async def audit_events(action: str) -> list[AuditEvent]:
    async with get_sessionmaker()() as session:
        query = select(AuditEvent).where(col(AuditEvent.action) == action).order_by(col(AuditEvent.id))
        return list((await session.execute(query)).scalars().all())


async def domain_events(type_: str) -> list[DomainEvent]:
    async with get_sessionmaker()() as session:
        query = select(DomainEvent).where(col(DomainEvent.type) == type_)
        return list((await session.execute(query)).scalars().all())
