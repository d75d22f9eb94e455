"""Browser-facing protections: security headers, session cookies and CSRF tokens."""

import hashlib
import hmac
import secrets
from functools import lru_cache

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from app.asgi import HTTPMiddleware
from app.config import Settings, get_settings
from app.errors import Forbidden

# Paths that are not staff pages: the APIs, probes and the API's own documentation, and the
# directory published as Open Referral UK (whose errors are problem documents too).
API_PREFIX = "/v1/"
FHIR_PREFIX = "/fhir/"
FEED_PREFIX = "/openreferral/"
NOT_PAGES = frozenset({"/v1", "/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json"})
CSRF_FIELD = "csrf_token"
# The cookie that binds form tokens before sign-in; `presession_cookie_name` is its name as sent.
PRESESSION_COOKIE = "rx_form"

# Only files from this origin: GOV.UK Frontend's script and our own, no inline script or style.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), geolocation=(), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def is_page(path: str) -> bool:
    """Whether a path belongs to the staff pages rather than the API or the probes."""
    return not path.startswith((API_PREFIX, FHIR_PREFIX, FEED_PREFIX, "/docs/")) and path not in NOT_PAGES


class PageHeaders(HTTPMiddleware):
    """Security headers on every staff page; HTML pages are never stored by browsers or proxies."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_page(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PAGE_HEADERS.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


def host_cookie(name: str, settings: Settings) -> str:
    """A cookie's name as set and read: with the __Host- prefix wherever cookies are Secure.

    Browsers refuse a __Host- cookie unless it is Secure, host-only and for Path=/, so no
    plain-http page, other subdomain or other path can set one to plant a session or a form
    binding of its choosing, or shadow ours.
    """
    return f"__Host-{name}" if settings.secure_cookies else name


def session_cookie_name(settings: Settings) -> str:
    return host_cookie("rx_session", settings)


def presession_cookie_name(settings: Settings) -> str:
    return host_cookie(PRESESSION_COOKIE, settings)


def set_cookie(response: Response, name: str, value: str, settings: Settings) -> None:
    """A session-lifetime cookie script cannot read, sent only to this site's own pages."""
    response.set_cookie(name, value, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/")


def clear_cookie(response: Response, name: str, settings: Settings) -> None:
    response.delete_cookie(name, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/")


@lru_cache
def _csrf_key(secret: str) -> bytes:
    # A key of its own, so a form token can never serve as (or help forge) anything else.
    return hmac.new(secret.encode(), b"web-form-csrf-v1", hashlib.sha256).digest()


def _token_for(binding: str) -> str:
    key = _csrf_key(get_settings().jwt_secret.get_secret_value())
    return hmac.new(key, binding.encode(), hashlib.sha256).hexdigest()


def csrf_binding(request: Request) -> str:
    """What this browser's form tokens are bound to: its session, or a pre-sign-in cookie."""
    bound: str | None = getattr(request.state, "csrf_binding", None)
    if bound:
        return bound
    settings = get_settings()
    bound = request.cookies.get(session_cookie_name(settings)) or request.cookies.get(
        presession_cookie_name(settings)
    )
    if not bound:
        bound = secrets.token_urlsafe(32)
        request.state.new_presession = bound
    request.state.csrf_binding = bound
    return bound


def csrf_token(request: Request) -> str:
    """The token every form on the page carries."""
    return _token_for(csrf_binding(request))


class CsrfRefused(Forbidden):
    code, title = "csrf-refused", "Form not accepted"


async def check_csrf(request: Request) -> None:
    """Refuse a form post that does not carry this browser's token (a forged cross-site post)."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    settings = get_settings()
    bound = request.cookies.get(session_cookie_name(settings)) or request.cookies.get(
        presession_cookie_name(settings)
    )
    if not isinstance(sent, str) or not bound or not hmac.compare_digest(sent, _token_for(bound)):
        raise CsrfRefused("The form was not sent from this service's own page.")
