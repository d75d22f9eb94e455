"""What every pure ASGI middleware here shares: HTTP requests are its business, anything else
(lifespan events) passes straight through."""

from starlette.types import ASGIApp, Receive, Scope, Send


class HTTPMiddleware:
    """Calls `handle` for an HTTP request and passes any other scope to the application untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError
