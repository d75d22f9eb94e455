"""Changing the audit trail behind the service's back, as someone with database access could."""

from typing import Any

from sqlalchemy import select, text
from sqlmodel import col

from app.db import get_engine, get_sessionmaker
from app.models.audit import AuditEvent
from app.services.audit import compute_hash


async def tamper(statement: str, **params: Any) -> None:
    """Run one statement on the trail, with PostgreSQL's append-only triggers off for it."""
    async with get_engine().begin() as conn:
        guarded = conn.dialect.name == "postgresql"
        if guarded:
            await conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        await conn.execute(text(statement), params)
        if guarded:
            await conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


async def rewrite_with_valid_hash(seq: int, action: str) -> None:
    """Change one event and recompute its own hash, as a careful forger would."""
    async with get_sessionmaker()() as session:
        event = (await session.execute(select(AuditEvent).where(col(AuditEvent.seq) == seq))).scalar_one()
        event.action = action
        forged = compute_hash(event)
    await tamper("UPDATE audit_events SET action = :a, hash = :h WHERE seq = :s", a=action, h=forged, s=seq)
