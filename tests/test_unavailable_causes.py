"""Which failures are the database being unavailable (503, by cause), and which are faults (500)."""

import sqlite3

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.deadline import DeadlineExceeded
from app.unavailable import Cause, cause_of


def wrapped(orig: BaseException) -> DBAPIError:
    """The error as SQLAlchemy raises it from the driver's."""
    return DBAPIError("SELECT 1", None, orig)


def raised_while_handling(first: BaseException, then: BaseException) -> BaseException:
    try:
        try:
            raise first
        except BaseException:
            raise then  # noqa: B904 (the context is the point)
    except BaseException as exc:
        return exc


def sqlite_busy() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorname = "SQLITE_BUSY"
    return error


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (wrapped(asyncpg.AdminShutdownError("terminating connection")), Cause.SHUTDOWN),
        (wrapped(asyncpg.CrashShutdownError("crash")), Cause.SHUTDOWN),
        (wrapped(asyncpg.CannotConnectNowError("starting up")), Cause.STARTING),
        (wrapped(asyncpg.TooManyConnectionsError("too many")), Cause.TOO_MANY_CONNECTIONS),
        (wrapped(asyncpg.QueryCanceledError("statement timeout")), Cause.STATEMENT_TIMEOUT),
        (wrapped(asyncpg.LockNotAvailableError("lock timeout")), Cause.LOCK_TIMEOUT),
        (wrapped(asyncpg.ConnectionDoesNotExistError("closed mid-operation")), Cause.DISCONNECTED),
        (wrapped(asyncpg.InterfaceError("connection is closed")), Cause.DISCONNECTED),
        (
            wrapped(
                asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress")
            ),
            Cause.DISCONNECTED,
        ),
        (ConnectionRefusedError(111, "Connection refused"), Cause.REFUSED),
        (ConnectionResetError(104, "Connection reset by peer"), Cause.DISCONNECTED),
        (TimeoutError(), Cause.CONNECT_TIMEOUT),
        (PoolTimeout("QueuePool limit of size 20 overflow 10 reached"), Cause.POOL_TIMEOUT),
        (OperationalError("BEGIN IMMEDIATE", None, sqlite_busy()), Cause.BUSY),
        (DeadlineExceeded("no answer within 10 s"), Cause.DEADLINE),
    ],
)
def test_unavailability_is_recognised_by_cause(error: BaseException, cause: Cause) -> None:
    assert cause_of(error) is cause


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("a fault in the code"),
        wrapped(asyncpg.UniqueViolationError("duplicate key")),
        wrapped(asyncpg.InterfaceError("cannot perform operation: another operation is in progress")),
        OperationalError("SELECT", None, sqlite3.OperationalError("no such table: referrals")),
    ],
)
def test_faults_in_the_code_or_the_data_are_not_unavailability(error: BaseException) -> None:
    assert cause_of(error) is None


def test_the_first_failure_decides_not_the_rollback_that_failed_after_it() -> None:
    rollback_failed = raised_while_handling(
        wrapped(asyncpg.AdminShutdownError("terminating connection")),
        wrapped(asyncpg.InterfaceError("connection is closed")),
    )
    assert cause_of(rollback_failed) is Cause.SHUTDOWN


def test_a_request_past_its_deadline_is_that_whatever_it_was_waiting_for() -> None:
    expired = raised_while_handling(TimeoutError(), DeadlineExceeded("no answer within 10 s"))
    assert cause_of(expired) is Cause.DEADLINE
