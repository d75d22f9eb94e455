"""Migrating the hash chain: verified once, then sealed into the transparency log in its own order."""

import asyncio
import json
import re
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from app.cli import alembic_config
from app.config import get_settings
from app.db import get_engine, get_sessionmaker
from app.services import audit
from tests.support.factories import make_agency, record_events, seal


async def query(statement: str) -> list[tuple[Any, ...]]:
    async with get_engine().connect() as conn:
        return [tuple(row) for row in await conn.execute(text(statement))]


async def change(statement: str) -> None:
    """One change to the chained events, with the chain's append-only triggers off for it."""
    async with get_engine().begin() as conn:
        guarded = conn.dialect.name == "postgresql"
        if guarded:
            await conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        await conn.execute(text(statement))
        if guarded:
            await conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


async def migrate(database_url: str, revision: str) -> None:
    config = alembic_config(database_url)
    move = command.upgrade if revision == "head" else command.downgrade
    # Alembic's env.py runs its own event loop, so it cannot share this one's thread.
    await asyncio.to_thread(move, config, revision)


async def test_the_chain_becomes_the_first_leaves_in_its_order(database_url: str) -> None:
    await make_agency()
    await record_events(3)
    await seal()
    await record_events(1)  # committed, not sealed: it is chained after the sealed ones
    await migrate(database_url, "0008")
    chain = await query("SELECT seq, action, hash FROM audit_events ORDER BY seq")

    await migrate(database_url, "head")
    await seal()

    log = await query("SELECT seq, action, details FROM audit_events ORDER BY seq")
    assert [(seq, action) for seq, action, _ in log[:-1]] == [(seq - 1, action) for seq, action, _ in chain]
    seq, action, details = log[-1]
    assert (seq, action) == (5, "audit.chain_migrated")
    found = json.loads(details) if isinstance(details, str) else details  # JSON text on SQLite
    assert found == {"chain_events": 5, "chain_head_hash": chain[-1][2]}
    async with get_sessionmaker()() as session:
        assert (await audit.verify_log(session, get_settings())).valid


async def test_a_broken_chain_is_not_migrated(database_url: str) -> None:
    await record_events(3)
    await migrate(database_url, "0008")
    await change("UPDATE audit_events SET action = 'forged' WHERE seq = 2")

    with pytest.raises(RuntimeError, match=re.escape("broken at seq 2 (changed)")):
        await migrate(database_url, "head")

    await change("UPDATE audit_events SET action = 'test.recorded' WHERE seq = 2")
    await migrate(database_url, "head")
    await seal()
    assert [row[0] for row in await query("SELECT seq FROM audit_events ORDER BY seq")] == [0, 1, 2, 3]
