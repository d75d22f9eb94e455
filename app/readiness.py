"""Readiness: whether the database would take a write now, answered within two seconds.

The probe opens a connection of its own each time, outside the request pool, so requests
stalled on the database do not hold it up, and it proves that a new connection can be made.
In one transaction, rolled back, it takes the locks every write needs and checks the database
is writable: on PostgreSQL, ROW EXCLUSIVE on `referrals` and `audit_events` (what an INSERT
or UPDATE takes; a table lock held by maintenance or a migration blocks it) within half a
second, and a transaction that is not read-only (a standby, or default_transaction_read_only);
on SQLite, the database's write lock (BEGIN IMMEDIATE) within half a second.
"""

import asyncio

from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import PROBE_LIMITS, get_probe_engine
from app.unavailable import cause_of

# The probe's own budget; the rest of the two seconds is for answering.
CHECK_SECONDS = 1.5
_WRITE_LOCKS = "LOCK TABLE referrals, audit_events IN ROW EXCLUSIVE MODE"
_READ_ONLY = "SELECT current_setting('transaction_read_only') = 'on'"
_SQLITE_TABLES = "SELECT count(*) FROM referrals, audit_events WHERE 0"


async def problem() -> str | None:
    """Why the database cannot take a write now, or None if it can."""
    try:
        async with asyncio.timeout(CHECK_SECONDS), get_probe_engine().connect() as connection:
            return await _check(connection)
    except TimeoutError:
        return f"The database did not accept a write within {CHECK_SECONDS:g} s."
    except Exception as exc:  # whatever the failure, the answer is "not ready"
        cause = cause_of(exc)
        return f"The database cannot take a write ({cause.value if cause else type(exc).__name__})."


async def _check(connection: AsyncConnection) -> str | None:
    """Take the write locks in a transaction that is then rolled back."""
    try:
        if connection.dialect.name != "postgresql":
            await connection.exec_driver_sql(_SQLITE_TABLES)  # begins with the write lock
            return None
        await connection.exec_driver_sql(PROBE_LIMITS)
        await connection.exec_driver_sql(_WRITE_LOCKS)
        read_only = (await connection.exec_driver_sql(_READ_ONLY)).scalar_one()
        return "The database is read-only." if read_only else None
    finally:
        await connection.rollback()
