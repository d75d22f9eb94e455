"""Committing a unit of work: the journal is written with the change, then one commit.

Services record what happened as they go; nothing of the journal is written until
`commit()`, which appends the audit events to the hash chain and the domain events to the
outbox while holding the chain's row lock, then commits. Taking that lock only in the last
moment of the transaction keeps writers serialised for as short a time as possible, and
makes both the chain and the outbox sequence follow commit order.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_sessionmaker
from app.services import journal_store
from app.services.journal import take_journal

T = TypeVar("T")


async def commit(session: AsyncSession) -> None:
    """Write the journal and commit: the only place a unit of work is committed."""
    pending = take_journal(session)
    if not pending:
        await session.commit()
        return
    # The change itself is written first, so the chain lock is held only for the journal.
    await session.flush()
    async with journal_store.writing(session, pending):
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
