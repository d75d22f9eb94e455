"""A referral's page, and the moves, outcomes and messages made from it."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from app.deps import SessionDep
from app.errors import AppError, Forbidden, PreconditionFailed, Unprocessable
from app.models.identity import Scope
from app.models.message import MessageCreate
from app.models.outcome import OutcomeCreate, OutcomeType
from app.models.referral import (
    Appointment,
    AssignmentRequest,
    ReferralPublic,
    ReferralStatus,
    TransitionRequest,
)
from app.services import messages, outcomes, referrals
from app.services.referrals import PartyAccess
from app.web import labels, referral_page
from app.web.auth import Caseworker
from app.web.forms import Form, from_problem, read_date, read_time, uk_moment
from app.web.i18n import N_, gettext
from app.web.outcome import attempt
from app.web.templating import render

router = APIRouter()
PAGE = "/referrals/{referral_id:uuid}"

DONE = {
    "accepted": N_("Referral accepted"),
    "declined": N_("Referral declined"),
    "handover_scheduled": N_("Handover scheduled"),
    "in_progress": N_("Work started"),
    "completed": N_("Referral completed"),
    "cancelled": N_("Referral cancelled"),
    "outcome": N_("Outcome recorded"),
    "message": N_("Message sent"),
    "assigned": N_("Referral assigned to you"),
    "appointment_changed": N_("Appointment changed"),
    "consent_withdrawn": N_("Consent withdrawn: the referral is closed"),
    "reassigned": N_("Referral assigned"),
    "unassigned": N_("Referral assigned to nobody"),
}


async def _readable(referral_id: uuid.UUID, session: SessionDep, who: Caseworker) -> PartyAccess:
    return await referrals.load_for_party(session, who.principal, referral_id)


async def _writable(referral_id: uuid.UUID, session: SessionDep, who: Caseworker) -> PartyAccess:
    if not who.principal.has(Scope.REFERRALS_WRITE):
        raise Forbidden("This account cannot change referrals.")
    return await referrals.load_for_party(session, who.principal, referral_id)


# Anyone else's referral, or one that does not exist, is "Page not found".
Readable = Annotated[PartyAccess, Depends(_readable)]
Writable = Annotated[PartyAccess, Depends(_writable)]


def to_page(referral_id: uuid.UUID, done: str) -> Response:
    return RedirectResponse(f"/referrals/{referral_id}?done={done}", status_code=303)


async def _show(
    request: Request,
    session: SessionDep,
    access: PartyAccess,
    *,
    form: Form | None = None,
    refusal: AppError | None = None,
    status: int = 200,
) -> Response:
    view = await referral_page.read(session, access)
    done = request.query_params.get("done", "")
    context = {
        "view": view,
        "assigning": await referral_page.assigning(session, access),
        "form": form,
        "refusal": refusal,
        "stale": isinstance(refusal, PreconditionFailed),
        "done": gettext(DONE[done]) if done in DONE and refusal is None and form is None else None,
    }
    return render(request, "referral/show.html", context, status)


async def after_refusal(
    request: Request, session: SessionDep, who: Caseworker, referral_id: uuid.UUID, refusal: AppError
) -> Response:
    """The referral as it is now, with why the change was not made (read afresh after the rollback)."""
    access = await referrals.load_for_party(session, who.principal, referral_id)
    return await _show(request, session, access, refusal=refusal, status=refusal.status)


@router.get(PAGE)
async def show(request: Request, session: SessionDep, access: Readable) -> Response:
    """The person, reason, consent, history, appointment, outcomes and messages, and what you can do."""
    return await _show(request, session, access)


async def _move(
    request: Request,
    session: SessionDep,
    who: Caseworker,
    access: PartyAccess,
    move: TransitionRequest,
    version: str,
) -> Response | AppError:
    referral_id = access.referral.id
    done = await attempt(session, referrals.transition(session, access, move, f'"{version}"'))
    if isinstance(done, PreconditionFailed):
        return await after_refusal(request, session, who, referral_id, done)
    if isinstance(done, AppError):
        return done
    return to_page(referral_id, move.to.value)


@router.post(PAGE + "/move")
async def move(request: Request, session: SessionDep, who: Caseworker, access: Writable) -> Response:
    """Accept, start work or complete: the moves that need nothing more than the button."""
    form = Form.read(await request.form())
    referral_id = access.referral.id
    if form.get("to") not in {s.value for s in referral_page.DIRECT_MOVES}:
        return await _show(
            request,
            session,
            access,
            refusal=Forbidden(gettext("That is not a move you can make here.")),
            status=400,
        )
    result = await _move(
        request,
        session,
        who,
        access,
        TransitionRequest(to=ReferralStatus(form.get("to"))),
        form.get("version"),
    )
    if isinstance(result, AppError):
        return await after_refusal(request, session, who, referral_id, result)
    return result


# --- moves that ask for details -------------------------------------------------------------


async def _detail_page(
    request: Request,
    session: SessionDep,
    access: PartyAccess,
    template: str,
    form: Form | None,
    status: int = 200,
) -> Response:
    referral = await referral_page.summary(session, access)
    if not _offered(template, referral):  # an old link or a hand-typed address: show what can be done
        return RedirectResponse(f"/referrals/{referral.id}", status_code=303)
    groups = outcomes.choices_for(referral.purpose)
    return render(request, template, {"referral": referral, "form": form, "groups": groups}, status)


# The move each details page makes; the outcome page needs a referral that outcomes can follow.
PAGE_MOVES = {
    "referral/decline.html": ReferralStatus.DECLINED,
    "referral/cancel.html": ReferralStatus.CANCELLED,
    "referral/schedule.html": ReferralStatus.HANDOVER_SCHEDULED,
}


def _offered(template: str, referral: ReferralPublic) -> bool:
    move = PAGE_MOVES.get(template)
    if move is not None:
        return move in referral.allowed_actions
    return referral.status in outcomes.RECORDABLE


async def _move_with_details(
    request: Request,
    session: SessionDep,
    who: Caseworker,
    access: PartyAccess,
    template: str,
    form: Form,
    move: TransitionRequest | None,
) -> Response:
    """Make the move once the form is complete; otherwise show the page again with its errors."""
    referral_id = access.referral.id
    if move is not None and form.ok:
        result = await _move(request, session, who, access, move, form.get("version"))
        if not isinstance(result, AppError):
            return result
        from_problem(form, result, PROBLEM_FIELDS, "note")
        access = await referrals.load_for_party(session, who.principal, referral_id)
    return await _detail_page(request, session, access, template, form, 400)


PROBLEM_FIELDS = {
    "reason_code": "reason",
    "note": "note",
    "appointment": "date",
    "appointment.starts_at": "date",
    "appointment.location": "location",
    "appointment.with_whom": "with_whom",
}


@router.get(PAGE + "/decline")
async def decline_page(request: Request, session: SessionDep, access: Writable) -> Response:
    """Why the referral is declined: one reason from the list, and a note."""
    return await _detail_page(request, session, access, "referral/decline.html", None)


@router.post(PAGE + "/decline")
async def decline(request: Request, session: SessionDep, who: Caseworker, access: Writable) -> Response:
    """Decline with the reason given."""
    form = Form.read(await request.form())
    reason = form.choice(
        "reason", labels.DECLINE_REASONS, gettext("Select why you are declining the referral")
    )
    move = TransitionRequest(to=ReferralStatus.DECLINED, reason_code=reason, note=form.get("note") or None)
    return await _move_with_details(request, session, who, access, "referral/decline.html", form, move)


@router.get(PAGE + "/cancel")
async def cancel_page(request: Request, session: SessionDep, access: Writable) -> Response:
    """Why the referral is cancelled."""
    return await _detail_page(request, session, access, "referral/cancel.html", None)


@router.post(PAGE + "/cancel")
async def cancel(request: Request, session: SessionDep, who: Caseworker, access: Writable) -> Response:
    """Cancel with the reason given."""
    form = Form.read(await request.form())
    reason = form.choice(
        "reason", labels.CANCEL_REASONS, gettext("Select why you are cancelling the referral")
    )
    move = TransitionRequest(to=ReferralStatus.CANCELLED, reason_code=reason, note=form.get("note") or None)
    return await _move_with_details(request, session, who, access, "referral/cancel.html", form, move)


@router.get(PAGE + "/schedule")
async def schedule_page(request: Request, session: SessionDep, access: Writable) -> Response:
    """When, where and with whom the handover will be."""
    return await _detail_page(request, session, access, "referral/schedule.html", None)


def appointment_from(form: Form) -> Appointment | None:
    """The appointment typed on the schedule page; the form holds the errors, if any."""
    day = read_date(form, "date", gettext("the date of the handover"), past=False)
    at = read_time(form, "time")
    location = form.require("location", gettext("Enter where the handover will be"))
    with_whom = form.require("with_whom", gettext("Enter who the person will meet"))
    if day is None or at is None or not form.ok:
        return None
    try:
        return Appointment(starts_at=uk_moment(day, at), location=location, with_whom=with_whom)
    except ValidationError:
        form.add("location", gettext("Where and with whom must be 300 and 200 characters or fewer"))
        return None


@router.post(PAGE + "/schedule")
async def schedule(request: Request, session: SessionDep, who: Caseworker, access: Writable) -> Response:
    """Schedule the handover appointment."""
    form = Form.read(await request.form())
    appointment = appointment_from(form)
    move = (
        TransitionRequest(to=ReferralStatus.HANDOVER_SCHEDULED, appointment=appointment)
        if appointment
        else None
    )
    return await _move_with_details(request, session, who, access, "referral/schedule.html", form, move)


# --- outcomes and messages ------------------------------------------------------------------


@router.get(PAGE + "/outcome")
async def outcome_page(request: Request, session: SessionDep, access: Writable) -> Response:
    """What happened, when, and a note."""
    return await _detail_page(request, session, access, "referral/outcome.html", None)


def _outcome(form: Form) -> OutcomeCreate | None:
    kind = form.choice("type", labels.OUTCOMES, gettext("Select what happened"))
    day: date | None = read_date(form, "date", gettext("the date it happened"), past=True)
    if day is None or not form.ok:
        return None
    if len(form.get("note")) > 2000:
        form.add("note", gettext("Note must be 2000 characters or fewer"))
        return None
    return OutcomeCreate(type=OutcomeType(kind), occurred_on=day, note=form.get("note") or None)


@router.post(PAGE + "/outcome")
async def record_outcome(
    request: Request, session: SessionDep, who: Caseworker, access: Writable
) -> Response:
    """Record the outcome; the referrer sees it in their sent referrals."""
    form = Form.read(await request.form())
    body, referral_id = _outcome(form), access.referral.id
    if body is not None:
        result = await attempt(session, outcomes.record(session, access, body, None))
        if not isinstance(result, AppError):
            return to_page(referral_id, "outcome")
        from_problem(form, result, {"occurred_on": "date", "type": "type", "note": "note"}, "type")
        access = await referrals.load_for_party(session, who.principal, referral_id)
    return await _detail_page(request, session, access, "referral/outcome.html", form, 400)


@router.post(PAGE + "/assignment")
async def assign(request: Request, session: SessionDep, who: Caseworker, access: Writable) -> Response:
    """Assign the referral to yourself (`Assign to me`), a colleague or nobody (`Assign to`)."""
    referral_id, chosen = access.referral.id, Form.read(await request.form()).get("assign_to")
    user_id = _assignee(chosen, who.principal.id)
    if isinstance(user_id, AppError):
        return await after_refusal(request, session, who, referral_id, user_id)
    result = await attempt(session, referrals.assign(session, access, AssignmentRequest(user_id=user_id)))
    if isinstance(result, Unprocessable):  # someone who left the team, or a hand-made form
        result = Unprocessable(gettext("Select a member of your team who can sign in, or nobody"))
    if isinstance(result, AppError):
        return await after_refusal(request, session, who, referral_id, result)
    return to_page(referral_id, _assigned_to(user_id, who.principal.id))


def _assigned_to(user_id: uuid.UUID | None, my_id: str) -> str:
    """Which confirmation the page shows."""
    if user_id is None:
        return "unassigned"
    return "assigned" if str(user_id) == my_id else "reassigned"


def _assignee(chosen: str, my_id: str) -> uuid.UUID | AppError | None:
    """Whom the form names: no choice is the user themselves, `none` nobody."""
    if chosen == "none":
        return None
    try:
        return uuid.UUID(chosen or my_id)
    except ValueError:
        return Unprocessable(gettext("Select a member of your team who can sign in, or nobody"))


@router.post(PAGE + "/messages")
async def send_message(request: Request, session: SessionDep, who: Caseworker, access: Writable) -> Response:
    """Add a message to the thread between the two agencies."""
    form = Form.read(await request.form())
    text, referral_id = form.require("message", gettext("Enter a message")), access.referral.id
    if len(text) > 4000:
        form.add("message", gettext("Message must be 4000 characters or fewer"))
    if form.ok:
        result = await attempt(session, messages.post(session, access, MessageCreate(body=text), None))
        if not isinstance(result, AppError):
            return to_page(referral_id, "message")
        from_problem(form, result, {"body": "message"}, "message")
        access = await referrals.load_for_party(session, who.principal, referral_id)
    return await _show(request, session, access, form=form, status=400)
