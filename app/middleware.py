"""ASGI middleware that has to see every request before routing: the request body size limit."""

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
