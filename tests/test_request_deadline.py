"""A request has a deadline, kept by the database too: past it, a 503 and nothing written.

A statement waiting on a lock is cancelled by the database (PostgreSQL's statement and lock
timeouts, SQLite's busy timeout, set from the time left as each transaction begins); anything
else still running a moment after the deadline is cancelled in the application.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import deadline, unit_of_work
from app.db import get_engine, get_sessionmaker
from app.deps import SessionDep
from app.main import create_app
from app.models.subject import Subject
from tests.support.fault_support import (
    POSTGRES,
    assert_unavailable,
    network_with_accounts,
    pg_table_locked,
    reconfigured,
    sqlite_write_locked,
    stopwatch,
    unavailable_count,
    unhooked_client,
)
from tests.support.referral_helpers import Network, referral_body, subject_body

ON_POSTGRES = pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's statement and lock timeouts")
ON_SQLITE = pytest.mark.skipif(POSTGRES, reason="SQLite's busy timeout")
TWO_SECONDS = {"REQUEST_TIMEOUT_SECONDS": "2", "DATABASE_POOL_TIMEOUT_SECONDS": "1"}
# Long enough that a loaded machine cannot use up the slack before the transaction begins, and
# far enough from the 30 s used outside a request to tell the two apart.
TWELVE_SECONDS = {"REQUEST_TIMEOUT_SECONDS": "12", "DATABASE_POOL_TIMEOUT_SECONDS": "1"}


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """No hook that needs the database these tests take away (accounts are made up front)."""
    async with unhooked_client(app) as http:
        yield http


@ON_POSTGRES
async def test_a_table_locked_past_the_deadline_is_a_503_in_time_and_the_write_is_rolled_back(
    database_url: str, client: httpx.AsyncClient
) -> None:
    net = await network_with_accounts()
    lock_timeouts = unavailable_count("lock_timeout")

    async with reconfigured(**TWO_SECONDS), pg_table_locked(database_url):
        with stopwatch() as took:
            answer = await create(client, net, "Abandoned")

    assert_unavailable(answer)
    assert took[0] < 2 + 1
    assert unavailable_count("lock_timeout") == lock_timeouts + 1
    assert await people_named("Abandoned") == 0
    assert (await create(client, net, "Abandoned")).status_code == 201


@ON_SQLITE
async def test_the_database_locked_past_the_deadline_is_a_503_in_time_and_nothing_is_written(
    database_url: str, client: httpx.AsyncClient
) -> None:
    net = await network_with_accounts()
    busy = unavailable_count("busy")

    async with reconfigured(**TWO_SECONDS):
        with sqlite_write_locked(database_url), stopwatch() as took:
            answer = await create(client, net, "Abandoned")

    assert_unavailable(answer)
    assert took[0] < 2 + 1
    assert unavailable_count("busy") == busy + 1
    assert await people_named("Abandoned") == 0
    assert (await create(client, net, "Abandoned")).status_code == 201


async def test_a_request_still_running_after_its_deadline_is_cancelled_and_answered_503() -> None:
    app = with_route(create_app(), "/v1/test/slow", _slow)
    expired = unavailable_count("deadline")

    async with reconfigured(REQUEST_TIMEOUT_SECONDS="0.5", DATABASE_POOL_TIMEOUT_SECONDS="0.2"):
        with stopwatch() as took:
            answer = await served_by(app).get("/v1/test/slow")

    assert_unavailable(answer)
    assert took[0] < 0.5 + 1
    assert unavailable_count("deadline") == expired + 1


async def test_a_request_that_has_reached_its_commit_is_not_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    app = with_route(create_app(), "/v1/test/writes", _uses_the_session)
    commit = unit_of_work.commit

    async def slow_commit(session: AsyncSession) -> None:
        await asyncio.sleep(1 + deadline.GRACE_SECONDS + 0.5)  # past where it would be cut off
        await commit(session)

    monkeypatch.setattr(unit_of_work, "commit", slow_commit)
    async with reconfigured(REQUEST_TIMEOUT_SECONDS="1", DATABASE_POOL_TIMEOUT_SECONDS="0.5"):
        answer = await served_by(app).get("/v1/test/writes")

    assert answer.status_code == 200


@ON_POSTGRES
async def test_transactions_begun_in_a_request_time_out_with_its_deadline() -> None:
    app = with_route(create_app(), "/v1/test/limits", _postgres_limits)

    async with reconfigured(**TWELVE_SECONDS):
        limits = (await served_by(app).get("/v1/test/limits")).json()
        outside = await _postgres_limits_outside_a_request()

    assert 7000 < limits["statement_timeout"] <= 12000
    assert limits["lock_timeout"] < limits["statement_timeout"]
    assert outside == {"statement_timeout": 0, "lock_timeout": 0}


@ON_SQLITE
async def test_transactions_begun_in_a_request_wait_for_the_database_until_its_deadline() -> None:
    app = with_route(create_app(), "/v1/test/limits", _sqlite_busy_timeout)

    async with reconfigured(**TWELVE_SECONDS):
        in_request = (await served_by(app).get("/v1/test/limits")).json()
        async with get_sessionmaker()() as session:
            outside = (await session.execute(text("PRAGMA busy_timeout"))).scalar_one()

    assert 7000 < in_request <= 12000
    assert outside == 30000


async def _slow() -> None:
    await asyncio.sleep(30)


async def _uses_the_session(session: SessionDep) -> None:
    await session.execute(text("SELECT 1"))


async def _postgres_limits(session: SessionDep) -> dict[str, int]:
    return await _limits(session)


async def _postgres_limits_outside_a_request() -> dict[str, int]:
    async with get_sessionmaker()() as session:
        return await _limits(session)


async def _limits(session: Any) -> dict[str, int]:
    """The transaction's timeouts in milliseconds (0: none)."""
    query = "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"
    statement, lock = (await session.execute(text(query))).one()
    return {"statement_timeout": _milliseconds(statement), "lock_timeout": _milliseconds(lock)}


