"""Signing in and out, the time a session has left, and the pages anyone may read."""

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import JSONResponse, RedirectResponse, Response

from app.config import Settings
from app.db import utcnow
from app.deps import SessionDep, SettingsDep
from app.errors import AppError
from app.models.identity import Scope, SetPassword
from app.ratelimit import RateLimiter, get_rate_limiter
from app.services import identity, users
from app.web import kept_forms, language
from app.web import sessions as web_sessions
from app.web.auth import MaybeSignedIn, SignedInDep, current
from app.web.forms import Form
from app.web.i18n import N_, gettext
from app.web.outcome import attempt
from app.web.security import (
    clear_cookie,
    host_cookie,
    presession_cookie_name,
    session_cookie_name,
    set_cookie,
)
from app.web.sessions import Ended, Lapsed, SignedIn
from app.web.templating import render

router = APIRouter()
Limiter = Annotated[RateLimiter, Depends(get_rate_limiter)]

NOTICES = {
    Ended.IDLE.value: N_("You were signed out because you did not do anything for 30 minutes."),
    Ended.EXPIRED.value: N_("You were signed out because you had been signed in for 12 hours."),
    Ended.DEACTIVATED.value: N_("You were signed out because your account is no longer active."),
    Ended.REVOKED.value: N_("You were signed out because your password or your account was changed."),
    "signed_out": N_("You have signed out."),
    "password_set": N_("Your password is set. Sign in with it."),
}


def local_path(candidate: str | None) -> str | None:
    """A path on this site to return to; anything else (another site, a scheme) is ignored."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return None
    return candidate


def home_of(signed_in: SignedIn) -> str:
    """Where a user starts: their inbox, or the audit pages, or the directory."""
    if signed_in.principal.has(Scope.REFERRALS_READ) and signed_in.principal.agency_id:
        return "/inbox"
    if signed_in.principal.has(Scope.AUDIT_READ):
        return "/audit"
    return "/directory"


@router.get("/")
async def start(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The inbox when signed in, else the sign-in page."""
    token = request.cookies.get(session_cookie_name(settings))
    found = await web_sessions.resume(session, token, settings)
    target = home_of(found) if isinstance(found, SignedIn) else "/sign-in"
    return RedirectResponse(target, status_code=303)


def _sign_in_page(request: Request, form: Form | None, next_path: str, status: int = 200) -> Response:
    reason = request.query_params.get("reason", "")
    notice = gettext(NOTICES[reason]) if reason in NOTICES else None
    if notice and reason in (Ended.IDLE.value, Ended.EXPIRED.value) and kept_forms.is_kept(request):
        notice = f"{notice} {gettext('What you had typed has been kept: sign in again to go back to it.')}"
    context = {"form": form, "next_path": next_path, "notice": notice}
    return render(request, "sign_in.html", context, status)


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    """Fields for username and password."""
    return _sign_in_page(request, None, local_path(request.query_params.get("next")) or "")


@router.post("/sign-in")
async def sign_in(request: Request, session: SessionDep, settings: SettingsDep, limiter: Limiter) -> Response:
    """Check the password as the API's password grant does, then start a session."""
    form = Form.read(await request.form())
    next_path = local_path(form.get("next")) or ""
    if limiter.enabled and request.client:  # the token endpoint's budget: pages add no guesses
        await limiter.hit(limiter.token, f"token:{request.client.host}")
    username = form.require("username", gettext("Enter your username"))
    password = form.values.get("password", "")
    if not password:
        form.add("password", gettext("Enter your password"))
    if not form.ok:
        return _sign_in_page(request, form, next_path, 400)
    user = await attempt(session, identity.authenticate_user(session, settings, username, password))
    if isinstance(user, AppError):
        form.add("username", gettext("Enter a correct username and password"))
        form.values.pop("password", None)
        return _sign_in_page(request, form, next_path, 400)
    draft = await _end_previous(request, session, settings, user.id)
    principal = web_sessions.principal_of(user)
    await language.adopt(request, session, principal, user.language)
    token = await web_sessions.start(session, principal, settings, draft=draft)
    response = RedirectResponse(next_path or "/", status_code=303)
    set_cookie(response, session_cookie_name(settings), token, settings)
    clear_cookie(response, presession_cookie_name(settings), settings)
    kept_forms.set_cookies(request, response)
    return response


async def _end_previous(
    request: Request, session: SessionDep, settings: SettingsDep, user_id: uuid.UUID
) -> dict[str, Any] | None:
    """Signing in again replaces the browser's session rather than leaving a second one live.

    The same user gets back the referral they were making when their session ran out of time.
    """
    previous = await web_sessions.check(session, request.cookies.get(session_cookie_name(settings)), settings)
    if isinstance(previous, SignedIn):
        await web_sessions.end(session, previous)
    kept = await kept_forms.claim(request, session, user_id)
    if isinstance(previous, Lapsed) and previous.user_id == user_id and previous.draft:
        return previous.draft
    return kept


