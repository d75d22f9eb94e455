"""The worker's daily re-import of the directories named in DIRECTORY_SOURCES, by the same rules
as `referral-exchange directory import`.

Each configured source is imported once a day, from DIRECTORY_REFRESH_HOUR (UTC), however many
workers run: a worker takes a source for the day by marking it attempted, in one conditional
UPDATE that only one of them can win. A feed that fails is tried again the next day; its error
is kept on its row and logged.
"""

import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime

import httpx
from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import unit_of_work
from app.config import Settings
from app.db import utcnow
from app.errors import AppError
from app.models.audit import ActorKind, AuditActor
from app.models.locations import DirectorySource
from app.openreferral.feed import FeedError, shown
from app.openreferral.importer import ImportReport
from app.openreferral.sources import import_source

logger = logging.getLogger("app.openreferral")
REFRESH_ACTOR = AuditActor(kind=ActorKind.SYSTEM, id="directory-refresh")


@dataclass(frozen=True, slots=True)
class Refreshed:
    source: str
    report: ImportReport | None
    error: str | None


async def refresh_due(
    settings: Settings, *, now: datetime | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> list[Refreshed]:
    """Import each configured source this worker takes for today, once the refresh hour has come."""
    now = now or utcnow()
    if now.hour < settings.directory_refresh_hour:
        return []
    done = []
    for source in settings.directory_sources:
        if await unit_of_work.committed(functools.partial(_claim, source=source, today=now.date())):
            done.append(await _refresh(settings, source, transport))
    return done


async def _claim(session: AsyncSession, source: str, today: date) -> bool:
    """Take `source` for today, unless another worker already has."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(dialect.insert(DirectorySource).values(source=source).on_conflict_do_nothing())
    not_yet = or_(col(DirectorySource.attempted_on).is_(None), col(DirectorySource.attempted_on) < today)
    taken = await session.execute(
        update(DirectorySource)
        .where(col(DirectorySource.source) == source, not_yet)
        .values(attempted_on=today)
    )
    return bool(getattr(taken, "rowcount", 0) == 1)


async def _refresh(settings: Settings, source: str, transport: httpx.AsyncBaseTransport | None) -> Refreshed:
    try:
        report = await import_source(settings, source, REFRESH_ACTOR, transport=transport)
    except (FeedError, AppError) as exc:
        error = str(exc) if isinstance(exc, FeedError) else exc.detail
        logger.error("directory refresh of %s failed: %s", shown(source), error)
        await unit_of_work.committed(lambda s: _record(s, source, None, error))
        return Refreshed(source, None, error)
    logger.info("directory refresh of %s: %s", shown(source), "; ".join(report.lines()[-2:]))
    await unit_of_work.committed(lambda s: _record(s, source, report, None))
    return Refreshed(source, report, None)


async def _record(session: AsyncSession, source: str, report: ImportReport | None, error: str | None) -> None:
    row = await session.get(DirectorySource, source)
    if row is None:
        return
    row.last_error = error[:1000] if error else None
    if report is not None:
        row.succeeded_at, row.summary = utcnow(), dict(report.counts())
