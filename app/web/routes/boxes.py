"""The team's inbox and the agency's sent referrals, in views with counts."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.config import get_settings
from app.db import utcnow
from app.deps import SessionDep
from app.models.referral import OPEN_STATUSES, TERMINAL_STATUSES, ReferralStatus
from app.models.report import UNDECIDED_STATUSES
from app.pagination import Page
from app.services import caseload, referrals, reports
from app.services.referrals import Box
from app.web.auth import Caseworker
from app.web.i18n import N_
from app.web.names import agency_names
from app.web.templating import render

router = APIRouter()


@dataclass(frozen=True, slots=True)
class View:
    """One tab of a box: which referrals it lists."""

    key: str
    label: str
    statuses: frozenset[ReferralStatus] | None


INBOX_VIEWS = (
    View("new", N_("New"), frozenset(UNDECIDED_STATUSES)),
    View("overdue", N_("Overdue"), None),
    View("open", N_("All open"), OPEN_STATUSES),
    View("closed", N_("Closed"), TERMINAL_STATUSES),
)
SENT_VIEWS = (
    View("open", N_("Open"), OPEN_STATUSES),
    View("closed", N_("Closed"), TERMINAL_STATUSES),
)
ViewParam = Annotated[str | None, Query(max_length=20)]
CursorParam = Annotated[str | None, Query(max_length=500)]


def _chosen(views: tuple[View, ...], key: str | None) -> View:
    return next((v for v in views if v.key == key), views[0])


async def _counts(session: SessionDep, who: Caseworker, box: Box, views: tuple[View, ...]) -> dict[str, int]:
    by_status = await caseload.status_counts(session, who.principal, box)
    counts = {v.key: sum(by_status[s] for s in v.statuses or ()) for v in views}
    if box == Box.INBOX:
        counts["overdue"] = await caseload.overdue_count(session, who.principal)
    return counts


@router.get("/inbox")
async def inbox(
    request: Request, session: SessionDep, who: Caseworker, view: ViewParam = None, cursor: CursorParam = None
) -> Response:
    """The team's inbox: referrals to the agency, newest first, by view."""
    chosen = _chosen(INBOX_VIEWS, view)
    limit = get_settings().default_page_size
    page: Page[Any]
    if chosen.key == "overdue":
        page = await reports.list_overdue(session, who.principal, cursor=cursor, limit=limit)
    else:
        page = await _box_page(session, who, Box.INBOX, chosen, cursor)
    context = {
        "views": INBOX_VIEWS,
        "chosen": chosen,
        "counts": await _counts(session, who, Box.INBOX, INBOX_VIEWS),
        "page": page,
        "agencies": await agency_names(session),
        "now": utcnow(),
    }
    return render(request, "inbox.html", context)


async def _box_page(
    session: SessionDep, who: Caseworker, box: Box, view: View, cursor: str | None
) -> Page[Any]:
    statuses = sorted(view.statuses) if view.statuses else None
    page = await referrals.list_box(
        session,
        who.principal,
        box,
        statuses=statuses,
        purpose=None,
        updated_after=None,
        cursor=cursor,
        limit=get_settings().default_page_size,
    )
    return Page[Any](items=list(page.items), next_cursor=page.next_cursor)


@router.get("/sent")
async def sent(
    request: Request, session: SessionDep, who: Caseworker, view: ViewParam = None, cursor: CursorParam = None
) -> Response:
    """Referrals the agency sent, with the latest outcome of each, so the referrer sees what happened."""
    chosen = _chosen(SENT_VIEWS, view)
    page = await referrals.list_box(
        session,
        who.principal,
        Box.SENT,
        statuses=sorted(chosen.statuses or ()),
        purpose=None,
        updated_after=None,
        cursor=cursor,
        limit=get_settings().default_page_size,
    )
    ids = [r.id for r in page.items]
    context = {
        "views": SENT_VIEWS,
        "chosen": chosen,
        "counts": await _counts(session, who, Box.SENT, SENT_VIEWS),
        "page": page,
        "agencies": await agency_names(session),
        "outcomes": await caseload.latest_outcomes(session, who.principal, ids),
    }
    return render(request, "sent.html", context)
