"""On PostgreSQL the database itself refuses to rewrite the audit trail."""

import asyncio
import os

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.cli import alembic_config
from app.db import get_engine
from tests.factories import make_agency

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the append-only triggers exist on PostgreSQL only",
)

REFUSED = [
    "UPDATE audit_events SET action = 'agency.deleted' WHERE seq = 1",
    "DELETE FROM audit_events WHERE seq = 1",
    "TRUNCATE audit_events",
]


async def run_sql(statement: str) -> None:
    async with get_engine().begin() as conn:
        await conn.execute(text(statement))


@pytest.mark.parametrize("statement", REFUSED)
async def test_changing_or_removing_audit_events_is_refused(statement: str) -> None:
    await make_agency()

    with pytest.raises(DBAPIError, match="audit_events is append-only"):
        await run_sql(statement)

    async with get_engine().connect() as conn:
        assert (await conn.execute(text("SELECT action FROM audit_events"))).scalars().all() == [
            "agency.created"
        ]


async def test_downgrade_removes_the_guard_and_upgrade_restores_it(database_url: str) -> None:
    await make_agency()
    config = alembic_config(database_url)

    # Alembic's env.py runs its own event loop, so it cannot share this one's thread.
    await asyncio.to_thread(command.downgrade, config, "0001")
    try:
        async with get_engine().connect() as conn:
            await conn.execute(text("UPDATE audit_events SET action = 'x' WHERE seq = 1"))
            await conn.rollback()
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")

    with pytest.raises(DBAPIError, match="append-only"):
        await run_sql(REFUSED[0])
