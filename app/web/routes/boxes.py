"""The team's inbox and the agency's sent referrals, in views with counts."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.config import get_settings
from app.db import utcnow
from app.deps import SessionDep
from app.models.referral import OPEN_STATUSES, TERMINAL_STATUSES, ReferralPublic
from app.pagination import Page
from app.services import caseload, referrals
from app.services.referrals import Box, BoxFilters
from app.services.referrals.reading import AWAITING_DECISION
from app.web.auth import Caseworker
from app.web.i18n import N_
from app.web.names import agency_names
from app.web.sessions import SignedIn
from app.web.templating import render

router = APIRouter()
OPEN, CLOSED = sorted(OPEN_STATUSES), sorted(TERMINAL_STATUSES)


@dataclass(frozen=True, slots=True)
class View:
    """One tab of a box: the filters of the referral service's listing it shows."""

    key: str
    label: str
    filters: BoxFilters


INBOX_VIEWS = (
    View("new", N_("New"), BoxFilters(statuses=list(AWAITING_DECISION))),
    View("mine", N_("Assigned to me"), BoxFilters(statuses=OPEN, assigned_to="me")),
    View("cover", N_("Needs cover"), BoxFilters(needs_cover=True)),
    View("overdue", N_("Overdue"), BoxFilters(overdue=True)),
    View("open", N_("All open"), BoxFilters(statuses=OPEN)),
    View("closed", N_("Closed"), BoxFilters(statuses=CLOSED)),
)
SENT_VIEWS = (
    View("open", N_("Open"), BoxFilters(statuses=OPEN)),
    View("closed", N_("Closed"), BoxFilters(statuses=CLOSED)),
)
ViewParam = Annotated[str | None, Query(max_length=20)]
CursorParam = Annotated[str | None, Query(max_length=500)]


def _chosen(views: tuple[View, ...], key: str | None) -> View:
    return next((v for v in views if v.key == key), views[0])


async def _box(
    session: SessionDep, who: SignedIn, box: Box, views: tuple[View, ...], key: str | None, cursor: str | None
) -> dict[str, object]:
    """One view's page of referrals, and how many every view of the box holds."""
    chosen = _chosen(views, key)
    page: Page[ReferralPublic] = await referrals.list_box(
        session, who.principal, box, chosen.filters, cursor=cursor, limit=get_settings().default_page_size
    )
    counts = {v.key: await referrals.count_box(session, who.principal, box, v.filters) for v in views}
    agencies = await agency_names(session)
    return {"views": views, "chosen": chosen, "counts": counts, "page": page, "agencies": agencies}


@router.get("/inbox")
async def inbox(
    request: Request, session: SessionDep, who: Caseworker, view: ViewParam = None, cursor: CursorParam = None
) -> Response:
    """The team's inbox: referrals to the agency, newest first, by view."""
    context = await _box(session, who, Box.INBOX, INBOX_VIEWS, view, cursor)
    return render(request, "inbox.html", {**context, "now": utcnow()})


@router.get("/sent")
async def sent(
    request: Request, session: SessionDep, who: Caseworker, view: ViewParam = None, cursor: CursorParam = None
) -> Response:
    """Referrals the agency sent, with the latest outcome of each, so the referrer sees what happened."""
    context = await _box(session, who, Box.SENT, SENT_VIEWS, view, cursor)
    page = context["page"]
    assert isinstance(page, Page)
    ids = [r.id for r in page.items]
    outcomes = await caseload.latest_outcomes(session, who.principal, ids)
    return render(request, "sent.html", {**context, "outcomes": outcomes})
