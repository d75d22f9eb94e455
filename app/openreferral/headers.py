"""What every answer of the published directory carries: any web page may read it (CORS), and
caches may keep a successful answer a few minutes (it is the same for everyone)."""

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from app.asgi import HTTPMiddleware
from app.openreferral.publish import PREFIX

CACHE_SECONDS = 300
PREFLIGHT_SECONDS = 86400


class PublicFeedHeaders(HTTPMiddleware):
    """`Access-Control-Allow-Origin: *` on everything under the feed, preflights answered."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await _preflight(scope)(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Access-Control-Allow-Origin"] = "*"
                if message["status"] == 200:
                    headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
            await send(message)

        await self.app(scope, receive, with_headers)


def _preflight(scope: Scope) -> Response:
    """A browser asking before it sends headers of its own: GET, with whatever it asks for."""
    asked = Headers(scope=scope).get("access-control-request-headers", "")
    headers = {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, OPTIONS",
        "Access-Control-Max-Age": str(PREFLIGHT_SECONDS),
    }
    if asked:
        headers["Access-Control-Allow-Headers"] = asked
    return Response(status_code=204, headers=headers)
