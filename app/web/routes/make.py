"""Make a referral: choose a service, the person, their consent, the details, check, send."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from app.deps import SessionDep
from app.errors import AppError, Conflict, Forbidden
from app.models.directory import Purpose, Service
from app.models.identity import Scope
from app.models.referral import ReferralCreate, ReferralPublic
from app.services import directory, referrals
from app.web import drafts, make_steps
from app.web import sessions as web_sessions
from app.web.auth import Caseworker
from app.web.forms import Form
from app.web.i18n import gettext
from app.web.names import agency_names
from app.web.outcome import attempt
from app.web.sessions import SignedIn
from app.web.templating import render

router = APIRouter(prefix="/referrals/new")


def _writer(who: SignedIn) -> SignedIn:
    if not who.principal.has(Scope.REFERRALS_WRITE):
        raise Forbidden("This account cannot make referrals.")
    return who


def _next_page(draft: dict[str, Any]) -> str:
    missing = [s for s in drafts.SECTIONS if not draft.get(s)]
    return f"/referrals/new/{missing[0]}" if missing else "/referrals/new/check"


def _save(who: SignedIn, draft: dict[str, Any], section: str, values: dict[str, Any]) -> Response:
    draft[section] = values
    web_sessions.save_draft(who, draft)
    return RedirectResponse(_next_page(draft), status_code=303)


async def _service(session: SessionDep, draft: dict[str, Any]) -> Service | None:
    chosen = draft.get("service", {}).get("service_id")
    return await directory.get_service(session, uuid.UUID(chosen)) if chosen else None


@router.get("")
async def task_list(request: Request, who: Caseworker) -> Response:
    """The sections of a referral and which are done."""
    draft = web_sessions.draft_of(_writer(who))
    return render(
        request,
        "make/tasks.html",
        {
            "done": drafts.completed(draft),
            "next_page": _next_page(draft),
            "onward": draft.get("parent"),
            "section_titles": drafts.SECTION_TITLES,
        },
    )


@router.post("/start-again")
async def start_again(who: Caseworker) -> Response:
    """Forget the referral being made."""
    web_sessions.save_draft(_writer(who), None)
    return RedirectResponse("/referrals/new", status_code=303)


# --- choose a service -----------------------------------------------------------------------


@router.get("/service")
async def find_service(request: Request, session: SessionDep, who: Caseworker) -> Response:
    """Search services by words, purpose, language and postcode, and choose one."""
    _writer(who)
    query = {
        k: request.query_params.get(k, "").strip()[:100] for k in ("q", "purpose", "language", "postcode")
    }
    purpose = Purpose(query["purpose"]) if query["purpose"] in Purpose.__members__.values() else None
    filters = directory.ServiceFilters(
        purpose=purpose,
        accepting_referrals=True,
        q=query["q"] or None,
        language=query["language"] or None,
        postcode=query["postcode"] or None,
    )
    problem = make_steps.postcode_error(query["postcode"]) if query["postcode"] else None
    found = [] if problem else (await directory.list_services(session, filters, cursor=None, limit=50))[0]
    own = who.principal.agency_id
    form = Form()
    if request.query_params.get("error") == "choose":
        form.add("service", gettext("Choose the service to refer the person to"))
    context = {
        "form": form,
        "query": query,
        "postcode_error": {"text": problem} if problem else None,
        "services": [s for s in found if s.agency_id != own],
        "agencies": await agency_names(session),
        "chosen": web_sessions.draft_of(who).get("service", {}).get("service_id"),
    }
    return render(request, "make/service.html", context)


@router.post("/service")
async def choose_service(request: Request, session: SessionDep, who: Caseworker) -> Response:
    """Keep the service chosen."""
    form = Form.read(await request.form())
    draft = web_sessions.draft_of(_writer(who))
    chosen = form.get("service_id")
    try:
        service = await directory.get_service(session, uuid.UUID(chosen))
    except (ValueError, AppError):
        return RedirectResponse("/referrals/new/service?error=choose", status_code=303)
    if draft.get("service", {}).get("service_id") != str(service.id):
        draft.pop("details", None)
        if not drafts.carried_over(draft):  # a consent carried onward stays; the details say if it covers
            draft.pop("consent", None)
    return _save(who, draft, "service", {"service_id": str(service.id)})


# --- the person -----------------------------------------------------------------------------


def _person_page(request: Request, form: Form | None, status: int = 200) -> Response:
    return render(
        request,
        "make/person.html",
        {"form": form, "benefits": drafts.BENEFITS, "barriers": drafts.BARRIERS},
        status,
    )


@router.get("/person")
async def person_page(request: Request, who: Caseworker) -> Response:
    """Who the referral is about."""
    draft = web_sessions.draft_of(_writer(who))
    return _person_page(request, make_steps.stored_form(draft, "person"))


@router.post("/person")
async def save_person(request: Request, who: Caseworker) -> Response:
    """Keep the person's details."""
    form = Form.read(await request.form())
    draft = web_sessions.draft_of(_writer(who))
    values = make_steps.person(form)
    if not form.ok:
        return _person_page(request, form, 400)
    return _save(who, draft, "person", values)


