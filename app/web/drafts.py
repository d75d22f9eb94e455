"""The referral being made, page by page: kept in the server-side session, sent as one request.

Each page stores what was typed; the request to the referral service is built only at the end,
so the checks (consent, duplicate, service terms) are the API's own.
"""

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from app.db import utcnow
from app.models.consent import DataCategory
from app.models.person import CATEGORY_FIELDS
from app.models.referral import ReferralCreate
from app.models.subject import SubjectCreate
from app.services import people
from app.web import labels
from app.web.forms import Form, from_validation
from app.web.i18n import N_, gettext

SECTIONS = ("service", "person", "consent", "details")
SECTION_TITLES = {
    "service": N_("Choose a service"),
    "person": N_("The person's details"),
    "consent": N_("Consent"),
    "details": N_("Referral details"),
}
BENEFITS, BARRIERS = labels.BENEFITS, labels.BARRIERS
# Where the referral service's field names are asked for.
FIELD_SECTIONS = {
    "to_service_id": "service",
    "subject": "person",
    "consent": "consent",
    "consent_id": "consent",
    "parent_referral_id": "service",
}


def section_of(field: str) -> str:
    """The page that asks for a field the referral service names (a refusal naming none: the service)."""
    return FIELD_SECTIONS.get(field.split(".")[0], "details") if field else "service"


def completed(draft: dict[str, Any]) -> list[str]:
    return [s for s in SECTIONS if draft.get(s)]


def _date(values: dict[str, str], name: str) -> date:
    return date(int(values[f"{name}-year"]), int(values[f"{name}-month"]), int(values[f"{name}-day"]))


def _subject(person: dict[str, Any]) -> dict[str, Any]:
    """The person as typed; a field left blank is absent (None), never an empty string."""
    return {
        "given_name": person["given_name"],
        "family_name": person["family_name"],
        "date_of_birth": _date(person, "dob"),
        "nhs_number": person.get("nhs_number") or None,
        "postcode": person.get("postcode") or None,
        "phone": person.get("phone") or None,
        "email": person.get("email") or None,
        "preferred_contact": person.get("preferred_contact") or "none",
        "language": person.get("language") or "en",
        "needs_interpreter": person.get("needs_interpreter") == "yes",
        "circumstances": _circumstances(person),
    }


def _circumstances(person: dict[str, Any]) -> dict[str, Any] | None:
    lone = person.get("lone_parent")
    told = {
        "lone_parent": None if lone in (None, "", "unknown") else lone == "yes",
        "benefits": person.get("benefits", []),
        "barriers": person.get("barriers", []),
    }
    return told if any(value not in (None, []) for value in told.values()) else None


def carried_over(draft: dict[str, Any]) -> bool:
    """Whether the referral goes under the consent of the referral it is made onward from."""
    return bool(draft.get("consent", {}).get("carried_over"))


def categories_of(draft: dict[str, Any]) -> list[DataCategory]:
    """What the person agreed to share: the consent given now, or the one carried over."""
    return [DataCategory(c) for c in draft.get("consent", {}).get("data_categories", [])]


def shared_subject(draft: dict[str, Any]) -> dict[str, Any]:
    """The person as the referral will carry them: only what the consent covers is sent."""
    subject = _subject(draft["person"])
    categories = categories_of(draft)
    for category, names in CATEGORY_FIELDS.items():
        if category not in categories:
            subject.update(dict.fromkeys(names))
    subject["preferred_contact"] = subject["preferred_contact"] or "none"
    return subject


def receiver_sees(draft: dict[str, Any]) -> dict[str, Any]:
    """What the receiving agency will see of the person, as the referral service will copy it."""
    given = SubjectCreate.model_validate(shared_subject(draft))
    return people.shared_details(people.details_of(given), categories_of(draft))


# The person page's fields, by the name the person's model gives them.
SUBJECT_FIELDS = {"date_of_birth": "dob", "circumstances": "barriers"}


def check_subject(person: dict[str, Any], form: Form) -> None:
    """The person's details as the referral service will check them (lengths, email, dates)."""
    try:
        SubjectCreate.model_validate(_subject(person))
    except ValidationError as exc:
        from_validation(form, exc, {}, "given_name", first_part=SUBJECT_FIELDS)


def _consent(consent: dict[str, Any]) -> dict[str, Any] | None:
    if consent.get("carried_over"):
        return None  # the referral service reuses the consent of the referral it is made onward from
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
    details, parent = draft["details"], draft.get("parent", {})
    return ReferralCreate.model_validate(
        {
            "to_service_id": uuid.UUID(draft["service"]["service_id"]),
            "purpose": details["purpose"],
            "reason": details["reason"],
            "urgency": details["urgency"],
            "handover_mode": details["handover_mode"],
            "subject": shared_subject(draft),
            "consent": _consent(draft["consent"]),
            "allow_duplicate": duplicate_reason is not None,
            "duplicate_reason": duplicate_reason,
            "parent_referral_id": parent.get("id"),
            "return_to_referrer": details.get("return_to_referrer") == "yes",
        }
    )


def now_text() -> str:
    return utcnow().isoformat()


# The referral service's refusals in the words of the page that asks for the field at fault.
PLAIN_REFUSALS = (
    (
        "consent does not cover sharing",
        N_("The person did not agree to share these details. Remove them, or change what they agreed to"),
    ),
    (
        "consent does not cover the purpose",
        N_("The person's consent does not cover what this referral is for. Change the purpose or consent"),
    ),
    (
        "this service accepts only",
        N_("This service does not take referrals for that purpose. Choose another purpose or service"),
    ),
    (
        "does not cover this one",
        N_("The consent given for the earlier referral does not cover this one. Record the person's consent"),
    ),
    (
        "not accepting referrals",
        N_("This service is not taking referrals at the moment. Choose another service"),
    ),
    (
        "given by another person",
        N_("The name or date of birth is not that of the person on the earlier referral. Check them"),
    ),
)
# Refusals that name one field but are put right on another page.
REFUSAL_SECTIONS = {"given by another person": ("person", "given_name")}
# A field the referral service names, as the section and the input that ask for it.
FIELD_INPUTS = {"to_service_id": "service_id", "date_of_birth": "dob-day", "consent": "purposes"}


def refusal(field: str, message: str) -> tuple[str, str, str]:
    """A refusal as (error key, link to the input at fault, plain words)."""
    section = section_of(field)
    name = FIELD_INPUTS.get(field.split(".")[-1], field.split(".")[-1]) if field else section
    section, name = next(
        (put for found, put in REFUSAL_SECTIONS.items() if found in message), (section, name)
    )
    plain = next((words for found, words in PLAIN_REFUSALS if found in message), None)
    text = gettext(plain) if plain else message
    return name, f"/referrals/new/{section}#{name}", text
