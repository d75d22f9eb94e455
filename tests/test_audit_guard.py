"""On PostgreSQL the database itself refuses to rewrite the audit log: sealing once is the only change."""

import asyncio
import os

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.cli import alembic_config
from app.db import get_engine
from tests.support.factories import make_agency, record_events, seal

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the append-only triggers exist on PostgreSQL only",
)

REFUSED = [
    "UPDATE audit_events SET action = 'agency.deleted' WHERE seq = 0",
    "UPDATE audit_events SET seq = 7 WHERE seq = 0",
    "UPDATE audit_events SET leaf_hash = NULL, seq = NULL WHERE seq = 0",
    "DELETE FROM audit_events WHERE seq = 0",
    "DELETE FROM audit_events WHERE seq IS NULL",
    "TRUNCATE audit_events",
    "UPDATE audit_events SET seq = 9, leaf_hash = 'x', action = 'agency.deleted' WHERE seq IS NULL",
    "UPDATE audit_checkpoints SET note = 'forged'",
    "DELETE FROM audit_checkpoints",
    "TRUNCATE audit_checkpoints",
]


async def run_sql(statement: str) -> None:
    async with get_engine().begin() as conn:
        await conn.execute(text(statement))


async def actions() -> list[tuple[int | None, str]]:
    async with get_engine().connect() as conn:
        rows = await conn.execute(text("SELECT seq, action FROM audit_events ORDER BY id"))
        return [(seq, action) for seq, action in rows]


@pytest.mark.parametrize("statement", REFUSED)
async def test_changing_or_removing_the_log_is_refused(statement: str) -> None:
    await make_agency()
    await seal()
    await record_events(1)  # committed, not sealed
    before = await actions()

    with pytest.raises(DBAPIError, match="is append-only"):
        await run_sql(statement)

    assert await actions() == before


async def test_sealing_an_unsealed_event_once_is_allowed() -> None:
    await record_events(1)

    await run_sql("UPDATE audit_events SET seq = 0, leaf_hash = 'x' WHERE seq IS NULL")

    with pytest.raises(DBAPIError, match="append-only"):
        await run_sql("UPDATE audit_events SET seq = 1, leaf_hash = 'y' WHERE seq = 0")


async def test_downgrade_removes_the_guard_and_upgrade_restores_it(database_url: str) -> None:
    await make_agency()
    await seal()
    config = alembic_config(database_url)

    # Alembic's env.py runs its own event loop, so it cannot share this one's thread.
    await asyncio.to_thread(command.downgrade, config, "0001")
    try:
        async with get_engine().connect() as conn:
            await conn.execute(text("UPDATE audit_events SET action = 'x' WHERE seq = 1"))
            await conn.rollback()
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")

    await seal()  # the chain, verified by the migration, is sealed into the log in its order
    with pytest.raises(DBAPIError, match="append-only"):
        await run_sql(REFUSED[0])
    assert await actions() == [(0, "agency.created"), (1, "audit.chain_migrated")]
