"""On PostgreSQL, pooled connections are tested before use only after they have been idle."""

import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import db
from app.config import get_settings

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the idle ping is set up for the PostgreSQL pool",
)


@pytest.fixture
def engine() -> Iterator[AsyncEngine]:
    engine = db.create_engine(get_settings())
    yield engine
    engine.sync_engine.dispose()  # closes without awaiting: the connections are the test's own


def count_pings(monkeypatch: pytest.MonkeyPatch, engine: AsyncEngine) -> list[object]:
    pings: list[object] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_back_in_the_pool_just_now_is_used_without_a_ping(
    monkeypatch: pytest.MonkeyPatch, engine: AsyncEngine
) -> None:
    first = await backend_pid(engine)
    pings = count_pings(monkeypatch, engine)

    assert await backend_pid(engine) == first
    assert await backend_pid(engine) == first
    assert pings == []


async def test_an_idle_connection_that_died_is_replaced_before_use(
    monkeypatch: pytest.MonkeyPatch, engine: AsyncEngine
) -> None:
    async with engine.connect() as other:  # a second pooled connection, to end the first's backend
        dead = await backend_pid(engine)
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dead})
    monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 0.0)
    pings = count_pings(monkeypatch, engine)

    replaced = await backend_pid(engine)

    assert pings
    assert replaced != dead
