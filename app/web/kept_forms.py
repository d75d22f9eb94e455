"""What a form held when it was sent after its session had run out, kept for signing in again.

Without JavaScript nothing on the page warns that the session is about to end, and moving away
from the page to warn would lose what is being typed. So a form that arrives too late is kept: its
fields, and the referral part made if there was one, go on the server (encrypted) against a random
id in a cookie, for the same user only and for a short time. Signing in again goes back to the
page, where the form is filled in as it was sent, to be checked and sent again. Nothing of it goes
into an address or a log; another user signing in on the same browser never sees it.
"""

import hashlib
import json
import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import Response

from app.config import get_settings
from app.db import utcnow
from app.models.web_session import KeptForm
from app.web.forms import SENT_FROM, Form
from app.web.security import CSRF_FIELD, clear_cookie, host_cookie, set_cookie
from app.web.sessions import LAPSE_GRACE, Lapsed, SignedIn

KEPT_COOKIE = "rx_kept"
KEEP_FOR = LAPSE_GRACE
# Fields a page fills in itself: a form that carries nothing else had nothing typed into it.
PAGE_FIELDS = frozenset({CSRF_FIELD, "version", "to", "next"})


def cookie_name() -> str:
    return host_cookie(KEPT_COOKIE, get_settings())


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def keep(request: Request, session: AsyncSession, lapsed: Lapsed) -> str | None:
    """Keep what the lapsed session's user sent and held; the page to go back to, if anything was."""
    values, lists = await _typed(request)
    if not values and not lapsed.draft:
        return None
    now, token, page = utcnow(), secrets.token_urlsafe(32), await _page_of(request)
    await session.execute(delete(KeptForm).where(col(KeptForm.expires_at) <= now))
    content = {"values": values, "lists": lists, "draft": lapsed.draft}
    session.add(
        KeptForm(
            id_hash=_hash(token),
            user_id=lapsed.user_id,
            page_path=page,
            content=json.dumps(content),
            expires_at=now + KEEP_FOR,
        )
    )
    request.state.kept_cookie = token
    return page


async def _typed(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The fields of a posted form, if anything was typed or chosen in it."""
    if request.method != "POST":
        return {}, {}
    form = Form.read(await request.form())
    if not any(value for name, value in form.values.items() if name not in PAGE_FIELDS):
        return {}, {}
    values = {k: v for k, v in form.values.items() if k != CSRF_FIELD}
    return values, {k: v for k, v in form.lists.items() if k != CSRF_FIELD}


async def _page_of(request: Request) -> str:
    """The page a form was sent from, as it says itself (by path alone: no query, which may hold a
    search); a request for a page is its own page."""
    if request.method == "GET":
        return request.url.path
    sent_from = (await request.form()).get(SENT_FROM)
    if not isinstance(sent_from, str) or not _on_this_site(sent_from):
        return "/"
    return urlsplit(sent_from).path


def _on_this_site(path: str) -> bool:
    return path.startswith("/") and not path.startswith("//") and "\\" not in path and len(path) <= 500


async def _find(request: Request, session: AsyncSession) -> KeptForm | None:
    """The kept form this browser's cookie names, if it is still kept."""
    token = request.cookies.get(cookie_name())
    if not token:
        return None
    kept = await session.get(KeptForm, _hash(token))
    if kept is None or kept.expires_at <= utcnow():
        request.state.clear_kept = True
        return None
    return kept


async def _drop(request: Request, session: AsyncSession, kept: KeptForm) -> None:
    await session.delete(kept)
    request.state.clear_kept = True


async def claim(request: Request, session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any] | None:
    """At sign-in: the referral part the kept form's session held, if that was this user's.

    Another user's kept form is dropped there and then, unseen.
    """
    kept = await _find(request, session)
    if kept is None:
        return None
    if kept.user_id != user_id:
        await _drop(request, session, kept)
        return None
    draft: dict[str, Any] | None = json.loads(kept.content).get("draft")
    return draft


async def restore(request: Request, session: AsyncSession, signed_in: SignedIn) -> None:
    """On the page the kept form came from, fill it in again, once (see `filled_in`)."""
    kept = await _find(request, session) if request.method == "GET" else None
    if kept is None:
        return
    if kept.user_id != signed_in.user.id:
        await _drop(request, session, kept)
    elif kept.page_path == request.url.path:
        content = json.loads(kept.content)
        if content["values"]:
            request.state.kept_form = Form(values=content["values"], lists=content["lists"])
        await _drop(request, session, kept)


def filled_in(request: Request, form: Form | None) -> Form | None:
    """The page's form with what was kept for it filled in over it, if anything was."""
    kept: Form | None = getattr(request.state, "kept_form", None)
    if kept is None:
        return form
    if form is None:
        return kept
    form.values.update(kept.values)
    form.lists.update(kept.lists)
    return form


def set_cookies(request: Request, response: Response) -> None:
    """Give the browser the kept form's id, or take it back once it is used or gone."""
    settings = get_settings()
    token = getattr(request.state, "kept_cookie", None)
    if token:
        set_cookie(response, cookie_name(), token, settings)
    elif getattr(request.state, "clear_kept", False):
        clear_cookie(response, cookie_name(), settings)


def is_kept(request: Request) -> bool:
    """Whether this browser has something kept for signing in again (the sign-in page says so)."""
    return bool(request.cookies.get(cookie_name()))
