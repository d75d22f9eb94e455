"""The request deadline: a request not answered within REQUEST_TIMEOUT_SECONDS gets a 503.

The database enforces it first: every transaction a request begins carries the time left as
its statement and lock timeouts (`app.db`), so a statement stuck behind a lock is cancelled
by the server, the transaction rolls back and the connection stays usable. What the database
cannot see (time spent waiting for a pooled connection, or several statements that each
stayed within the limit) is bounded here: a moment after the deadline the request is
cancelled, which also rolls its transaction back.
"""

import asyncio
import time
from contextvars import ContextVar

from starlette.types import Message, Receive, Scope, Send

from app.asgi import HTTPMiddleware
from app.config import get_settings

# How long after the deadline the request itself is cancelled: long enough for the database's
# own cancellation, which leaves the connection reusable, to come back first.
GRACE_SECONDS = 0.5

_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)
_backstop: ContextVar[asyncio.Timeout | None] = ContextVar("request_backstop", default=None)


class DeadlineExceeded(Exception):
    """The request ran past its deadline and was cancelled."""


def remaining() -> float | None:
    """Seconds left before the current request's deadline; None outside a request."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def disarm() -> None:
    """The request has reached its commit: let it finish, so a 503 never hides a committed write."""
    backstop = _backstop.get()
    if backstop is not None:
        backstop.reschedule(None)


class RequestDeadline(HTTPMiddleware):
    """Give every HTTP request a deadline and cancel it if it has not started its answer by then."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        seconds = _seconds_for(scope["path"])
        backstop = asyncio.timeout(seconds + GRACE_SECONDS)
        tokens = _deadline.set(time.monotonic() + seconds), _backstop.set(backstop)
        try:
            async with backstop:
                await self.app(scope, receive, _disarming(backstop, send))
        except TimeoutError as exc:
            if backstop.expired():
                raise DeadlineExceeded(f"no answer within {seconds:g} s") from exc
            raise
        finally:
            _deadline.reset(tokens[0])
            _backstop.reset(tokens[1])


# Requests that read the whole audit log, by path (the API's and the auditors' page's).
WHOLE_LOG_PATHS = frozenset({"/v1/audit/verify", "/audit/verify"})


def _seconds_for(path: str) -> float:
    settings = get_settings()
    if path in WHOLE_LOG_PATHS:
        return max(settings.audit_verify_timeout_seconds, settings.request_timeout_seconds)
    return settings.request_timeout_seconds


def _disarming(backstop: asyncio.Timeout, send: Send) -> Send:
    """`send`, which lifts the deadline once the answer has started."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            backstop.reschedule(None)
        await send(message)

    return sending
