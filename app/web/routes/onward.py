"""Refer onward: making a referral from one the agency received, with the person and consent carried over.

The draft starts with the person as they were shared with the received referral and, while it
is in force, the consent it was made under; the rest is the usual "Make a referral".
"""

from typing import Any

from fastapi import APIRouter
from starlette.responses import RedirectResponse, Response

from app.deps import SessionDep
from app.models.consent import ConsentPublic, ConsentStatus
from app.models.person import PersonRecordPublic
from app.services import consents, referrals
from app.services.workflow import Party
from app.web import sessions as web_sessions
from app.web.auth import Caseworker
from app.web.routes.referral import PAGE, Writable

router = APIRouter()


def person_values(person: PersonRecordPublic) -> dict[str, Any]:
    """The person as the person page's fields hold them."""
    born, told = person.date_of_birth, person.circumstances
    lone = "unknown" if told is None or told.lone_parent is None else ("yes" if told.lone_parent else "no")
    return {
        "given_name": person.given_name,
        "family_name": person.family_name,
        "dob-day": str(born.day),
        "dob-month": str(born.month),
        "dob-year": str(born.year),
        "nhs_number": person.nhs_number or "",
        "postcode": person.postcode or "",
        "phone": person.phone or "",
        "email": person.email or "",
        "preferred_contact": str(person.preferred_contact or "none"),
        "language": person.language,
        "needs_interpreter": "yes" if person.needs_interpreter else "no",
        "lone_parent": lone,
        "benefits": list(told.benefits) if told else [],
        "barriers": list(told.barriers) if told else [],
    }


def _carried_over(consent: ConsentPublic) -> dict[str, Any] | None:
    """The consent the onward referral can go under, while the person's consent is in force."""
    if consent.status != ConsentStatus.IN_FORCE:
        return None
    return {"carried_over": "yes", "data_categories": [c.value for c in consent.data_categories]}


@router.post(PAGE + "/onward")
async def refer_onward(session: SessionDep, who: Caseworker, access: Writable) -> Response:
    """Start making a referral onward from this one, the person and their consent carried over."""
    if access.party != Party.RECEIVER:  # only the agency that received it can refer the person on
        return RedirectResponse(f"/referrals/{access.referral.id}", status_code=303)
    received = await referrals.view_and_stamp(session, access)
    consent = _carried_over(await consents.read(session, who.principal, received.consent_id))
    draft: dict[str, Any] = {
        "parent": {"id": str(received.id), "reference": received.reference},
        "person": person_values(received.subject),
    }
    if consent is not None:
        draft["consent"] = consent
    web_sessions.save_draft(who, draft)
    return RedirectResponse("/referrals/new", status_code=303)
