"""Auditors: find a referral by its reference, read its trail as a timeline, verify the log."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from app.config import get_settings
from app.deps import SessionDep
from app.errors import NotFound
from app.services import trails
from app.web.auth import Auditor
from app.web.forms import Form
from app.web.i18n import gettext
from app.web.names import agency_names
from app.web.templating import render

router = APIRouter(prefix="/audit")
CursorParam = Annotated[str | None, Query(max_length=500)]


@router.get("")
async def audit_home(request: Request, _who: Auditor) -> Response:
    """Search by reference, and check the log."""
    return render(request, "audit/home.html", {"form": None, "verdict": None})


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
    return render(request, "audit/home.html", {"form": form, "verdict": None}, 400)


@router.post("/verify")
async def verify(request: Request, session: SessionDep, who: Auditor) -> Response:
    """Recompute the audit log and say whether it verifies."""
    verdict = await trails.verify(session, get_settings(), who.principal.actor)
    return render(request, "audit/home.html", {"form": None, "verdict": verdict})


@router.get("/referrals/{referral_id:uuid}")
async def referral_trail(
    request: Request, session: SessionDep, who: Auditor, referral_id: uuid.UUID, cursor: CursorParam = None
) -> Response:
    """Everything seen and done about one referral, in order."""
    reference = await trails.reference_of(session, referral_id)
    if reference is None:
        raise NotFound("No such referral.")
    events, next_cursor = await trails.trail(
        session, who.principal.actor, referral_id, cursor, get_settings().default_page_size
    )
    context = {
        "reference": reference,
        "referral_id": referral_id,
        "events": events,
        "next_cursor": next_cursor,
        "agencies": await agency_names(session),
    }
    return render(request, "audit/trail.html", context)
