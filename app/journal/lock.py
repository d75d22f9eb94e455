"""The sequencer's lock: one batch at a time across every process, by a transaction-scoped PostgreSQL
advisory lock (let go at commit or rollback whatever happens); SQLite's write lock does it there.
"""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

# Any fixed 64-bit number, the same in every process; this one spells "RX AUDIT".
SEQUENCER_LOCK = 0x5258_2041_5544_4954


def _on_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def try_take(session: AsyncSession) -> bool:
    """Take the lock for this transaction, unless another sequencer holds it."""
    if not _on_postgresql(session):
        return True
    return bool((await session.execute(select(func.pg_try_advisory_xact_lock(SEQUENCER_LOCK)))).scalar())


async def take(session: AsyncSession) -> None:
    """Take the lock for this transaction, waiting for whoever holds it."""
    if _on_postgresql(session):
        await session.execute(select(func.pg_advisory_xact_lock(SEQUENCER_LOCK)))


async def fence(session: AsyncSession) -> None:
    """Keep the sequencer out until this unit of work ends: it changes what the sequencer reads."""
    await take(session)
