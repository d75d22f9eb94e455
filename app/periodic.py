"""Periodic jobs shared by every worker: each pass is made by the one worker that takes its lease.

Each job has a row (app/models/job_lease.py) saying when its next pass is due and who holds it.
A worker asks for the lease only once it could be had (the pass due, or the lease held run
out): between times it remembers when to ask, so idle workers cost the database nothing. A pass
that fails lets the lease go, to be tried again after RETRY_AFTER by whichever worker asks first.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app import unit_of_work
from app.db import utcnow
from app.services import job_leases

logger = logging.getLogger("app.worker")
Clock = Callable[[], datetime]
# A failed pass (mostly the database gone for a moment) is tried again this long after.
RETRY_AFTER = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Periodic:
    """A job, when its first pass is due, when each next one is, and how long a pass may hold it."""

    name: str
    run: Callable[[], Awaitable[int]]
    first_due: Callable[[datetime], datetime]
    next_due: Callable[[datetime], datetime]
    # Longer than a pass takes: a holder that dies delays the next pass by up to this; one that
    # outruns it may see a second worker start the same pass, which is correct but wasted.
    lease: timedelta


def every(seconds: float) -> tuple[Callable[[datetime], datetime], Callable[[datetime], datetime]]:
    """First due at once, then `seconds` after each pass ends."""
    return (lambda now: now), (lambda now: now + timedelta(seconds=seconds))


def daily_from(hour: int) -> tuple[Callable[[datetime], datetime], Callable[[datetime], datetime]]:
    """First due at `hour` (UTC) today, then at `hour` on the day after each pass."""

    def today(now: datetime) -> datetime:
        return now.replace(hour=hour, minute=0, second=0, microsecond=0)

    return today, (lambda now: today(now) + timedelta(days=1) if now >= today(now) else today(now))


class Periodics:
    """Makes the passes that are due and that this worker gets the lease of."""

    def __init__(self, jobs: list[Periodic], clock: Clock = utcnow) -> None:
        self.jobs, self.clock = jobs, clock
        self.holder = job_leases.holder_name()
        self._ask_at: dict[str, datetime] = {}

    async def run_due(self, job: Periodic) -> int:
        """Make a pass of `job` if it is due and the lease is ours; what the pass did (0: none)."""
        now = self.clock()
        if now < self._ask_at.get(job.name, now):
            return 0
        turn = await unit_of_work.committed(
            lambda s: job_leases.take(
                s, job.name, self.holder, now=now, lease=job.lease, first_due=job.first_due(now)
            )
        )
        self._ask_at[job.name] = turn.ask_again_at
        return await self._pass(job) if turn.taken else 0

    async def _pass(self, job: Periodic) -> int:
        try:
            done = await job.run()
        except Exception:
            retry_at = self.clock() + RETRY_AFTER
            self._ask_at[job.name] = retry_at
            await unit_of_work.committed(
                lambda s: job_leases.give_up(s, job.name, self.holder, retry_at=retry_at)
            )
            raise
        now = self.clock()
        self._ask_at[job.name] = next_due = job.next_due(now)
        await unit_of_work.committed(
            lambda s: job_leases.finish(s, job.name, self.holder, now=now, next_due=next_due)
        )
        return done
