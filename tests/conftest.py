"""Test harness: a database built by `alembic upgrade head`, emptied before every test.

TEST_DATABASE_URL picks the server: unset means a fresh SQLite file; a PostgreSQL URL
names a server on which a private database is created for this run and dropped after it.
"""

import asyncio
import os
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from app.journal import notes

os.environ["ENVIRONMENT"] = "test"
os.environ["JWT_SECRET"] = "test-secret-" + "0123456789" * 4
os.environ["SECRETS_KEY"] = "dGVzdC1vbmx5LWtleS0wMTIzNDU2Nzg5YWJjZGVmZ2g="
os.environ["PASSWORD_HASH_TIME_COST"] = "1"
os.environ["PASSWORD_HASH_MEMORY_KIB"] = "1024"
os.environ["RATE_LIMIT_ENABLED"] = "false"  # tests that need budgets set their own
os.environ["AUDIT_LOG_ORIGIN"] = "tests.localhost/audit"
os.environ["AUDIT_SIGNING_KEY"] = notes.new_signer("tests.localhost/audit").text()

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from app.cli import alembic_config
from app.config import get_settings
from app.db import get_engine

if TYPE_CHECKING:
    from tests.support.referral_helpers import Network

SQLITE = "sqlite"
GUARDED_TABLES = ("audit_events", "audit_checkpoints")


def _run_in_thread(target: object) -> None:
    # Alembic's env.py runs its own event loop; keep it off the test loop's thread.
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _on_server(server_url: str, statement: str) -> None:
    """Run one statement on the server's maintenance database (CREATE/DROP DATABASE)."""
    url = make_url(server_url)

    async def run() -> None:
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database or "postgres",
        )
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    _run_in_thread(lambda: asyncio.run(run()))


def _create_pg_database(server_url: str) -> str:
    name = f"rx_test_{uuid.uuid4().hex[:12]}"
    _on_server(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(database_url: str, server_url: str) -> None:
    _on_server(server_url, f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def database_url() -> Iterator[str]:
    """Create and migrate this run's database; drop it afterwards."""
    server = os.environ.get("TEST_DATABASE_URL", "")
    workdir = Path(tempfile.mkdtemp(prefix="rx-test-"))
    url = (
        _create_pg_database(server)
        if server.startswith("postgresql")
        else f"sqlite+aiosqlite:///{workdir}/test.db"
    )
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    _run_in_thread(lambda: __import__("alembic.command").command.upgrade(alembic_config(url), "head"))
    yield url
    if server.startswith("postgresql"):
        _drop_pg_database(url, server)


@pytest.fixture(autouse=True)
async def clean_database(database_url: str) -> None:
    """Start every test from the freshly migrated, empty state."""
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    async with get_engine().begin() as conn:
        if conn.dialect.name == SQLITE:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))
        else:
            # The append-only triggers refuse TRUNCATE; they are off only inside this transaction.
            for guarded in GUARDED_TABLES:
                await conn.execute(text(f"ALTER TABLE {guarded} DISABLE TRIGGER USER"))
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            for guarded in GUARDED_TABLES:
                await conn.execute(text(f"ALTER TABLE {guarded} ENABLE TRIGGER USER"))


@pytest.fixture(scope="session")
def app(database_url: str) -> FastAPI:
    from app.main import create_app

    return create_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    from tests.support.factories import back_minted_token

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    hooks = {"request": [back_minted_token]}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks=hooks
    ) as http:
        yield http


@pytest.fixture
async def net(clean_database: None) -> "Network":
    """The demo-like network of agencies, services and accounts most tests work in."""
    from tests.support.referral_helpers import make_network

    return await make_network()


@pytest.fixture(scope="session", autouse=True)
async def _dispose_engine_at_end(database_url: str) -> AsyncIterator[None]:
    yield
    from app.db import dispose_engine

    await dispose_engine()
