"""The team's inbox and the agency's sent referrals: views with counts, a search, filters and sorting.

Views, filters and sorting are plain links and query parameters. The search is posted (a name
must not reach an address: see `search_terms`), and the list it leads to carries it sealed.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from app.config import get_settings
from app.db import utcnow
from app.deps import SessionDep
from app.models.directory import Purpose
from app.models.referral import OPEN_STATUSES, TERMINAL_STATUSES, ReferralPublic, ReferralStatus, Urgency
from app.pagination import Page
from app.services import caseload, referrals
from app.services.referrals import Box, BoxFilters, BoxSort
from app.services.referrals.assignment import Colleague, team
from app.services.referrals.reading import AWAITING_DECISION
from app.web import search_terms
from app.web.auth import Caseworker
from app.web.forms import Form
from app.web.i18n import N_
from app.web.names import agency_names
from app.web.sessions import SignedIn
from app.web.templating import render

router = APIRouter()
OPEN, CLOSED = sorted(OPEN_STATUSES), sorted(TERMINAL_STATUSES)
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class View:
    """One tab of a box: the filters of the referral service's listing it shows, and what to
    say when it is empty."""

    key: str
    label: str
    filters: BoxFilters
    empty: str


INBOX_VIEWS = (
    View(
        "new",
        N_("New"),
        BoxFilters(statuses=list(AWAITING_DECISION)),
        N_(
            "No referrals are waiting for a decision. Referrals other "
            "agencies send to your team arrive under New."
        ),
    ),
    View(
        "mine",
        N_("Assigned to me"),
        BoxFilters(statuses=OPEN, assigned_to="me"),
        N_(
            "No open referrals are assigned to you. To take one, "
            "open it from New or All open and select Assign to me."
        ),
    ),
    View(
        "cover",
        N_("Needs cover"),
        BoxFilters(needs_cover=True),
        N_(
            "No referrals need cover. Open referrals assigned to "
            "someone who is away or can no longer sign in appear here."
        ),
    ),
    View(
        "overdue",
        N_("Overdue"),
        BoxFilters(overdue=True),
        N_(
            "No referrals are overdue. Referrals still waiting for a "
            "decision after the service's response time appear here."
        ),
    ),
    View("open", N_("All open"), BoxFilters(statuses=OPEN), N_("Your agency has no open referrals.")),
    View(
        "closed",
        N_("Closed"),
        BoxFilters(statuses=CLOSED),
        N_(
            "No referrals to your agency have closed yet. Declined, "
            "completed, cancelled and withdrawn referrals appear here."
        ),
    ),
)
SENT_VIEWS = (
    View(
        "open",
        N_("Open"),
        BoxFilters(statuses=OPEN),
        N_(
            "Referrals your agency sends are listed here until they close, "
            "then under Closed. To send one, use Make a referral in the menu."
        ),
    ),
    View(
        "closed",
        N_("Closed"),
        BoxFilters(statuses=CLOSED),
        N_(
            "None of the referrals your agency sent has closed yet. They "
            "appear here once declined, completed, cancelled or withdrawn."
        ),
    ),
)
CursorParam = Annotated[str | None, Query(max_length=500)]
# Each view's count stops here ("1,000+"): a page shows six, and must stay quick however many
# referrals an agency has.
COUNT_UP_TO = 1000


@dataclass(frozen=True, slots=True)
class Choices:
    """What the user chose on a list page: a view, filters, a search and an order."""

    view: View
    status: ReferralStatus | None = None
    urgency: Urgency | None = None
    purpose: Purpose | None = None
    assigned: str | None = None  # `me`, `none` or a colleague's id (the inbox only)
    sort: BoxSort = BoxSort.NEWEST
    search: str | None = None  # what was typed: shown in the field, never put in a link
    sealed: str | None = None  # the same, sealed for links

    def filters(self) -> BoxFilters:
        """The user's filters and search, as the referral service's listing takes them."""
        return BoxFilters(
            statuses=[self.status] if self.status else None,
            urgencies=[self.urgency] if self.urgency else None,
            purpose=self.purpose,
            assigned_to=self.assigned,
            search=self.search,
        )

    @property
    def filtered(self) -> bool:
        return any((self.status, self.urgency, self.purpose, self.assigned, self.search))

    def link(self, **changes: str | None) -> str:
        """This list's address with some choices changed (a changed view or order starts at page one)."""
        values = {
            "view": self.view.key,
            "status": self.status,
            "urgency": self.urgency,
            "purpose": self.purpose,
            "assigned": self.assigned,
            "sort": None if self.sort == BoxSort.NEWEST else self.sort,
            "search": self.sealed,
        } | changes
        return "?" + urlencode({k: str(v) for k, v in values.items() if v})


def _member(kind: type[E], value: str | None) -> E | None:
    """A code from a link or a form, or None for a code the list does not know."""
    return next((m for m in kind if m.value == value), None)