@router.post("/sign-out")
async def sign_out(signed_in: SignedInDep, session: SessionDep, settings: SettingsDep) -> Response:
    """End the session on the server; the cookie alone no longer signs anyone in."""
    await web_sessions.end(session, signed_in)
    response = RedirectResponse("/sign-in?reason=signed_out", status_code=303)
    clear_cookie(response, session_cookie_name(settings), settings)
    return response


def _time_left(found: SignedIn | Ended, settings: Settings) -> Response:
    seconds = 0
    if isinstance(found, SignedIn):
        seconds = max(0, int((found.idle_deadline(settings) - utcnow()).total_seconds()))
    return JSONResponse({"seconds_left": seconds}, headers={"Cache-Control": "no-store"})


@router.get("/session/status")
async def session_status(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """How long the session has left, for the timeout warning; asking does not keep it alive.

    The warning asks before it opens and before it signs out: work in another tab may have kept
    the session going meanwhile.
    """
    response = _time_left(await current(request, session, settings, touch=False), settings)
    kept_forms.set_cookies(request, response)  # a referral part made, kept if this ended the session
    return response


@router.post("/session/continue")
async def session_continue(request: Request, signed_in: SignedInDep, settings: SettingsDep) -> Response:
    """Stay signed in for another full spell; the warning's script asks for the time left back."""
    signed_in.record.last_seen_at = utcnow()
    if "application/json" in request.headers.get("accept", ""):
        return _time_left(signed_in, settings)
    form = Form.read(await request.form())
    return RedirectResponse(local_path(form.get("next")) or "/", status_code=303)


# When the accessibility statement was last prepared (from the tests' results), and its next review.
STATEMENT_PREPARED, STATEMENT_REVIEW = date(2026, 12, 8), date(2027, 6, 8)


@router.get("/accessibility")
async def accessibility(request: Request, _viewer: MaybeSignedIn, settings: SettingsDep) -> Response:
    """How accessible the pages are, how that was tested, and how to report a problem."""
    context = {
        "prepared": STATEMENT_PREPARED,
        "review": STATEMENT_REVIEW,
        "idle_minutes": settings.web_idle_timeout_minutes,
    }
    return render(request, "accessibility.html", context)


@router.get("/cookies")
async def cookies(request: Request, _viewer: MaybeSignedIn) -> Response:
    """The only cookies are the ones that keep you signed in and protect forms."""
    return render(request, "cookies.html")


SET_PASSWORD_COOKIE = "rx_set_password"  # noqa: S105  (a cookie name)


@router.get("/set-password")
async def set_password_page(request: Request, settings: SettingsDep) -> Response:
    """Choose a password through the single-use link an administrator gave you.

    The link's token is moved into a cookie at once, so it leaves the address bar and history.
    """
    token = request.query_params.get("token")
    if token:
        response = RedirectResponse("/set-password", status_code=303)
        set_cookie(response, host_cookie(SET_PASSWORD_COOKIE, settings), token[:200], settings)
        return response
    return render(request, "set_password.html", {"form": None})


LINK_SPENT = N_("This link has been used, has expired or was replaced. Ask for a new one.")


def _new_password(form: Form, token: str) -> SetPassword | None:
    """The request to set the password, checked as the API checks it; the two entries must match."""
    password = form.values.get("password", "")
    if password != form.values.get("confirm", ""):
        form.add("confirm", gettext("Passwords must match"))
    try:
        body = SetPassword.model_validate({"token": token, "password": password})
    except ValidationError as exc:
        for item in exc.errors():
            if item["loc"][0] == "password":
                form.add("password", gettext("Password must be 12 characters or more"))
            else:
                form.add("password", gettext(LINK_SPENT))
        return None
    return body if form.ok else None


@router.post("/set-password")
async def set_password(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Set the password; the link then stops working, and you sign in with it."""
    form = Form.read(await request.form())
    body = _new_password(form, request.cookies.get(host_cookie(SET_PASSWORD_COOKIE, settings), ""))
    if body is not None:
        done = await attempt(session, users.set_password(session, body))
        if not isinstance(done, AppError):
            response = RedirectResponse("/sign-in?reason=password_set", status_code=303)
            clear_cookie(response, host_cookie(SET_PASSWORD_COOKIE, settings), settings)
            return response
        form.add(
            "password", gettext("This link has been used, has expired or was replaced. Ask for a new one.")
        )
    form.values.pop("password", None)
    form.values.pop("confirm", None)
    return render(request, "set_password.html", {"form": form}, 400)
