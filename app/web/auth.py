"""Who is signed in to the pages, and what they may open."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from app.config import Settings
from app.deps import SessionDep, SettingsDep
from app.errors import AppError, Forbidden
from app.models.directory import Agency
from app.models.identity import Role, Scope
from app.security import Principal
from app.web import i18n, kept_forms, language
from app.web import sessions as web_sessions
from app.web.security import session_cookie_name
from app.web.sessions import Ended, Lapsed, SignedIn


class SignInRequired(AppError):
    """No live session: the browser is sent to the sign-in page, then back here.

    Committed, so that a session found ended (and its audit event) is recorded.
    """

    status, code, title = 303, "sign-in-required", "Sign in required"
    commit_anyway = True

    def __init__(self, next_path: str, reason: Ended) -> None:
        super().__init__("Sign in to use this page.")
        self.location = f"/sign-in?next={quote(next_path, safe='/')}"
        if reason != Ended.NONE:
            self.location += f"&reason={reason.value}"

    def render(self, request: Request) -> Response:
        response = RedirectResponse(self.location, status_code=303)
        kept_forms.set_cookies(request, response)
        return response


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user as pages show them: plain values, usable after the unit of work ends
    (an error page is rendered once the request's transaction has been rolled back)."""

    name: str
    agency_name: str | None
    role: Role
    principal: Principal
    idle_deadline: datetime

    def can(self, scope: Scope) -> bool:
        return self.principal.has(scope)


def _safe_next(request: Request) -> str:
    """Where to come back to after signing in: this page, or the page a kept form was sent from."""
    kept: str | None = getattr(request.state, "return_to", None)
    if kept:
        return kept
    path = request.url.path
    return path if request.method == "GET" else "/"


async def current(
    request: Request, session: AsyncSession, settings: Settings, *, touch: bool = True
) -> SignedIn | Ended:
    """The browser's live session, if any; the page header learns who is signed in.

    A session that ran out of time keeps what its user had just sent for their next sign-in, and
    a session signed in again gets it back on the page it came from.
    """
    token = request.cookies.get(session_cookie_name(settings))
    found = await web_sessions.check(session, token, settings, touch=touch)
    if isinstance(found, Lapsed):
        request.state.return_to = await kept_forms.keep(request, session, found)
        return found.reason
    if isinstance(found, SignedIn):
        await kept_forms.restore(request, session, found)
        await language.follow_user(request, session, found)
        request.state.viewer = await _viewer(session, found, settings)
    return found


async def _viewer(session: AsyncSession, found: SignedIn, settings: Settings) -> Viewer:
    agency = await session.get(Agency, found.user.agency_id) if found.user.agency_id else None
    name = found.user.display_name or found.user.username
    deadline = found.idle_deadline(settings)
    welsh = agency is not None and agency.name_cy and i18n.current_locale() == "cy"
    agency_name = (agency.name_cy if welsh else agency.name) if agency else None
    return Viewer(name, agency_name, found.user.role, found.principal, deadline)


async def signed_in(request: Request, session: SessionDep, settings: SettingsDep) -> SignedIn:
    """The live session, or a redirect to sign in."""
    found = await current(request, session, settings)
    if isinstance(found, Ended):
        raise SignInRequired(_safe_next(request), found)
    return found


async def maybe_signed_in(request: Request, session: SessionDep, settings: SettingsDep) -> SignedIn | None:
    """The live session on pages anyone may read (so the header still shows who is signed in)."""
    found = await current(request, session, settings)
    return found if isinstance(found, SignedIn) else None


SignedInDep = Annotated[SignedIn, Depends(signed_in)]
MaybeSignedIn = Annotated[SignedIn | None, Depends(maybe_signed_in)]


def _needing(scope: Scope, agency: bool) -> Callable[[SignedIn], Awaitable[SignedIn]]:
    async def check(who: SignedInDep) -> SignedIn:
        if not who.principal.has(scope) or (agency and who.principal.agency_id is None):
            raise Forbidden("This page is not for your account.")
        return who

    return check


# Pages for agency staff who work referrals, for auditors, and for agency admins.
Caseworker = Annotated[SignedIn, Depends(_needing(Scope.REFERRALS_READ, agency=True))]
Auditor = Annotated[SignedIn, Depends(_needing(Scope.AUDIT_READ, agency=False))]
ReportReader = Annotated[SignedIn, Depends(_needing(Scope.REPORTS_READ, agency=True))]
StaffManager = Annotated[SignedIn, Depends(_needing(Scope.USERS_MANAGE, agency=True))]
ServiceKeeper = Annotated[SignedIn, Depends(_needing(Scope.DIRECTORY_WRITE, agency=True))]
