"""Setting up database faults: other settings for a while, a table lock held by the test, counters."""

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy.engine import make_url

from app.config import get_settings
from app.db import dispose_engine
from tests.support.factories import back_minted_token
from tests.support.referral_helpers import Network, make_network
from tests.support.tcp_proxy import TcpProxy, proxy_to

POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
PROBLEM = "application/problem+json"


@contextlib.asynccontextmanager
async def reconfigured(**env: str) -> AsyncIterator[None]:
    """The settings and engines rebuilt from these environment variables for the body, then restored."""
    saved = {name: os.environ.get(name) for name in env}
    await dispose_engine()
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        yield
    finally:
        await dispose_engine()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


@contextlib.asynccontextmanager
async def proxied(database_url: str) -> AsyncIterator[TcpProxy]:
    """The application's database reached through a TCP proxy the test can cut."""
    url = make_url(database_url)
    async with proxy_to(url.host or "127.0.0.1", url.port or 5432) as proxy:
        through = url.set(port=proxy.port).render_as_string(hide_password=False)
        async with reconfigured(DATABASE_URL=through):
            yield proxy


@contextlib.asynccontextmanager
async def unhooked_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client without the hook that makes the account behind a test token on first use.

    The hook reads the database before every request, and these tests take the database away
    or lock it; `network_with_accounts` makes the accounts while it is still there.
    """
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def network_with_accounts() -> Network:
    """A referral network whose tokens' accounts exist already."""
    net = await make_network()
    for headers in (net.centre_headers, net.debt_headers, net.outsider_headers):
        await back_minted_token(httpx.Request("GET", "http://testserver/", headers=headers))
    return net


def unavailable_count(cause: str) -> float:
    """How many 503s the process has counted for this cause."""
    return REGISTRY.get_sample_value("http_unavailable_total", {"cause": cause}) or 0.0


def assert_unavailable(response: httpx.Response) -> None:
    """A 503 problem document that says when to try again."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["status"] == 503


async def pg_connect(database_url: str) -> Any:
    """A plain asyncpg connection of the test's own, outside the application's pool."""
    url = make_url(database_url)
    return await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
    )


@contextlib.asynccontextmanager
async def pg_table_locked(database_url: str, table: str = "referrals") -> AsyncIterator[Any]:
    """Hold an ACCESS EXCLUSIVE lock on `table` (PostgreSQL) for the body; yields the connection."""
    conn = await pg_connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            yield conn
    finally:
        await conn.close()


@contextlib.contextmanager
def sqlite_write_locked(database_url: str) -> Iterator[None]:
    """Hold SQLite's write lock (as another writer would) for the body."""
    conn = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


async def waiting_on_a_lock(conn: Any, application_name: str = "referral-exchange") -> int:
    """The pid of the application's backend once it waits for a lock (within five seconds)."""
    query = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = $1 AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(5):
        while (pid := await conn.fetchval(query, application_name)) is None:
            await asyncio.sleep(0.02)
            # Inside a transaction the activity view is read once and kept; read it afresh.
            await conn.execute("SELECT pg_stat_clear_snapshot()")
    return int(pid)


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """Seconds the body took, in the one-item list yielded, once it ends."""
    taken: list[float] = []
    started = time.monotonic()
    yield taken
    taken.append(time.monotonic() - started)
