"""Which language a page is shown in, how to switch, and remembering the choice.

A `?lang=` on any page wins and is remembered: on the account of a signed-in user (their
`language`, as in Settings) and in a cookie before sign-in. Otherwise a signed-in user's own
choice, then the cookie, then what the browser asks for.
"""

from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from app.models.identity import Language, MeUpdate
from app.security import Principal
from app.services import users
from app.web import i18n
from app.web.sessions import SignedIn

COOKIE = "rx_lang"
ONE_YEAR = 365 * 24 * 3600
# Each language named in itself, as language switches do.
NAMES = {"en": "English", "cy": "Cymraeg"}


def asked_for(request: Request) -> str | None:
    """The language named by `?lang=` on this request, if the service has it."""
    asked = request.query_params.get("lang", "")
    return asked if asked in i18n.available_locales() else None


def choose(request: Request) -> str:
    """The language of this request's page."""
    chosen = asked_for(request) or getattr(request.state, "language", None)
    if chosen in i18n.available_locales():
        return str(chosen)
    kept = request.cookies.get(COOKIE, "")
    return (
        kept if kept in i18n.available_locales() else i18n.negotiate(request.headers.get("accept-language"))
    )


async def follow_user(request: Request, session: AsyncSession, signed_in: SignedIn) -> None:
    """A signed-in user reads their own language; one they switch to is kept on their account."""
    asked = asked_for(request)
    if asked is not None and asked != signed_in.user.language:
        await users.update_self(session, signed_in.principal, MeUpdate(language=Language(asked)))
    request.state.language = signed_in.user.language
    i18n.activate(choose(request))  # names and words made before the page is drawn are in it too


async def adopt(request: Request, session: AsyncSession, principal: Principal, current: str) -> None:
    """At sign-in, a language chosen on the way in (the cookie) becomes the account's own."""
    chosen = request.cookies.get(COOKIE, "")
    if chosen in i18n.available_locales() and chosen != current:
        await users.update_self(session, principal, MeUpdate(language=Language(chosen)))


def remember(request: Request, response: Response, secure: bool) -> None:
    """Keep a language chosen before sign-in for the next page."""
    asked = asked_for(request)
    if asked is not None and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=ONE_YEAR, samesite="lax", secure=secure, path="/")


def switch(request: Request) -> list[dict[str, object]]:
    """The languages to switch between: each a link to this same page in it, the current one not."""
    current = i18n.current_locale()
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return [
        {
            "code": code,
            "name": NAMES.get(code, code),
            "current": code == current,
            "href": request.url.path + "?" + urlencode([*query, ("lang", code)]),
        }
        for code in i18n.available_locales()
    ]
