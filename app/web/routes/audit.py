"""Auditors: find a referral by its reference, or events by who acted and when; read a referral's
trail as a timeline in plain words, download it, and verify the log."""

import uuid
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from app.config import get_settings
from app.deps import SessionDep
from app.errors import NotFound
from app.services import trails
from app.services.actors import Actor
from app.services.trails import Shown
from app.web import i18n, language, trail_words
from app.web.auth import Auditor
from app.web.forms import Form
from app.web.i18n import gettext
from app.web.names import agency_names
from app.web.periods import Period, PeriodInput, read_period
from app.web.sessions import SignedIn
from app.web.templating import render

router = APIRouter(prefix="/audit")
CursorParam = Annotated[str | None, Query(max_length=500)]
ShownParam = Annotated[Shown, Query()]
# An account id as the audit log holds it: a user's UUID or a partner system's client id.
ActorParam = Annotated[str | None, Query(max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")]
FromParam = Annotated[date | None, Query(alias="from")]
# What the timeline's templates say of an event and its actor, in the request's language.
WORDS = {"trail_line": trail_words.line, "trail_notes": trail_words.notes, "trail_who": trail_words.who}
ToParam = Annotated[date | None, Query(alias="to")]


def _home(request: Request, form: Form | None = None, period: PeriodInput | None = None) -> Response:
    context = {"form": form, "highlight": period.highlight if period else {}, "verdict": None}
    return render(request, "audit/home.html", context, 400 if form else 200)


@router.get("")
async def audit_home(request: Request, _who: Auditor) -> Response:
    """Search by reference, by who acted and when, and check the log."""
    return _home(request)


@router.post("/search")
async def search(request: Request, session: SessionDep, who: Auditor) -> Response:
    """Find the referral with the reference typed (the search is itself audited)."""
    form = Form.read(await request.form())
    reference = form.require("reference", gettext("Enter a referral reference, like RX-7KQ4M-2HXPA"))
    if form.ok:
        found = await trails.find_by_reference(session, who.principal.actor, reference)
        if found is not None:
            return RedirectResponse(f"/audit/referrals/{found}", status_code=303)
        form.add("reference", gettext("No referral has that reference"))
    return _home(request, form)


@router.post("/events")
async def search_events(request: Request, session: SessionDep, who: Auditor) -> Response:
    """Events by the member of staff or partner system named, within the dates given.

    The name is posted, never put in an address: the events page is addressed by the account's
    id, once the name has been matched to an account (or the auditor has chosen one of several).
    """
    form = Form.read(await request.form())
    period = read_period(form)
    typed = form.get("actor_name")
    if form.ok and not typed and period.period and period.period.empty:
        form.add("actor_name", gettext("Enter a name, a date, or both"))
    if period.period is None or not form.ok:
        return _home(request, form, period)
    if not typed:
        return RedirectResponse(_events_url(None, period.period), status_code=303)
    return await _named(request, session, who, form, period.period)


async def _named(
    request: Request, session: SessionDep, who: SignedIn, form: Form, period: Period
) -> Response:
    """Go to the events of the one account with that name, or offer the several that match."""
    people = await trails.people_named(session, who.principal.actor, form.get("actor_name"))
    if not people:
        form.add("actor_name", gettext("No member of staff or partner system has a name like that"))
        return _home(request, form)
    if len(people) == 1:
        return RedirectResponse(_events_url(people[0], period), status_code=303)
    choices = [(trail_words.who(p), _events_url(p, period)) for p in people]
    return render(request, "audit/people.html", {"choices": choices, "period": period})


def _events_url(actor: Actor | None, period: Period) -> str:
    params = ({"actor_id": actor.id} if actor and actor.id else {}) | period.params()
    return f"/audit/events?{urlencode(params)}"


@router.get("/events")
async def events(
    request: Request,
    session: SessionDep,
    who: Auditor,
    actor_id: ActorParam = None,
    start: FromParam = None,
    end: ToParam = None,
    cursor: CursorParam = None,
) -> Response:
    """A page of events matching the search, oldest first (an audited search, as through the API)."""
    period = Period(start, end)
    if not period.in_order():
        raise NotFound("The period ends before it starts.")
    search = trails.EventSearch(actor_id, period.since(), period.until())
    found, next_cursor = await trails.events(
        session, who.principal.actor, search, cursor, get_settings().default_page_size
    )
    context = {
        "actor": await trails.who(session, actor_id) if actor_id else None,
        "actor_id": actor_id,
        "period": period,
        "entries": [trails.TrailEntry(event) for event in found],
        "next_url": _next_url(actor_id, period, next_cursor),
        **WORDS,
    }
    return render(request, "audit/events.html", context)


def _next_url(actor_id: str | None, period: Period, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    params = ({"actor_id": actor_id} if actor_id else {}) | period.params() | {"cursor": cursor}
    return f"/audit/events?{urlencode(params)}"


@router.post("/verify")
async def verify(request: Request, session: SessionDep, who: Auditor) -> Response:
    """Recompute the audit log and say whether it verifies."""
    verdict = await trails.verify(session, get_settings(), who.principal.actor)
    return render(request, "audit/home.html", {"form": None, "highlight": {}, "verdict": verdict})


@router.get("/referrals/{referral_id:uuid}")
async def referral_trail(
    request: Request,
    session: SessionDep,
    who: Auditor,
    referral_id: uuid.UUID,
    show: ShownParam = Shown.EVERYTHING,
) -> Response:
    """Everything seen and done about one referral, day by day, in plain words."""
    referral = await trails.referral_of(session, referral_id)
    if referral is None:
        raise NotFound("No such referral.")
    timeline = await trails.timeline(session, who.principal.actor, referral_id, show)
    context = {"referral": referral, "timeline": timeline, "agencies": await agency_names(session), **WORDS}
    return render(request, "audit/trail.html", context)


@router.get("/referrals/{referral_id:uuid}/trail.csv")
async def trail_csv(
    request: Request,
    session: SessionDep,
    who: Auditor,
    referral_id: uuid.UUID,
    show: ShownParam = Shown.EVERYTHING,
) -> Response:
    """The trail's events as a spreadsheet, one row each (the download is audited as an export)."""
    i18n.activate(language.choose(request))
    referral = await trails.referral_of(session, referral_id)
    if referral is None:
        raise NotFound("No such referral.")
    chosen = await trails.export(session, who.principal.actor, referral_id, show)
    disposition = f'attachment; filename="audit-trail-{referral.reference}.csv"'
    return Response(
        trail_words.trail_csv(chosen),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )
