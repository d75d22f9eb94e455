"""Leases on periodic jobs, so that of all the workers running, one makes each pass.

Taking a lease is one conditional UPDATE: the pass is due and nobody holds the lease, or the
lease held has run out. Two workers asking at once are ordered by the row lock (PostgreSQL
re-reads the row after the first commits; SQLite runs one writer at a time), so exactly one
takes it. Times are the workers' clocks, which must agree (NTP) to well within a lease.
"""

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.job_lease import JobLease


@dataclass(frozen=True, slots=True)
class Turn:
    """Whether this worker took the lease, and if not, when it is worth asking again."""

    taken: bool
    ask_again_at: datetime


def holder_name() -> str:
    """Who holds a lease: this host and process, and a token that tells two runs of it apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def take(
    session: AsyncSession, name: str, holder: str, *, now: datetime, lease: timedelta, first_due: datetime
) -> Turn:
    """Take the lease on `name` until `now + lease` if its pass is due and no live lease is held.

    A job never seen before is first due at `first_due`.
    """
    await _known(session, name, first_due)
    taking = (
        update(JobLease)
        .where(
            col(JobLease.name) == name,
            col(JobLease.due_at) <= now,
            or_(col(JobLease.leased_until).is_(None), col(JobLease.leased_until) <= now),
        )
        .values(leased_until=now + lease, holder=holder, last_started_at=now)
    )
    if getattr(await session.execute(taking), "rowcount", 0) == 1:
        return Turn(True, now + lease)
    return Turn(False, await _next_chance(session, name))


async def _known(session: AsyncSession, name: str, first_due: datetime) -> None:
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(JobLease).values(name=name, due_at=first_due)
    await session.execute(statement.on_conflict_do_nothing(index_elements=["name"]))


async def _next_chance(session: AsyncSession, name: str) -> datetime:
    """When the pass falls due, or when the lease held on it runs out, whichever is later."""
    query = select(col(JobLease.due_at), col(JobLease.leased_until)).where(col(JobLease.name) == name)
    due_at, leased_until = (await session.execute(query)).one()
    return max(due_at, leased_until) if leased_until else due_at


async def finish(session: AsyncSession, name: str, holder: str, *, now: datetime, next_due: datetime) -> None:
    """The pass is made: the next is due at `next_due`, and the lease is let go.

    Only by its holder: a pass that outran its lease does not move a later holder's.
    """
    await session.execute(
        update(JobLease)
        .where(col(JobLease.name) == name, col(JobLease.holder) == holder)
        .values(due_at=next_due, leased_until=None, holder=None, last_finished_at=now)
    )


async def give_up(session: AsyncSession, name: str, holder: str, *, retry_at: datetime) -> None:
    """The pass failed: let the lease go, to be tried again (by any worker) from `retry_at`."""
    await session.execute(
        update(JobLease)
        .where(col(JobLease.name) == name, col(JobLease.holder) == holder)
        .values(due_at=retry_at, leased_until=None, holder=None)
    )
