"""Changing the audit log behind the service's back, as someone with database access could."""

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from app.config import get_settings
from app.db import get_engine, get_sessionmaker
from app.journal import sequencer
from app.journal.leaves import event_leaf_hash
from app.journal.notes import Signer
from app.models.audit import AuditEvent
from app.unit_of_work import committed

GUARDED = ("audit_events", "audit_checkpoints")


async def _unguarded(conn: AsyncConnection, enable: bool) -> None:
    if conn.dialect.name == "postgresql":
        for table in GUARDED:
            await conn.execute(text(f"ALTER TABLE {table} {'ENABLE' if enable else 'DISABLE'} TRIGGER USER"))


async def tamper(*statements: str, **params: Any) -> None:
    """Run statements on the log's tables, with PostgreSQL's append-only triggers off for them."""
    async with get_engine().begin() as conn:
        await _unguarded(conn, enable=False)
        for statement in statements:
            await conn.execute(text(statement), params)
        await _unguarded(conn, enable=True)


async def rehash_leaf(seq: int, action: str) -> None:
    """Change one event and store the leaf hash it now has, as a careful forger would."""
    async with get_sessionmaker()() as session:
        event = (await session.execute(select(AuditEvent).where(col(AuditEvent.seq) == seq))).scalar_one()
        event.action = action
        forged = event_leaf_hash(event)
    await tamper(
        "UPDATE audit_events SET action = :a, leaf_hash = :h WHERE seq = :s", a=action, h=forged, s=seq
    )


async def swap_leaves(first: int, second: int) -> None:
    """Swap two events' places in the log, each keeping its own (correct) leaf hash."""
    await tamper(
        "UPDATE audit_events SET seq = -1 WHERE seq = :a",
        "UPDATE audit_events SET seq = :a WHERE seq = :b",
        "UPDATE audit_events SET seq = :b WHERE seq = -1",
        a=first,
        b=second,
    )


async def forge_log(statement: str, signer: Signer, **params: Any) -> None:
    """Change events, then rebuild the whole log over them (leaves, tree, checkpoints) and sign it afresh."""
    await tamper(
        statement,
        "UPDATE audit_events SET seq = NULL, leaf_hash = NULL",
        "DELETE FROM audit_tree_tiles",
        "DELETE FROM audit_checkpoints",
        **params,
    )
    origin = get_settings().audit_log_origin
    await committed(lambda session: sequencer.seal_batch(session, signer, origin, limit=10**6))
