"""The worker's periodic jobs, each with when its next pass is due and who, if anyone, is doing it."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class JobLease(SQLModel, table=True):
    """One periodic job (the digests, retention, follow-up announcements) shared by every worker.

    A worker runs a pass only after taking the lease: the pass is due and no lease is held, or
    the one held has run out (its holder died). So N workers make one pass, not N; a holder
    that dies delays the next pass by its lease at most.
    """

    __tablename__ = "job_leases"

    name: str = Field(primary_key=True, max_length=64)
    due_at: datetime = Field(sa_type=UTCDateTime)
    leased_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    holder: str | None = Field(default=None, max_length=200)
    last_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
