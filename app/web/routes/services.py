"""Agency admins keep their services' entries in the directory (name, purposes, languages and the
rest), and can stop taking referrals, through the same directory service as the API."""

import uuid

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from app.config import get_settings
from app.deps import SessionDep
from app.errors import AppError, NotFound
from app.models.directory import Service, ServiceUpdate
from app.services import directory
from app.web import labels, locations_form
from app.web.auth import ServiceKeeper
from app.web.forms import Form, from_problem, from_validation
from app.web.i18n import gettext
from app.web.outcome import attempt
from app.web.sessions import SignedIn
from app.web.templating import render

router = APIRouter(prefix="/admin/services")
FIELDS = {
    "name": "name",
    "purposes": "purposes",
    "description": "description",
    "eligibility": "eligibility",
    "area_served": "area_served",
    "languages": "languages",
    "response_target_days": "response_target_days",
    "contact_email": "contact_email",
    "opening_hours": "opening_hours",
    "external_id": "external_id",
}


@router.get("")
async def services(request: Request, session: SessionDep, who: ServiceKeeper) -> Response:
    """The agency's services, and whether each is taking referrals."""
    filters = directory.ServiceFilters(agency_id=who.principal.agency_id)
    found, _ = await directory.list_services(
        session, filters, cursor=None, limit=get_settings().max_page_size
    )
    return render(request, "admin/services.html", {"services": found})


async def _own(session: SessionDep, who: SignedIn, service_id: uuid.UUID) -> Service:
    """One of the agency's own services; any other is "Page not found"."""
    service = await directory.get_service(session, service_id)
    if service.agency_id != who.principal.agency_id:
        raise NotFound("No such service.")
    return service


@router.get("/{service_id:uuid}")
async def service_page(
    request: Request, session: SessionDep, who: ServiceKeeper, service_id: uuid.UUID
) -> Response:
    """What the directory says about the service."""
    service = await _own(session, who, service_id)
    return render(request, "admin/service.html", _context(service, None))


def _context(service: Service, form: Form | None) -> dict[str, object]:
    return {
        "service": service,
        "form": form,
        "languages": labels.LANGUAGES,
        "purposes": labels.PURPOSES,
        "location_blocks": locations_form.blocks(service, form),
    }


def _where(form: Form) -> dict[str, object]:
    """The locations and external id, when the form showed them (a form that did not changes neither)."""
    given: dict[str, object] = {}
    places = locations_form.read(form)
    if places is not None:
        given["locations"] = places
    if "external_id" in form.values:
        given["external_id"] = form.get("external_id") or None
    return given


def _purposes(form: Form) -> list[str] | None:
    """The purposes ticked (at least one: a service takes referrals for something)."""
    purposes = [code for code in form.lists.get("purposes", []) if code in labels.PURPOSES]
    if not purposes:
        form.add("purposes", gettext("Select what the service takes referrals for"))
    return purposes or None


def _changes(form: Form) -> ServiceUpdate | None:
    form.require("name", gettext("Enter the service's name"))
    purposes = _purposes(form)
    form.choice(
        "accepting_referrals",
        {"yes": "", "no": ""},
        gettext("Select whether the service is taking referrals"),
    )
    days = form.require("response_target_days", gettext("Enter how many days the service takes to decide"))
    if days and not days.isdigit():
        form.add("response_target_days", gettext("Days to decide must be a whole number, like 5"))
    areas = [code for code in form.get("area_served").replace(",", " ").split() if code]
    values = {name: form.get(name) for name in ("name", "description", "eligibility", "opening_hours")}
    try:
        return ServiceUpdate.model_validate(
            {
                **values,
                "area_served": areas,
                "purposes": purposes,
                "languages": [c for c in form.lists.get("languages", []) if c in labels.LANGUAGES] or ["en"],
                "accepting_referrals": form.get("accepting_referrals") == "yes",
                "response_target_days": int(days) if days.isdigit() else None,
                "contact_email": form.get("contact_email") or None,
                **_where(form),
            }
        )
    except ValidationError as exc:
        from_validation(form, exc, FIELDS, "description")
        return None


@router.post("/{service_id:uuid}")
async def change_service(
    request: Request, session: SessionDep, who: ServiceKeeper, service_id: uuid.UUID
) -> Response:
    """Save the service's entry (the directory and the search see it at once)."""
    form = Form.read(await request.form())
    await _own(session, who, service_id)
    body = _changes(form)
    if body is not None and form.ok:
        changed = await attempt(
            session, directory.update_service(session, who.principal.actor, service_id, body)
        )
        if not isinstance(changed, AppError):
            return RedirectResponse("/admin/services?changed=1", status_code=303)
        from_problem(form, changed, FIELDS, "description")
    service = await _own(session, who, service_id)
    return render(request, "admin/service.html", _context(service, form), 400)