# --- consent --------------------------------------------------------------------------------


async def _consent_page(
    request: Request, session: SessionDep, draft: dict[str, Any], form: Form | None, status: int = 200
) -> Response:
    service = await _service(session, draft)
    if service is None:
        return RedirectResponse("/referrals/new/service", status_code=303)
    context = {
        "form": form,
        "service": service,
        "agency_record": await directory.get_agency(session, service.agency_id),
        "person_language": draft.get("person", {}).get("language", "en"),
        "needed_for": draft.get("consent_needed"),
    }
    return render(request, "make/consent.html", context, status)


@router.get("/consent")
async def consent_page(request: Request, session: SessionDep, who: Caseworker) -> Response:
    """The words to read to the person, and what they agreed to."""
    draft = web_sessions.draft_of(_writer(who))
    return await _consent_page(request, session, draft, make_steps.stored_form(draft, "consent"))


@router.post("/consent")
async def save_consent(request: Request, session: SessionDep, who: Caseworker) -> Response:
    """Keep the consent, as given now."""
    form = Form.read(await request.form())
    draft = web_sessions.draft_of(_writer(who))
    service = await _service(session, draft)
    if service is None:
        return RedirectResponse("/referrals/new/service", status_code=303)
    values = make_steps.consent(form, service)
    if not form.ok:
        return await _consent_page(request, session, draft, form, 400)
    draft.pop("consent_needed", None)
    return _save(who, draft, "consent", values)


# --- details --------------------------------------------------------------------------------


async def _details_page(
    request: Request, session: SessionDep, draft: dict[str, Any], form: Form | None, status: int = 200
) -> Response:
    purposes = await _purposes(session, draft)
    if not purposes:
        return RedirectResponse("/referrals/new/consent", status_code=303)
    context = {"form": form, "purposes": purposes, "onward": draft.get("parent")}
    return render(request, "make/details.html", context, status)


async def _purposes(session: SessionDep, draft: dict[str, Any]) -> list[str]:
    """What the referral can be for: what the person agreed to, or, onward, what the service takes."""
    if not drafts.carried_over(draft):
        return list(draft.get("consent", {}).get("purposes", []))
    service = await _service(session, draft)
    return [p.value for p in service.purposes] if service else []


@router.get("/details")
async def details_page(request: Request, session: SessionDep, who: Caseworker) -> Response:
    """Why, how urgent, and how the handover should happen."""
    draft = web_sessions.draft_of(_writer(who))
    return await _details_page(request, session, draft, make_steps.stored_form(draft, "details"))


@router.post("/details")
async def save_details(request: Request, session: SessionDep, who: Caseworker) -> Response:
    """Keep the referral's details; onward, ask for a consent if the one carried over does not cover them."""
    form = Form.read(await request.form())
    draft = web_sessions.draft_of(_writer(who))
    values = make_steps.details(form, draft, await _purposes(session, draft))
    if not form.ok:
        return await _details_page(request, session, draft, form, 400)
    if drafts.carried_over(draft) and not await _still_covered(session, who, draft, values["purpose"]):
        draft.pop("consent")
        draft["consent_needed"] = values["purpose"]
    return _save(who, draft, "details", values)


async def _still_covered(session: SessionDep, who: SignedIn, draft: dict[str, Any], purpose: str) -> bool:
    parent_id = uuid.UUID(draft["parent"]["id"])
    return await referrals.onward_consent_covers(session, who.principal, parent_id, Purpose(purpose))


