"""A database that is down, restarting, stalled or out of connections: which errors say so.

Such a failure is the service being unavailable for a moment, not a fault in the request or
in the code: it is answered 503 with Retry-After and counted by cause, never 500. The
connection such an error came from is often dead, and is then thrown away (`app.db`).
"""

from collections.abc import Iterator
from enum import StrEnum

import asyncpg
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.config import get_settings
from app.deadline import DeadlineExceeded
from app.errors import Responses, ServiceUnavailable
from app.metrics import UNAVAILABLE


class Cause(StrEnum):
    """Why the database could not serve a request (the label of the 503 counter)."""

    SHUTDOWN = "shutdown"  # the server is shutting down, restarting or crashed
    STARTING = "starting"  # the server is starting up or recovering, not yet accepting connections
    REFUSED = "refused"  # nothing accepts connections at the database's address
    CONNECT_TIMEOUT = "connect_timeout"  # a new connection was not established in time
    TOO_MANY_CONNECTIONS = "too_many_connections"  # the server's connection limit is reached
    DISCONNECTED = "disconnected"  # the connection broke while a request was using it
    POOL_TIMEOUT = "pool_timeout"  # every pooled connection stayed busy for the whole pool wait
    STATEMENT_TIMEOUT = "statement_timeout"  # the server cancelled a statement at the deadline
    LOCK_TIMEOUT = "lock_timeout"  # a lock the request needed was held past the deadline
    BUSY = "busy"  # SQLite: another writer held the database past the busy timeout
    DEADLINE = "deadline"  # the request was not answered by its deadline


RESPONSES: Responses = {
    503: {
        "description": "The database is unavailable or stalled, or the request ran past its deadline; "
        "`Retry-After` says when to try again"
    }
}

# The connection is unusable after these: it is discarded instead of going back to the pool.
BROKEN = frozenset({Cause.SHUTDOWN, Cause.DISCONNECTED})

# PostgreSQL error codes (SQLSTATE); any other of class 08 is a connection exception.
_SQLSTATES = {
    "57P01": Cause.SHUTDOWN,  # admin_shutdown: a fast or smart shutdown, or a terminated backend
    "57P02": Cause.SHUTDOWN,  # crash_shutdown: another backend crashed
    "57P03": Cause.STARTING,  # cannot_connect_now
    "53300": Cause.TOO_MANY_CONNECTIONS,
    "57014": Cause.STATEMENT_TIMEOUT,  # query_canceled
    "55P03": Cause.LOCK_TIMEOUT,  # lock_not_available
}
# asyncpg's words for a connection that is closed, or whose protocol an unexpected message
# threw out of step: a server's shutdown notice that reaches an idle pooled connection before
# its socket closes fails the next use with "cannot switch to state 15; another operation (2)
# is in progress".
_BROKEN_CONNECTION = ("connection is closed", "connection was closed", "cannot switch to state")


def cause_of(exc: BaseException) -> Cause | None:
    """Why the database could not serve the request, if that is what `exc` (or its causes) says.

    A request past its deadline is that, whatever it was waiting for. Otherwise the first
    failure decides: the one found deepest in the chain, since an error raised while handling
    it (a rollback on the dead connection, say) says less about what went wrong.
    """
    links = list(_chain(exc))
    if any(isinstance(link, DeadlineExceeded) for link in links):
        return Cause.DEADLINE
    return next((cause for cause in map(_cause, reversed(links)) if cause is not None), None)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, the driver error it wraps, and what it was raised from or while handling."""
    pending, seen = [exc], set[int]()
    while pending and len(seen) < 16:
        link = pending.pop(0)
        if id(link) not in seen:
            seen.add(id(link))
            yield link
            nested = (getattr(link, "orig", None), link.__cause__, link.__context__)
            pending.extend(e for e in nested if isinstance(e, BaseException))


def _cause(exc: BaseException) -> Cause | None:
    if isinstance(exc, PoolTimeout):
        return Cause.POOL_TIMEOUT
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str):
        return _SQLSTATES.get(sqlstate, Cause.DISCONNECTED if sqlstate.startswith("08") else None)
    if getattr(exc, "sqlite_errorname", None) == "SQLITE_BUSY":
        return Cause.BUSY
    return _connection_cause(exc)


def _connection_cause(exc: BaseException) -> Cause | None:
    """Errors from the network or the driver about the connection itself."""
    if isinstance(exc, ConnectionRefusedError):
        return Cause.REFUSED
    if isinstance(exc, TimeoutError):
        return Cause.CONNECT_TIMEOUT
    if isinstance(exc, ConnectionError):
        return Cause.DISCONNECTED
    driver_error = isinstance(exc, asyncpg.InterfaceError | asyncpg.InternalClientError)
    if driver_error and any(words in str(exc) for words in _BROKEN_CONNECTION):
        return Cause.DISCONNECTED
    return None


for _cause_label in Cause:  # every cause is exported from the start, at zero
    UNAVAILABLE.labels(_cause_label.value)


def unavailable(cause: Cause) -> ServiceUnavailable:
    """The 503 for a request the database could not serve, counted by its cause."""
    UNAVAILABLE.labels(cause.value).inc()
    retry_after = get_settings().unavailable_retry_after_seconds
    return ServiceUnavailable(
        "The database is unavailable just now. Try again shortly; a POST sent with an "
        "Idempotency-Key can be repeated safely.",
        headers={"Retry-After": str(retry_after)},
    )
