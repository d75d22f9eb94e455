"""Failed password sign-ins counted per account name, so guessing one account's password is bounded."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class LoginThrottle(SQLModel, table=True):
    """Failures in the current window, and until when password sign-in is refused.

    Keyed by a keyed hash of the name tried, whether or not such an account exists: an unknown
    name is counted the same way, so the work done does not tell the two apart, and the names
    typed are not stored.
    """

    __tablename__ = "login_throttles"

    account_key: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    window_started_at: datetime = Field(sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