# --- check and send -------------------------------------------------------------------------


async def _check_page(
    request: Request,
    session: SessionDep,
    who: SignedIn,
    *,
    form: Form | None = None,
    duplicate: ReferralPublic | None = None,
    status: int = 200,
) -> Response:
    draft = web_sessions.draft_of(who)
    if drafts.completed(draft) != list(drafts.SECTIONS):
        return RedirectResponse(_next_page(draft), status_code=303)
    service = await _service(session, draft)
    context = {
        "draft": draft,
        "shown": drafts.receiver_sees(draft),
        "shared": [c.value for c in drafts.categories_of(draft)],
        "service": service,
        "agencies": await agency_names(session),
        "form": form,
        "duplicate": duplicate,
        "benefits": drafts.BENEFITS,
        "barriers": drafts.BARRIERS,
    }
    return render(request, "make/check.html", context, status)


@router.get("/check")
async def check_answers(request: Request, session: SessionDep, who: Caseworker) -> Response:
    """Everything the referral will say, with a link to change each part."""
    return await _check_page(request, session, _writer(who))


@router.post("/send")
async def send(request: Request, session: SessionDep, who: Caseworker) -> Response:
    """Send the referral through the referral service, as a partner system would."""
    form = Form.read(await request.form())
    draft = web_sessions.draft_of(_writer(who))
    if drafts.completed(draft) != list(drafts.SECTIONS):
        return RedirectResponse(_next_page(draft), status_code=303)
    going_on = form.get("duplicate") == "yes"
    if going_on and not form.get("duplicate_reason"):
        form.add("duplicate_reason", gettext("Enter why this person needs another referral to this service"))
        return await _duplicate(request, session, who, form, uuid.UUID(form.get("existing")))
    try:
        body = drafts.request_of(draft, form.get("duplicate_reason") if going_on else None)
    except (ValidationError, KeyError, ValueError):
        form.add("person", gettext("Some answers are missing or not valid; check each section"))
        return await _check_page(request, session, who, form=form, status=400)
    return await _sent_or_refused(request, session, who, body, form)


async def _sent_or_refused(
    request: Request, session: SessionDep, who: SignedIn, body: ReferralCreate, form: Form
) -> Response:
    created = await attempt(session, referrals.create(session, who.principal, body, None))
    if isinstance(created, Conflict) and created.extensions.get("existing_referral_id"):
        return await _duplicate(
            request, session, who, form, uuid.UUID(str(created.extensions["existing_referral_id"]))
        )
    if isinstance(created, AppError):
        for item in created.errors or [{"field": "", "message": created.detail}]:
            name, href, text = drafts.refusal(item.get("field", ""), item.get("message", created.detail))
            form.add(name, text)
            form.pages[name] = href
        who = await _reloaded(session, who)
        return await _check_page(request, session, who, form=form, status=created.status)
    web_sessions.save_draft(who, None)
    return RedirectResponse(f"/referrals/new/sent/{created.id}", status_code=303)


async def _reloaded(session: SessionDep, who: SignedIn) -> SignedIn:
    """The session's row read again after a refused unit of work was rolled back."""
    await session.refresh(who.record)
    await session.refresh(who.user)
    return who


async def _duplicate(
    request: Request, session: SessionDep, who: SignedIn, form: Form, existing_id: uuid.UUID
) -> Response:
    """The open referral the person already has, and a reason to make another."""
    who = await _reloaded(session, who)
    access = await referrals.load_for_party(session, who.principal, existing_id)
    existing = await referrals.view_and_stamp(session, access)
    return await _check_page(
        request, session, who, form=form if form.errors else None, duplicate=existing, status=409
    )


@router.get("/sent/{referral_id:uuid}")
async def sent(request: Request, session: SessionDep, who: Caseworker, referral_id: uuid.UUID) -> Response:
    """The confirmation, with the reference to give the person."""
    access = await referrals.load_for_party(session, who.principal, referral_id)
    referral = await referrals.view_and_stamp(session, access)
    agencies = await agency_names(session)
    return render(
        request, "make/sent.html", {"referral": referral, "agency": agencies.get(referral.to_agency_id, "")}
    )
