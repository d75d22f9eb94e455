"""Steps taken from a referral's page that ask first: confirming a move, changing the
appointment, recording that the person withdrew their consent."""

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from app.deps import SessionDep
from app.errors import AppError, PreconditionFailed
from app.models.consent import ConsentWithdrawal
from app.models.referral import ReferralPublic, ReferralStatus
from app.services import consents, referrals
from app.web import referral_page
from app.web.auth import Caseworker
from app.web.forms import Form, from_problem
from app.web.i18n import gettext
from app.web.outcome import attempt
from app.web.routes.referral import PAGE, Writable, after_refusal, appointment_from, to_page
from app.web.templating import render

router = APIRouter()
UK = ZoneInfo("Europe/London")


def _back(referral_id: object) -> Response:
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)


@router.get(PAGE + "/confirm/{move}")
async def confirm_page(request: Request, session: SessionDep, access: Writable, move: str) -> Response:
    """Are you sure? Accepting or completing tells the other agency, who acts on it."""
    referral = await referral_page.summary(session, access)
    wanted = next((m for m in referral_page.CONFIRMED_MOVES if m.value == move), None)
    if wanted is None or wanted not in referral.allowed_actions:
        return _back(referral.id)
    return render(request, "referral/confirm.html", {"referral": referral, "move": wanted.value})


def _appointment_values(referral: ReferralPublic) -> dict[str, str]:
    """The current appointment as the schedule page's fields, to change from."""
    if referral.appointment is None:
        return {}
    at = referral.appointment.starts_at.astimezone(UK)
    return {
        "date-day": str(at.day),
        "date-month": str(at.month),
        "date-year": str(at.year),
        "time": at.strftime("%H:%M"),
        "location": referral.appointment.location,
        "with_whom": referral.appointment.with_whom,
    }


async def _appointment_page(
    request: Request, session: SessionDep, access: Writable, form: Form | None, status: int = 200
) -> Response:
    referral = await referral_page.summary(session, access)
    if referral.status != ReferralStatus.HANDOVER_SCHEDULED:
        return _back(referral.id)
    form = form or Form(values=_appointment_values(referral))
    return render(
        request, "referral/schedule.html", {"referral": referral, "form": form, "changing": True}, status
    )


@router.get(PAGE + "/appointment")
async def appointment_page(request: Request, session: SessionDep, access: Writable) -> Response:
    """The handover appointment, to move to another time or place."""
    return await _appointment_page(request, session, access, None)


@router.post(PAGE + "/appointment")
async def change_appointment(
    request: Request, session: SessionDep, who: Caseworker, access: Writable
) -> Response:
    """Move the handover appointment; the other agency is told."""
    form = Form.read(await request.form())
    appointment, referral_id = appointment_from(form), access.referral.id
    if appointment is not None:
        version = f'"{form.get("version")}"'
        result = await attempt(session, referrals.change_appointment(session, access, appointment, version))
        if isinstance(result, PreconditionFailed):
            return await after_refusal(request, session, who, referral_id, result)
        if not isinstance(result, AppError):
            return to_page(referral_id, "appointment_changed")
        from_problem(
            form, result, {"starts_at": "date", "location": "location", "with_whom": "with_whom"}, "date"
        )
        access = await referrals.load_for_party(session, who.principal, referral_id)
    return await _appointment_page(request, session, access, form, 400)


async def _withdrawal_page(
    request: Request, session: SessionDep, access: Writable, form: Form | None, status: int = 200
) -> Response:
    view = await referral_page.read(session, access)
    if not view.can_record_withdrawal:
        return _back(view.referral.id)
    return render(request, "referral/withdraw_consent.html", {"view": view, "form": form}, status)


@router.get(PAGE + "/withdraw-consent")
async def withdrawal_page(request: Request, session: SessionDep, access: Writable) -> Response:
    """What withdrawing consent does, before it is recorded."""
    return await _withdrawal_page(request, session, access, None)


@router.post(PAGE + "/withdraw-consent")
async def withdraw_consent(
    request: Request, session: SessionDep, who: Caseworker, access: Writable
) -> Response:
    """Record that the person withdrew their consent: every open referral under it is withdrawn."""
    form = Form.read(await request.form())
    reason, referral_id = form.get("reason") or None, access.referral.id
    if reason is not None and len(reason) > 500:
        form.add("reason", gettext("Reason must be 500 characters or fewer"))
        return await _withdrawal_page(request, session, access, form, 400)
    consent_id = access.referral.consent_id
    result = await attempt(
        session, consents.withdraw(session, who.principal, consent_id, ConsentWithdrawal(reason=reason))
    )
    if isinstance(result, AppError):
        return await after_refusal(request, session, who, referral_id, result)
    return to_page(referral_id, "consent_withdrawn")
