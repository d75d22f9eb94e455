"""A referral sent as a transaction Bundle: a Patient, a Consent and a ServiceRequest (and a Task).

The Bundle becomes /v1's create request (`ReferralCreate`, with the subject and consent inline),
which app/services/referrals/creating.py checks and writes exactly as for POST /v1/referrals: the
receiving service's terms, the consent, the duplicate rule. Each /v1 field's element in the Bundle
is noted in `paths`, so that the service's errors name the element at fault.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from app.fhir import codes, consent, person
from app.fhir.bundles import created_entry
from app.fhir.inbound import Entry, as_model, checked, required, single
from app.fhir.shapes import Json, reference_id
from app.models.directory import Purpose
from app.models.referral import HandoverMode, ReferralCreate, ReferralPublic

CREATED = ("Patient", "Consent", "ServiceRequest", "Task")
NEEDED = ("Patient", "Consent", "ServiceRequest")


@dataclass(frozen=True, slots=True)
class Transaction:
    """The Bundle's entries in their order, and the referral they ask for."""

    entries: list[Entry]
    body: ReferralCreate
    task_owner: tuple[uuid.UUID, str] | None  # the Organization a Task in the Bundle names, and where


def read(bundle: Json, agency_id: uuid.UUID, paths: dict[str, str]) -> Transaction:
    """The referral a transaction Bundle asks for, every entry checked (422 naming what is wrong)."""
    entries = _entries(bundle)
    by_type = _one_each(entries)
    patient, given, request = (by_type[kind] for kind in NEEDED)
    values = _request_fields(request, patient.full_url, given.full_url, agency_id, paths)
    values["subject"] = person.subject(patient, paths)
    values["consent"] = consent.terms(given, patient.full_url, paths)
    task = by_type.get("Task")
    owner = _task_owner(task, request.full_url, patient.full_url, agency_id) if task else None
    return Transaction(entries, as_model(ReferralCreate, values), owner)


def check_owner(transaction: Transaction, public: ReferralPublic) -> None:
    """A Task sent with the referral must name the receiving agency as its owner, if it names one."""
    if transaction.task_owner and transaction.task_owner[0] != public.to_agency_id:
        where = transaction.task_owner[1]
        raise required(where, f"the service's agency owns the Task: Organization/{public.to_agency_id}")


def _entries(bundle: Json) -> list[Entry]:
    if bundle.get("type") != "transaction":
        raise required("Bundle.type", "must be transaction (a referral is made as one unit)")
    raw = bundle.get("entry")
    if not isinstance(raw, list) or not raw:
        raise required("Bundle.entry", "a Patient, a Consent and a ServiceRequest, and optionally a Task")
    entries = [_entry(index, item) for index, item in enumerate(raw)]
    checked(Entry(bundle, "Bundle"))  # every entry's resource by its model too, in one pass
    return entries


def _entry(index: int, item: Any) -> Entry:
    at = f"Bundle.entry[{index}]"
    resource = item.get("resource") if isinstance(item, dict) else None
    if not isinstance(resource, dict):
        raise required(f"{at}.resource", "each entry holds a resource")
    kind = resource.get("resourceType")
    if kind not in CREATED:
        raise required(f"{at}.resource.resourceType", f"{kind!r} is not made here: {', '.join(CREATED)} are")
    full_url = item.get("fullUrl")
    if not isinstance(full_url, str) or not full_url.startswith("urn:uuid:"):
        raise required(f"{at}.fullUrl", "a urn:uuid: by which the other entries refer to this one")
    request = item.get("request") or {}
    if request.get("method") != "POST" or request.get("url") != kind:
        raise required(f"{at}.request", f"must be POST {kind}")
    return Entry(resource, f"{at}.resource", full_url)


def _one_each(entries: list[Entry]) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for entry in entries:
        if entry.type in found:
            raise required(f"{entry.at}.resourceType", f"a referral's Bundle holds one {entry.type}")
        found[entry.type] = entry
    missing = [kind for kind in NEEDED if kind not in found]
    if missing:
        raise required("Bundle.entry", f"missing: {', '.join(missing)}")
    if len({entry.full_url for entry in entries}) != len(entries):
        raise required("Bundle.entry.fullUrl", "each entry needs a fullUrl of its own")
    return found


def _request_fields(
    entry: Entry, patient_url: str, consent_url: str, agency_id: uuid.UUID, paths: dict[str, str]
) -> Json:
    """The ServiceRequest as /v1's create request: to which service, for what, why and how soon."""
    resource, at = entry.resource, entry.at
    _expect(resource, at, intent="order", status="active")
    if (resource.get("subject") or {}).get("reference") != patient_url:
        raise required(f"{at}.subject", "must be the Patient in this Bundle")
    if consent_url not in [(i or {}).get("reference") for i in resource.get("supportingInfo") or []]:
        raise required(f"{at}.supportingInfo", "must include the Consent in this Bundle")
    _own_agency(resource.get("requester"), agency_id, f"{at}.requester")
    paths.update(_request_paths(at))
    return {
        "to_service_id": _service(resource, at),
        "purpose": _purpose(resource, at),
        **_optional_fields(resource),
    }