def _milliseconds(setting: str) -> int:
    if setting.endswith("ms"):
        return int(setting[:-2])
    return int(float(setting.rstrip("s")) * 1000)


async def _sqlite_busy_timeout(session: SessionDep) -> int:
    return int((await session.execute(text("PRAGMA busy_timeout"))).scalar_one())


def with_route(app: FastAPI, path: str, endpoint: Any) -> FastAPI:
    app.add_api_route(path, endpoint)
    return app


def served_by(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def create(client: httpx.AsyncClient, net: Network, family_name: str) -> httpx.Response:
    body = referral_body(net.debt_service, subject=subject_body(family_name=family_name))
    return await client.post("/v1/referrals", json=body, headers=net.centre_headers)


async def people_named(family_name: str) -> int:
    async with get_engine().connect() as connection:
        query = select(func.count()).select_from(Subject).where(col(Subject.family_name) == family_name)
        return int((await connection.execute(query)).scalar_one())


async def test_verifying_the_whole_audit_log_has_a_deadline_of_its_own() -> None:
    inner = FastAPI()
    for path in ("/v1/audit/verify", "/audit/verify", "/v1/audit/events"):
        inner.add_api_route(path, _time_left)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=deadline.RequestDeadline(inner)), base_url="http://testserver"
    )

    async with reconfigured(**TWO_SECONDS, AUDIT_VERIFY_TIMEOUT_SECONDS="120"):
        left = {path: (await client.get(path)).json() for path in inner.openapi()["paths"]}

    assert 100 < left["/v1/audit/verify"] <= 120
    assert 100 < left["/audit/verify"] <= 120
    assert left["/v1/audit/events"] <= 2


async def _time_left() -> float | None:
    return deadline.remaining()
