"""Committing a unit of work: the journal is written with the change, then one commit.

Services record what happened as they go; nothing of the journal is written until `commit()`,
which inserts the audit events and the outbox rows just before committing. They share no lock
with other writers: the sequencer orders them once they are committed (docs/architecture.md).
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_sessionmaker
from app.journal import store
from app.journal.pending import take_journal

T = TypeVar("T")


async def commit(session: AsyncSession) -> None:
    """Write the journal and commit: the only place a unit of work is committed."""
    pending = take_journal(session)
    if pending:
        await session.flush()
        await store.write(session, pending)
    await session.commit()


async def rollback(session: AsyncSession) -> None:
    """Roll back and drop whatever the journal had queued."""
    take_journal(session)
    await session.rollback()


async def committed(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in a fresh session as one unit of work and commit it (for processes, not requests)."""
    async with get_sessionmaker()() as session:
        result = await work(session)
        await commit(session)
        return result
