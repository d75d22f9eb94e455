"""Agency admins: their agency's staff (add, deactivate, mark away, send a new link to set a
password) and its notification log."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from app.config import get_settings
from app.db import utcnow
from app.deps import SessionDep, SettingsDep
from app.errors import AppError
from app.models.identity import NotificationKind, Role, User, UserCreate, UserUpdate
from app.models.notification import NotificationStatus
from app.services import users
from app.services.notifications import log
from app.web import absence, labels
from app.web.auth import StaffManager
from app.web.forms import Form, from_problem, from_validation, read_date, uk_moment
from app.web.i18n import N_, gettext
from app.web.outcome import attempt
from app.web.templating import render

router = APIRouter(prefix="/admin")
CursorParam = Annotated[str | None, Query(max_length=500)]
ROLES = {Role.CASEWORKER: N_("Caseworker"), Role.AGENCY_ADMIN: N_("Agency admin")}
FIELDS = {"username": "username", "display_name": "display_name", "email": "email", "role": "role"}


@router.get("/staff")
async def staff(
    request: Request, session: SessionDep, who: StaffManager, cursor: CursorParam = None
) -> Response:
    """The agency's staff: who is active, who is away."""
    page = await users.list_users(
        session, who.principal, agency_id=None, role=None, cursor=cursor, limit=get_settings().max_page_size
    )
    return render(request, "admin/staff.html", {"page": page, "roles": ROLES, "now": utcnow()})


@router.get("/staff/new")
async def new_member_page(request: Request, _who: StaffManager) -> Response:
    """Who to add, and their role."""
    return render(request, "admin/staff_new.html", {"form": None, "roles": ROLES})


@router.post("/staff/new")
async def add_member(
    request: Request, session: SessionDep, settings: SettingsDep, who: StaffManager
) -> Response:
    """Add a member of staff; their single-use link to set a password is shown once."""
    form = Form.read(await request.form())
    form.require("username", gettext("Enter a username"))
    form.choice("role", ROLES, gettext("Select their role"))
    body = _new_member(form)
    created = await attempt(session, users.create(session, settings, who.principal, body)) if body else None
    if created is None or isinstance(created, AppError):
        if isinstance(created, AppError):
            from_problem(form, created, FIELDS, "username")
        return render(request, "admin/staff_new.html", {"form": form, "roles": ROLES}, 400)
    return render(request, "admin/staff_added.html", {"created": created})


def _new_member(form: Form) -> UserCreate | None:
    if not form.ok:
        return None
    values = {k: form.get(k) or None for k in ("username", "display_name", "email", "role")}
    try:
        return UserCreate.model_validate({**values, "display_name": form.get("display_name")})
    except ValidationError as exc:
        from_validation(form, exc, FIELDS, "username")
        return None


@router.get("/staff/{user_id:uuid}")
async def member_page(
    request: Request, session: SessionDep, who: StaffManager, user_id: uuid.UUID
) -> Response:
    """A member of staff: their role, whether they are away, whether their account is active."""
    member = await users.get_managed(session, who.principal, user_id)
    return render(request, "admin/member.html", _member_context(member, None))


def _member_context(member: User, form: Form | None) -> dict[str, Any]:
    # The date fields show the last day they are away, as it was entered.
    away_day = (
        absence.last_day_away(member.away_until) if member.is_away(utcnow()) and member.away_until else None
    )
    return {"member": member, "form": form, "roles": ROLES, "away_day": away_day}


def _away_until(form: Form) -> dict[str, Any]:
    """Away up to and including the day given (back at the next UK midnight); no date: not away."""
    if not any(form.get(f"away-{part}") for part in ("day", "month", "year")):
        return {"away_until": None}
    last_day: date | None = read_date(form, "away", gettext("the last day they are away"), past=False)
    return {"away_until": absence.back_at(last_day)} if last_day else {}