def _assigned(value: str | None, colleagues: list[Colleague]) -> str | None:
    known = {"me", "none", *(str(c.id) for c in colleagues)}
    return value if value in known else None


def _choices(
    values: Mapping[str, str], views: tuple[View, ...], colleagues: list[Colleague], search: str | None
) -> Choices:
    return Choices(
        view=next((v for v in views if v.key == values.get("view")), views[0]),
        status=_member(ReferralStatus, values.get("status")),
        urgency=_member(Urgency, values.get("urgency")),
        purpose=_member(Purpose, values.get("purpose")),
        assigned=_assigned(values.get("assigned"), colleagues),
        sort=_member(BoxSort, values.get("sort")) or BoxSort.NEWEST,
        search=search,
    )


async def _colleagues(session: SessionDep, who: SignedIn, box: Box) -> list[Colleague]:
    # Only the receiving agency assigns referrals, so only its inbox filters by assignee.
    return await team(session, who.principal) if box == Box.INBOX else []


def _chosen(request: Request, who: SignedIn, views: tuple[View, ...], colleagues: list[Colleague]) -> Choices:
    """The choices a list's address carries; a search sealed for anyone else is dropped."""
    sealed = request.query_params.get("search")
    term = search_terms.unseal(sealed, who.principal.id)
    chosen = _choices(request.query_params, views, colleagues, term)
    return replace(chosen, sealed=sealed if term else None)


async def _box(
    request: Request,
    session: SessionDep,
    who: SignedIn,
    box: Box,
    views: tuple[View, ...],
    cursor: str | None,
) -> dict[str, object]:
    """A page of the list as chosen, and how many referrals each view holds.

    A search looks through the whole box (the person's referral may be in any view); filters
    narrow the view, or the search. Each view's count is of the view alone, and stops at
    COUNT_UP_TO, so the counts cost the same at any size.
    """
    colleagues = await _colleagues(session, who, box)
    chosen = _chosen(request, who, views, colleagues)
    within = () if chosen.search else (chosen.view.filters,)
    page: Page[ReferralPublic] = await referrals.list_box(
        session,
        who.principal,
        box,
        *within,
        chosen.filters(),
        sort=chosen.sort,
        cursor=cursor,
        limit=get_settings().default_page_size,
    )
    counts = {
        v.key: await referrals.count_box(session, who.principal, box, v.filters, up_to=COUNT_UP_TO)
        for v in views
    }
    return {
        "views": views,
        "chosen": chosen,
        "counts": counts,
        "page": page,
        "agencies": await agency_names(session),
        "colleagues": colleagues,
        "count_up_to": COUNT_UP_TO,
        "now": utcnow(),
    }


async def _count(session: SessionDep, who: SignedIn, box: Box, view: View) -> int:
    return await referrals.count_box(session, who.principal, box, view.filters, up_to=COUNT_UP_TO)


async def _search(
    request: Request, session: SessionDep, who: SignedIn, box: Box, views: tuple[View, ...]
) -> Response:
    """The search and filters as posted, sent on to the list as a link (the term sealed)."""
    form = Form.read(await request.form())
    term = form.get("q")[: search_terms.LONGEST_TERM] or None
    chosen = _choices(form.values, views, await _colleagues(session, who, box), term)
    sealed = search_terms.seal(term, who.principal.id) if term else None
    return RedirectResponse(request.url.path + replace(chosen, sealed=sealed).link(), status_code=303)


@router.get("/inbox")
async def inbox(
    request: Request, session: SessionDep, who: Caseworker, cursor: CursorParam = None
) -> Response:
    """The team's inbox: referrals to the agency, by view, newest first unless sorted otherwise."""
    context = await _box(request, session, who, Box.INBOX, INBOX_VIEWS, cursor)
    return render(request, "inbox.html", context)


@router.post("/inbox")
async def search_inbox(request: Request, session: SessionDep, who: Caseworker) -> Response:
    """Search and filter the inbox."""
    return await _search(request, session, who, Box.INBOX, INBOX_VIEWS)


@router.get("/sent")
async def sent(
    request: Request, session: SessionDep, who: Caseworker, cursor: CursorParam = None
) -> Response:
    """Referrals the agency sent, with the latest outcome of each, so the referrer sees what happened."""
    context = await _box(request, session, who, Box.SENT, SENT_VIEWS, cursor)
    page = context["page"]
    assert isinstance(page, Page)
    outcomes = await caseload.latest_outcomes(session, who.principal, [r.id for r in page.items])
    return render(request, "sent.html", {**context, "outcomes": outcomes})


@router.post("/sent")
async def search_sent(request: Request, session: SessionDep, who: Caseworker) -> Response:
    """Search and filter the sent referrals."""
    return await _search(request, session, who, Box.SENT, SENT_VIEWS)
