"""`/readyz` says within two seconds whether the database would take a write, on a connection
of its own: not ready while a lock blocks writes or the database is unreachable, ready while
the request pool is merely busy."""

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db import get_engine
from tests.support.fault_support import (
    POSTGRES,
    pg_connect,
    pg_table_locked,
    proxied,
    reconfigured,
    sqlite_write_locked,
    stopwatch,
)
from tests.support.tcp_proxy import TcpProxy

ON_POSTGRES = pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's locks, pool and connections")
ON_SQLITE = pytest.mark.skipif(POSTGRES, reason="SQLite's write lock")
WITHIN_SECONDS = 2.0


async def readiness(client: httpx.AsyncClient) -> int:
    """The probe's status, asserting it came within the limit."""
    with stopwatch() as took:
        status = (await client.get("/readyz")).status_code
    assert took[0] < WITHIN_SECONDS
    return status


async def test_ready_when_the_database_takes_writes(client: httpx.AsyncClient) -> None:
    assert await readiness(client) == 200


@ON_POSTGRES
@pytest.mark.parametrize("table", ["referrals", "audit_events"])
async def test_not_ready_while_a_table_every_write_needs_is_locked(
    database_url: str, client: httpx.AsyncClient, table: str
) -> None:
    async with pg_table_locked(database_url, table):
        assert await readiness(client) == 503
    assert await readiness(client) == 200


@ON_SQLITE
async def test_not_ready_while_another_writer_holds_the_database(
    database_url: str, client: httpx.AsyncClient
) -> None:
    with sqlite_write_locked(database_url):
        assert await readiness(client) == 503
    assert await readiness(client) == 200


@ON_POSTGRES
async def test_ready_while_every_pooled_connection_is_busy(client: httpx.AsyncClient) -> None:
    one_connection = {"DATABASE_POOL_SIZE": "1", "DATABASE_MAX_OVERFLOW": "0"}
    async with (
        reconfigured(**one_connection, DATABASE_POOL_TIMEOUT_SECONDS="5"),
        get_engine().connect() as taken,
    ):
        await taken.execute(text("SELECT 1"))
        assert await readiness(client) == 200


@ON_POSTGRES
async def test_not_ready_while_the_database_is_read_only(
    database_url: str, client: httpx.AsyncClient
) -> None:
    name = make_url(database_url).database
    admin = await pg_connect(database_url)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        async with reconfigured():  # new connections only see the change; none outlive the test
            assert await readiness(client) == 503
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        await admin.close()
    assert await readiness(client) == 200


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    async with proxied(database_url) as proxy:
        yield proxy


@ON_POSTGRES
async def test_not_ready_while_the_database_is_unreachable(
    proxy: TcpProxy, client: httpx.AsyncClient
) -> None:
    assert await readiness(client) == 200
    await proxy.close()
    assert await readiness(client) == 503
    await proxy.open()
    assert await readiness(client) == 200