@router.post("/staff/{user_id:uuid}")
async def change_member(
    request: Request, session: SessionDep, who: StaffManager, user_id: uuid.UUID
) -> Response:
    """Change the member's role, absence or access; deactivating signs them out at once."""
    form = Form.read(await request.form())
    form.choice("role", ROLES, gettext("Select their role"))
    form.choice("active", {"yes": "", "no": ""}, gettext("Select whether they can sign in"))
    changes = {"role": form.get("role"), "active": form.get("active") == "yes", **_away_until(form)}
    if form.ok:
        result = await attempt(
            session, users.update_user(session, who.principal, user_id, UserUpdate(**changes))
        )
        if not isinstance(result, AppError):
            return RedirectResponse("/admin/staff?changed=1", status_code=303)
        from_problem(form, result, {"role": "role", "active": "active", "away_until": "away"}, "role")
    member = await users.get_managed(session, who.principal, user_id)
    return render(request, "admin/member.html", _member_context(member, form), 400)


@router.post("/staff/{user_id:uuid}/password-link")
async def send_new_link(
    request: Request, session: SessionDep, settings: SettingsDep, who: StaffManager, user_id: uuid.UUID
) -> Response:
    """A new single-use link for the member to set their password; earlier links stop working."""
    issued = await attempt(session, users.reissue_link(session, settings, who.principal, user_id))
    member = await users.get_managed(session, who.principal, user_id)
    if isinstance(issued, AppError):
        form = Form()
        from_problem(form, issued, {"active": "active"}, "active")
        return render(request, "admin/member.html", _member_context(member, form), 400)
    return render(request, "admin/link_issued.html", {"member": member, "issued": issued})


# The log's filters, as query parameters: the page's filter form is a GET form.
FILTERS = ("kind", "status", "date-day", "date-month", "date-year")


@dataclass(frozen=True, slots=True)
class LogQuery:
    """The filters chosen, as the notification log service takes them."""

    kind: NotificationKind | None = None
    status: NotificationStatus | None = None
    since: datetime | None = None
    until: datetime | None = None


def _log_query(form: Form) -> LogQuery:
    """The filters as the service takes them: a day queued is that day in UK time."""
    kind = form.choice("kind", {"": "", **labels.NOTIFICATION_KINDS}, gettext("Select a kind from the list"))
    status = form.choice(
        "status", {"": "", **labels.NOTIFICATION_STATUSES}, gettext("Select a status from the list")
    )
    day = read_date(form, "date", gettext("the date queued")) if _date_given(form) else None
    if not form.ok:
        return LogQuery()
    since = uk_moment(day, time(0)) if day else None
    return LogQuery(
        kind=NotificationKind(kind) if kind else None,
        status=NotificationStatus(status) if status else None,
        since=since,
        until=uk_moment(day + timedelta(days=1), time(0)) if day else None,
    )


def _date_given(form: Form) -> bool:
    return any(form.get(f"date-{part}") for part in ("day", "month", "year"))


@router.get("/notifications")
async def notifications(
    request: Request, session: SessionDep, who: StaffManager, cursor: CursorParam = None
) -> Response:
    """What was sent to the agency's staff, about which referral, and whether it arrived; by kind,
    status and the day it was queued, through the same service as `GET /v1/notifications`."""
    form = Form(values={k: request.query_params.get(k, "").strip() for k in FILTERS})
    chosen = _log_query(form)
    page = await log.list_log(
        session,
        who.principal,
        status=chosen.status,
        kind=chosen.kind,
        referral_id=None,
        since=chosen.since,
        until=chosen.until,
        cursor=cursor if form.ok else None,
        limit=get_settings().default_page_size,
    )
    filtered = {k: v for k, v in form.values.items() if v}
    context = {"page": page, "form": form if not form.ok else None, "filters": form, "filtered": filtered}
    return render(request, "admin/notifications.html", context, 200 if form.ok else 400)
