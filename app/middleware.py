"""ASGI middleware that has to see every request or response: the body size limit, the security
headers, and the answer to any error the routes did not answer themselves."""

import inspect
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.asgi import HTTPMiddleware
from app.errors import AppError, PayloadTooLarge
from app.unavailable import cause_of, unavailable

logger = logging.getLogger("app.errors")


class _Counter:
    """Bytes of one request body seen so far, against the limit."""

    def __init__(self, limit: int) -> None:
        self.limit, self.seen, self.exceeded = limit, 0, False

    def add(self, message: Message) -> None:
        if message["type"] != "http.request":
            return
        self.seen += len(message.get("body", b""))
        if self.seen > self.limit:
            self.exceeded = True
            raise _too_large(self.limit)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than {limit} bytes.", max_bytes=limit)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodySizeLimit(HTTPMiddleware):
    """Answer 413 to bodies over `max_bytes`, whether or not they declare a Content-Length.

    A declared length is refused before anything is read. Chunked bodies are counted as
    they stream, and reading stops at the first chunk past the limit; whatever the
    application then makes of the aborted read, the client is sent the 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        counter, started = _Counter(self.max_bytes), False

        async def counted_receive() -> Message:
            message = await receive()
            counter.add(message)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if counter.exceeded:
                return  # the application's answer to the aborted read is replaced below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except PayloadTooLarge:
            if started:
                raise
        if counter.exceeded and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        # The application's own answer: a problem document, or under /fhir/R4 an OperationOutcome.
        response = await _answer(_too_large(self.max_bytes), request)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


# Sent with every response. Nothing the service returns is to be sniffed as another type, and no
# URL of it (they name referrals) is to leak to another site through the Referer header.
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
# Tokens and personal data must not be kept by browsers or shared caches; a response that sets
# its own Cache-Control (a static asset, say) keeps it.
NOT_STORED = (b"cache-control", b"no-store")
_ALWAYS_NAMES = frozenset(name for name, _ in ALWAYS)


def _with_security_headers(message: Message) -> Message:
    headers = [
        (name, value) for name, value in message.get("headers", []) if name.lower() not in _ALWAYS_NAMES
    ]
    if not any(name.lower() == NOT_STORED[0] for name, _ in headers):
        headers.append(NOT_STORED)
    return {**message, "headers": [*headers, *ALWAYS]}


class SecurityHeaders(HTTPMiddleware):
    """Add nosniff, no-referrer and (unless the response says otherwise) no-store to every response."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _with_security_headers(message)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ErrorBoundary(HTTPMiddleware):
    """Answer whatever error escaped the routes: 503 when the database is unavailable, else 500.

    The answer is the one the application gives that AppError (a problem document, or on the
    staff pages a page). Answered here, inside the application, the error goes no further:
    Starlette's own last handler would send the same answer and then re-raise, and the
    server, seeing the exception, logs it a second time and closes the connection under the
    client, whose next request on it fails although the server never saw it. Once a response
    has started it is too late to answer, and the error goes on to the server.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            request = Request(scope, receive)
            answer = await _answer(_problem_for(exc, request), request)
            await answer(scope, receive, send)


async def _answer(error: AppError, request: Request) -> Response:
    """The application's own answer to `error`: its AppError handler's (a problem document, or a
    staff page), so that an error is rendered one way wherever it was raised."""
    handler = getattr(request.scope.get("app"), "exception_handlers", {}).get(AppError)
    if handler is None:
        return error.render(request)
    answer = handler(request, error)
    response: Response = await answer if inspect.isawaitable(answer) else answer
    return response


def _problem_for(exc: Exception, request: Request) -> AppError:
    """The error to answer with, logged once: the database unavailable, or an unexpected fault."""
    if isinstance(exc, AppError):
        return exc
    cause = cause_of(exc)
    if cause is not None:
        # A line, not a traceback: while the database is away every request ends here.
        logger.warning("database unavailable (%s) on %s %s", cause.value, request.method, request.url.path)
        return unavailable(cause)
    # Details go to the log only: the client never sees a stack trace or SQL.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return AppError("An unexpected error occurred; it has been logged.")
