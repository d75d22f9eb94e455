"""The exchange's own codes as FHIR code systems, and how its statuses and urgencies map to FHIR's.

The code systems live under {PUBLIC_BASE_URL}/fhir/CodeSystem/ and hold the exchange's codes
exactly as /v1 spells them, so a partner can compare a Task's `businessStatus` with a /v1
referral's `status` without a table of its own.
"""

from enum import StrEnum
from typing import Any

from app.config import get_settings
from app.models.consent import ConsentMethod, DataCategory, LawfulBasis
from app.models.directory import AgencyKind, Purpose
from app.models.outcome import OutcomeType
from app.models.referral import CancelReason, DeclineReason, HandoverMode, ReferralStatus, Urgency
from app.models.subject import PreferredContact

Json = dict[str, Any]
Status = ReferralStatus

# Every code system the exchange publishes, by its name under /fhir/CodeSystem/.
CODE_SYSTEMS: dict[str, tuple[str, type[StrEnum]]] = {
    "purpose": ("Referral purposes", Purpose),
    "outcome-type": ("Outcome types", OutcomeType),
    "referral-status": ("Referral statuses", ReferralStatus),
    "decline-reason": ("Reasons for declining a referral", DeclineReason),
    "cancel-reason": ("Reasons for cancelling a referral", CancelReason),
    "handover-mode": ("Handover modes", HandoverMode),
    "lawful-basis": ("Lawful bases for sharing", LawfulBasis),
    "data-category": ("Categories of personal data shared", DataCategory),
    "consent-method": ("How consent was given", ConsentMethod),
    "agency-kind": ("Kinds of agency", AgencyKind),
    "preferred-contact": ("Preferred ways to contact the person", PreferredContact),
}

TASK_CODE = {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}]}
BCP_47 = "urn:ietf:bcp:47"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
INTERPRETER_REQUIRED = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
# Marks a search result that leaves something out (a Task's outputs): read the Task for all of it.
SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}
CONSENT_SCOPE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
}
CONSENT_CATEGORY = {
    "coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]
}

TASK_STATUS: dict[ReferralStatus, str] = {
    Status.SUBMITTED: "requested",
    Status.RECEIVED: "received",
    Status.ACCEPTED: "accepted",
    Status.HANDOVER_SCHEDULED: "accepted",
    Status.IN_PROGRESS: "in-progress",
    Status.DECLINED: "rejected",
    Status.COMPLETED: "completed",
    Status.CANCELLED: "cancelled",
    Status.WITHDRAWN: "cancelled",
}
# What a Task's new status asks for in a PUT; `accepted` of a referral already scheduled for a
# handover is no move at all (see task_update).
TASK_MOVES: dict[str, ReferralStatus] = {
    "requested": Status.SUBMITTED,
    "received": Status.RECEIVED,
    "accepted": Status.ACCEPTED,
    "rejected": Status.DECLINED,
    "in-progress": Status.IN_PROGRESS,
    "completed": Status.COMPLETED,
    "cancelled": Status.CANCELLED,
}
# The request is active while the referral is open; it is revoked once nothing more will be done
# (cancelled, withdrawn, or declined: FHIR's ServiceRequest has no status of its own for that).
SERVICE_REQUEST_STATUS: dict[ReferralStatus, str] = {
    Status.SUBMITTED: "active",
    Status.RECEIVED: "active",
    Status.ACCEPTED: "active",
    Status.HANDOVER_SCHEDULED: "active",
    Status.IN_PROGRESS: "active",
    Status.COMPLETED: "completed",
    Status.DECLINED: "revoked",
    Status.CANCELLED: "revoked",
    Status.WITHDRAWN: "revoked",
}
WITHDRAWN_REASON = "Consent withdrawn"

PRIORITY: dict[Urgency, str] = {Urgency.ROUTINE: "routine", Urgency.SOON: "urgent", Urgency.URGENT: "asap"}
# FHIR's `stat` (immediately) is more urgent than the exchange has a word for: it is `urgent`.
URGENCY: dict[str, Urgency] = {fhir: urgency for urgency, fhir in PRIORITY.items()} | {"stat": Urgency.URGENT}


def base_url() -> str:
    """Where the exchange is published: the root of its code systems and extensions."""
    return get_settings().public_base_url.rstrip("/")


def system(name: str) -> str:
    """The canonical URL of one of the exchange's code systems."""
    return f"{base_url()}/fhir/CodeSystem/{name}"


def extension(name: str) -> str:
    """The URL of one of the exchange's own extensions."""
    return f"{base_url()}/fhir/StructureDefinition/{name}"


def identifier_system(name: str) -> str:
    """The system of one of the exchange's own identifiers (a referral's reference, an agency's id)."""
    return f"{base_url()}/fhir/Id/{name}"


def display(code: str) -> str:
    """A code as words: `handover_scheduled` is "Handover scheduled"."""
    return code.replace("_", " ").capitalize()


def coding(name: str, code: StrEnum | str) -> Json:
    """A Coding in one of the exchange's code systems, with its words."""
    value = str(code)
    return {"system": system(name), "code": value, "display": display(value)}


def concept(name: str, code: StrEnum | str, text: str | None = None) -> Json:
    """A CodeableConcept holding one of the exchange's codes."""
    found: Json = {"coding": [coding(name, code)]}
    if text:
        found["text"] = text
    return found


def code_in(name: str, value: Json | None, codes: type[StrEnum]) -> StrEnum | None:
    """The exchange's code in a CodeableConcept or Coding (by its system), if there is one."""
    if not value:
        return None
    codings = value.get("coding", [value])
    for item in codings:
        if item.get("system") == system(name) and item.get("code") in codes._value2member_map_:
            return codes(item["code"])
    return None


def code_system(name: str, published: str) -> Json | None:
    """One of the exchange's code systems as a CodeSystem resource (None: no such one)."""
    if name not in CODE_SYSTEMS:
        return None
    title, values = CODE_SYSTEMS[name]
    return {
        "resourceType": "CodeSystem",
        "id": name,
        "meta": {"versionId": "1", "lastUpdated": published},
        "url": system(name),
        "name": "".join(part.capitalize() for part in name.split("-")),
        "title": title,
        "status": "active",
        "experimental": False,
        "publisher": "Referral exchange",
        "caseSensitive": True,
        "content": "complete",
        "count": len(values),
        "concept": [{"code": value.value, "display": display(value.value)} for value in values],
    }
