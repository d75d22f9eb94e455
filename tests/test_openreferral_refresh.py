"""The worker re-imports the directories named in DIRECTORY_SOURCES every day, once however many
workers run, by the same rules as `directory import`."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from app import worker
from app.config import Settings, get_settings
from app.db import get_sessionmaker
from app.models.directory import Service
from app.models.locations import DirectorySource
from app.openreferral import refresh as directory_refresh
from app.openreferral.refresh import refresh_due
from app.periodic import Periodics
from tests.support.fake_feed import BASE, FakeFeed


def settings(**changes: Any) -> Settings:
    return get_settings().model_copy(update=changes)


async def services_count() -> int:
    async with get_sessionmaker()() as session:
        return int(await session.scalar(select(func.count()).select_from(Service)) or 0)


async def test_the_worker_imports_each_source_once_a_day() -> None:
    feed = FakeFeed()
    chosen = settings(directory_sources=[BASE], directory_refresh_hour=3)
    early, due = datetime(2026, 12, 9, 2, 59, tzinfo=UTC), datetime(2026, 12, 9, 3, 30, tzinfo=UTC)

    before_hour = await refresh_due(chosen, now=early, transport=feed.transport())
    first = await refresh_due(chosen, now=due, transport=feed.transport())
    same_day = await refresh_due(chosen, now=due.replace(hour=18), transport=feed.transport())
    next_day = await refresh_due(chosen, now=due.replace(day=10), transport=feed.transport())

    assert before_hour == []
    assert [r.report.counts()["services_created"] for r in first if r.report] == [4]
    assert same_day == []
    assert [r.report.counts()["services_unchanged"] for r in next_day if r.report] == [4]
    async with get_sessionmaker()() as session:
        row = await session.get(DirectorySource, BASE)
    assert row is not None
    assert (row.attempted_on, row.last_error) == (due.replace(day=10).date(), None)
    assert row.summary is not None
    assert row.summary["services_unchanged"] == 4


async def test_a_failed_refresh_is_kept_and_tried_again_the_next_day() -> None:
    chosen = settings(directory_sources=[BASE], directory_refresh_hour=0)
    day = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)

    failed = await refresh_due(chosen, now=day, transport=FakeFeed(fault="unreachable").transport())
    retried = await refresh_due(chosen, now=day.replace(day=10), transport=FakeFeed().transport())

    assert failed[0].error is not None
    assert "cannot reach" in failed[0].error
    assert retried[0].error is None
    assert await services_count() == 4


async def test_a_worker_without_sources_imports_nothing() -> None:
    assert await worker.refresh_directories(settings(directory_sources=[])) == 0


async def test_of_two_workers_one_makes_the_days_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    passes: list[datetime] = []

    async def refresh_due(chosen: Settings, **_: Any) -> list[Any]:
        passes.append(datetime.now(UTC))
        return []

    monkeypatch.setattr(directory_refresh, "refresh_due", refresh_due)
    chosen = settings(directory_sources=[BASE], directory_refresh_hour=3)
    job = worker.directory_job(chosen)
    at = datetime(2026, 12, 9, 4, 0, tzinfo=UTC)
    first, second = Periodics([job], clock=lambda: at), Periodics([job], clock=lambda: at)

    await first.run_due(job)
    await second.run_due(job)

    assert len(passes) == 1
