"""ASGI middleware that has to see every request or response: the body size limit, the security headers."""

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge


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


class BodySizeLimit:
    """Answer 413 to bodies over `max_bytes`, whether or not they declare a Content-Length.

    A declared length is refused before anything is read. Chunked bodies are counted as
    they stream, and reading stops at the first chunk past the limit; whatever the
    application then makes of the aborted read, the client is sent the 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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
        response = _too_large(self.max_bytes).render(request)
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


class SecurityHeaders:
    """Add nosniff, no-referrer and (unless the response says otherwise) no-store to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _with_security_headers(message)
            await send(message)

        await self.app(scope, receive, send_with_headers)
