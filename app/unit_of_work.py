"""Committing a unit of work: its journal is inserted with the change, then one commit; no lock is
shared with other writers, since the sequencer orders what they committed (docs/architecture.md).
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