def _request_paths(at: str) -> dict[str, str]:
    return {
        "to_service_id": f"{at}.performer[0]",
        "reason:not_accepting_referrals": f"{at}.performer[0]",
        "existing_referral_id": f"{at}.subject",
        "purpose": f"{at}.category",
        "reason": f"{at}.note",
        "urgency": f"{at}.priority",
        "handover_mode": f"{at}.orderDetail",
        "parent_referral_id": f"{at}.basedOn",
        "consent_id": f"{at}.supportingInfo",
        "allow_duplicate": f"{at}.extension",
        "duplicate_reason": f"{at}.extension",
    }


def _optional_fields(resource: Json) -> Json:
    notes = resource.get("note") or []
    found: Json = {
        "reason": notes[0].get("text") if notes else None,
        "urgency": codes.URGENCY.get(resource["priority"], resource["priority"])
        if "priority" in resource
        else None,
        "handover_mode": codes.code_in("handover-mode", _first(resource.get("orderDetail")), HandoverMode),
        "parent_referral_id": reference_id(_first(resource.get("basedOn")), "ServiceRequest"),
    }
    for item in resource.get("extension") or []:
        if item.get("url") == codes.extension("allow-duplicate"):
            found |= {"allow_duplicate": True, "duplicate_reason": item.get("valueString")}
        elif item.get("url") == codes.extension("return-to-referrer"):
            found["return_to_referrer"] = item.get("valueBoolean")
    return {k: v for k, v in found.items() if v is not None}


def _first(values: list[Json] | None) -> Json | None:
    return values[0] if values else None


def _expect(resource: Json, at: str, **values: str) -> None:
    for name, value in values.items():
        if resource.get(name) != value:
            raise required(f"{at}.{name}", f"must be {value}")


def _own_agency(reference: Json | None, agency_id: uuid.UUID, where: str) -> None:
    """A requester, when given, is the caller's own agency: a partner refers for itself only."""
    if reference is not None and reference_id(reference, "Organization") != agency_id:
        raise required(where, f"must be your own agency (Organization/{agency_id}), or left out")


def _service(resource: Json, at: str) -> uuid.UUID:
    performer = single(resource.get("performer"), f"{at}.performer", "the HealthcareService referred to")
    service_id = reference_id(performer, "HealthcareService")
    if service_id is None:
        raise required(f"{at}.performer[0]", "a reference to the service (HealthcareService/{id})")
    return service_id


def _purpose(resource: Json, at: str) -> Purpose:
    found = [
        purpose
        for category in resource.get("category") or []
        if (purpose := codes.code_in("purpose", category, Purpose)) is not None
    ]
    if len(found) != 1:
        raise required(f"{at}.category", f"exactly one purpose, coded in {codes.system('purpose')}")
    return Purpose(found[0])


def _task_owner(
    task: Entry, request_url: str, patient_url: str, agency_id: uuid.UUID
) -> tuple[uuid.UUID, str] | None:
    """Check a Task sent with the referral; the owner it names is checked once the service is known."""
    resource, at = task.resource, task.at
    _expect(resource, at, intent="order", status="requested")
    if (resource.get("focus") or {}).get("reference") != request_url:
        raise required(f"{at}.focus", "must be the ServiceRequest in this Bundle")
    if resource.get("for", {}).get("reference", patient_url) != patient_url:
        raise required(f"{at}.for", "must be the Patient in this Bundle")
    _own_agency(resource.get("requester"), agency_id, f"{at}.requester")
    owner = resource.get("owner")
    if owner is None:
        return None
    owner_id = reference_id(owner, "Organization")
    if owner_id is None:
        raise required(f"{at}.owner", "the receiving agency's Organization (Organization/{id})")
    return owner_id, f"{at}.owner"


def response(base: str, transaction: Transaction, public: ReferralPublic) -> Json:
    """The transaction-response: where each entry's resource now is, in the order they were sent."""
    made = {
        "Patient": (f"Patient/{public.subject.id}", public.version),
        "Consent": (f"Consent/{public.consent_id}", 1),
        "ServiceRequest": (f"ServiceRequest/{public.id}", public.version),
        "Task": (f"Task/{public.id}", public.version),
    }
    entries = [
        created_entry(base, *made[entry.type], public.created_at, None) for entry in transaction.entries
    ]
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}
