"""Per-account password throttle: failures counted in one statement, shared by every process.

Each failed password sign-in for a name moves its counter with one INSERT ... ON CONFLICT DO
UPDATE, which holds the row while it decides, so failures at the same moment from many
addresses or processes are each counted. The tenth failure within the window locks password
sign-in for that name; failures while it is locked are not counted, so the lock ends on time.
"""

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, case, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import Settings
from app.db import UTCDateTime
from app.models.login_throttle import LoginThrottle
from app.persistence.rows import table_of

THROTTLES = table_of(LoginThrottle)


def account_key(settings: Settings, name: str) -> str:
    """A keyed hash of the name tried: the same for every try, and not the name itself.

    Keyed with JWT_SECRET, so changing it (which ends every token too) starts every count afresh.
    """
    key = settings.jwt_secret.get_secret_value().encode()
    return hmac.new(key, b"login-throttle:" + name.encode(), hashlib.sha256).hexdigest()


async def is_locked(session: AsyncSession, key: str, now: datetime) -> bool:
    """Whether password sign-in for this name is refused at `now`."""
    query = select(col(LoginThrottle.locked_until)).where(col(LoginThrottle.account_key) == key)
    locked_until = (await session.execute(query)).scalar_one_or_none()
    return locked_until is not None and locked_until > now


async def count_failure(session: AsyncSession, settings: Settings, key: str, now: datetime) -> bool:
    """Count a failed sign-in; True when this failure is the one that locks the name."""
    lock_ends = now + timedelta(seconds=settings.login_lock_seconds)
    insert = _insert_for(session).values(account_key=key, failures=1, window_started_at=now)
    upsert = insert.on_conflict_do_update(
        index_elements=[THROTTLES.c.account_key], set_=_after_failure(settings, now, lock_ends)
    ).returning(THROTTLES.c.locked_until)
    locked_until = (await session.execute(upsert)).scalar_one()
    return locked_until is not None and locked_until == lock_ends


def _after_failure(settings: Settings, now: datetime, lock_ends: datetime) -> dict[str, Any]:
    """The row's new values, computed from its current ones in SQL."""
    row = THROTTLES.c
    locked = row.locked_until > now
    new_window = row.window_started_at <= now - timedelta(seconds=settings.login_lock_window_seconds)
    counted = case((new_window, 1), else_=row.failures + 1)
    locks = counted >= settings.login_lock_failures
    started = case((locked, row.window_started_at), (new_window, _time(now)), else_=row.window_started_at)
    return {
        "failures": case((locked, row.failures), (locks, 0), else_=counted),
        "window_started_at": started,
        "locked_until": case((locked, row.locked_until), (locks, _time(lock_ends)), else_=row.locked_until),
    }


def _time(value: datetime) -> BindParameter[datetime]:
    # Typed as the columns are, so that SQLite stores it in their format.
    return literal(value, UTCDateTime())


async def forget(session: AsyncSession, key: str) -> None:
    """A successful sign-in starts the count afresh."""
    await session.execute(delete(LoginThrottle).where(col(LoginThrottle.account_key) == key))


def _insert_for(session: AsyncSession) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    return postgresql.insert(THROTTLES) if dialect == "postgresql" else sqlite.insert(THROTTLES)
