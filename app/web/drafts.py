"""The referral being made, page by page: kept in the server-side session, sent as one request.

Each page stores what was typed; the request to the referral service is built only at the end,
so the checks (consent, duplicate, service terms) are the API's own.
"""

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from app.db import utcnow
from app.models.referral import ReferralCreate
from app.models.subject import SubjectCreate
from app.web import labels
from app.web.forms import Form, from_validation
from app.web.i18n import N_

SECTIONS = ("service", "person", "consent", "details")
SECTION_TITLES = {
    "service": N_("Choose a service"),
    "person": N_("The person's details"),
    "consent": N_("Consent"),
    "details": N_("Referral details"),
}
BENEFITS, BARRIERS = labels.BENEFITS, labels.BARRIERS
# Where the referral service's field names are asked for.
FIELD_SECTIONS = {"to_service_id": "service", "subject": "person", "consent": "consent"}


def section_of(field: str) -> str:
    """The page that asks for a field the referral service names."""
    return FIELD_SECTIONS.get(field.split(".")[0], "details")


def completed(draft: dict[str, Any]) -> list[str]:
    return [s for s in SECTIONS if draft.get(s)]


def _date(values: dict[str, str], name: str) -> date:
    return date(int(values[f"{name}-year"]), int(values[f"{name}-month"]), int(values[f"{name}-day"]))


def _subject(person: dict[str, Any]) -> dict[str, Any]:
    lone = person.get("lone_parent")
    return {
        "given_name": person["given_name"],
        "family_name": person["family_name"],
        "date_of_birth": _date(person, "dob"),
        "postcode": person.get("postcode") or None,
        "phone": person.get("phone") or None,
        "email": person.get("email") or None,
        "preferred_contact": person.get("preferred_contact") or "none",
        "language": person.get("language") or "en",
        "needs_interpreter": person.get("needs_interpreter") == "yes",
        "circumstances": {
            "lone_parent": None if lone in (None, "", "unknown") else lone == "yes",
            "benefits": person.get("benefits", []),
            "barriers": person.get("barriers", []),
        },
    }


# The person page's fields, by the name the person's model gives them.
SUBJECT_FIELDS = {"date_of_birth": "dob", "circumstances": "barriers"}


def check_subject(person: dict[str, Any], form: Form) -> None:
    """The person's details as the referral service will check them (lengths, email, dates)."""
    try:
        SubjectCreate.model_validate(_subject(person))
    except ValidationError as exc:
        from_validation(form, exc, {}, "given_name", first_part=SUBJECT_FIELDS)


def _consent(consent: dict[str, Any]) -> dict[str, Any]:
    return {
        "given_by": consent["given_by"],
        "method": consent["method"],
        "given_at": datetime.fromisoformat(consent["given_at"]),
        "lawful_basis": consent["lawful_basis"],
        "purposes": consent.get("purposes", []),
        "data_categories": ["identity", *consent.get("data_categories", [])],
        "sharing_agreement_ref": consent.get("sharing_agreement_ref") or None,
    }


def request_of(draft: dict[str, Any], duplicate_reason: str | None = None) -> ReferralCreate:
    """The create request the API would receive for this draft (it validates as the API does)."""
    details = draft["details"]
    return ReferralCreate.model_validate(
        {
            "to_service_id": uuid.UUID(draft["service"]["service_id"]),
            "purpose": details["purpose"],
            "reason": details["reason"],
            "urgency": details["urgency"],
            "handover_mode": details["handover_mode"],
            "subject": _subject(draft["person"]),
            "consent": _consent(draft["consent"]),
            "allow_duplicate": duplicate_reason is not None,
            "duplicate_reason": duplicate_reason,
        }
    )


def now_text() -> str:
    return utcnow().isoformat()
