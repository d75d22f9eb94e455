"""The person as shared with one referral, as a FHIR Patient, and a Patient sent to make a referral.

The Patient's id is the referral's own record of the person (`ReferralPublic.subject.id`), never a
network-wide one: two referrals for the same person are two Patients, each showing only what was
shared with that referral (app/services/people.py decides what that is).
"""

from datetime import datetime
from typing import Any

from app.fhir import codes
from app.fhir.inbound import Entry, required
from app.fhir.shapes import Json, pruned
from app.fhir.wire import day, meta
from app.models.person import PersonRecordPublic


def patient(person: PersonRecordPublic, version: int, shared_at: datetime) -> Json:
    """The person as shared with one referral (its id is that record's, never a network-wide one)."""
    return pruned(
        {
            "resourceType": "Patient",
            "id": str(person.id),
            "meta": meta(version, person.corrected_at or shared_at),
            "extension": _person_extensions(person),
            "identifier": [{"system": codes.NHS_NUMBER, "value": person.nhs_number}]
            if person.nhs_number
            else [],
            "name": [{"use": "official", "family": person.family_name, "given": [person.given_name]}],
            "telecom": _telecom(person),
            "birthDate": day(person.date_of_birth),
            "address": [{"postalCode": person.postcode}] if person.postcode else [],
            "communication": [_language(person.language)],
        }
    )


def _language(language: str) -> Json:
    coding = {"system": codes.BCP_47, "code": language}
    return {"language": {"coding": [coding]}, "preferred": True}


def _telecom(person: PersonRecordPublic) -> list[Json]:
    preferred = person.preferred_contact.value if person.preferred_contact else None
    found = []
    if person.phone:
        found.append({"system": "phone", "value": person.phone, "rank": 1 if preferred == "phone" else None})
        if preferred == "text":
            found.append({"system": "sms", "value": person.phone, "rank": 1})
    if person.email:
        found.append({"system": "email", "value": person.email, "rank": 1 if preferred == "email" else None})
    return found


def _person_extensions(person: PersonRecordPublic) -> list[Json | None]:
    found: list[Json | None] = [{"url": codes.INTERPRETER_REQUIRED, "valueBoolean": person.needs_interpreter}]
    if person.preferred_contact:
        coding = codes.coding("preferred-contact", person.preferred_contact)
        found.append({"url": codes.extension("preferred-contact"), "valueCoding": coding})
    if person.circumstances:
        found.append(_circumstances(person))
    return found


def _circumstances(person: PersonRecordPublic) -> Json | None:
    held = person.circumstances
    assert held is not None
    parts: list[Json] = []
    if held.lone_parent is not None:
        parts.append({"url": "lone-parent", "valueBoolean": held.lone_parent})
    parts += [{"url": "benefit", "valueCode": code} for code in held.benefits]
    parts += [{"url": "barrier", "valueCode": code} for code in held.barriers]
    return {"url": codes.extension("circumstances"), "extension": parts} if parts else None


def subject(entry: Entry, paths: dict[str, str]) -> Json:
    """A Patient in a referral's Bundle as /v1's `subject`; each field's element is noted in `paths`."""
    resource, at = entry.resource, entry.at
    found: Json = _names(resource, at, paths)
    found["date_of_birth"] = resource.get("birthDate")
    paths["subject.date_of_birth"] = f"{at}.birthDate"
    for name, (value, where) in {**_identifiers(resource, at), **_telecoms(resource, at)}.items():
        found[name], paths[f"subject.{name}"] = value, where
    found.update(_postcode(resource, at, paths))
    found.update(_languages(resource, at, paths))
    found.update(_extensions(resource, at, paths))
    paths["subject"] = at
    return found


def _names(resource: Json, at: str, paths: dict[str, str]) -> Json:
    names = resource.get("name") or []
    index = next((i for i, n in enumerate(names) if n.get("use") == "official"), 0)
    if not names:
        raise required(f"{at}.name", "the person's given and family names are required")
    name = names[index]
    paths["subject.given_name"], paths["subject.family_name"] = (
        f"{at}.name[{index}].given",
        f"{at}.name[{index}].family",
    )
    return {"given_name": " ".join(name.get("given") or []) or None, "family_name": name.get("family")}


def _identifiers(resource: Json, at: str) -> dict[str, tuple[Any, str]]:
    for index, identifier in enumerate(resource.get("identifier") or []):
        if identifier.get("system") == codes.NHS_NUMBER:
            return {"nhs_number": (identifier.get("value"), f"{at}.identifier[{index}].value")}
    return {}


def _telecoms(resource: Json, at: str) -> dict[str, tuple[Any, str]]:
    found: dict[str, tuple[Any, str]] = {}
    for index, point in enumerate(resource.get("telecom") or []):
        name = {"phone": "phone", "sms": "phone", "email": "email"}.get(point.get("system", ""))
        if name and name not in found:
            found[name] = (point.get("value"), f"{at}.telecom[{index}].value")
    return found


def _postcode(resource: Json, at: str, paths: dict[str, str]) -> Json:
    for index, address in enumerate(resource.get("address") or []):
        if address.get("postalCode"):
            paths["subject.postcode"] = f"{at}.address[{index}].postalCode"
            return {"postcode": address["postalCode"]}
    return {}


def _languages(resource: Json, at: str, paths: dict[str, str]) -> Json:
    spoken = resource.get("communication") or []
    ordered = sorted(enumerate(spoken), key=lambda pair: not pair[1].get("preferred"))
    for index, item in ordered:
        for coding in item.get("language", {}).get("coding", []):
            if coding.get("system") == codes.BCP_47 and coding.get("code"):
                paths["subject.language"] = f"{at}.communication[{index}].language"
                return {"language": coding["code"]}
    return {}


def _extensions(resource: Json, at: str, paths: dict[str, str]) -> Json:
    found: Json = {"preferred_contact": _ranked_contact(resource)}
    for index, item in enumerate(resource.get("extension") or []):
        url, where = item.get("url"), f"{at}.extension[{index}]"
        if url == codes.INTERPRETER_REQUIRED:
            found["needs_interpreter"], paths["subject.needs_interpreter"] = item.get("valueBoolean"), where
        elif url == codes.extension("preferred-contact"):
            found["preferred_contact"] = (item.get("valueCoding") or {}).get("code")
            paths["subject.preferred_contact"] = where
        elif url == codes.extension("circumstances"):
            found["circumstances"], paths["subject.circumstances"] = _circumstances_in(item), where
    return {k: v for k, v in found.items() if v is not None}


def _ranked_contact(resource: Json) -> str | None:
    """The preferred contact a ContactPoint's rank 1 implies, for senders without the extension."""
    for point in resource.get("telecom") or []:
        if point.get("rank") == 1:
            return {"phone": "phone", "sms": "text", "email": "email"}.get(point.get("system", ""))
    return None


def _circumstances_in(item: Json) -> Json:
    parts = item.get("extension") or []
    return {
        "lone_parent": next((p.get("valueBoolean") for p in parts if p.get("url") == "lone-parent"), None),
        "benefits": [p.get("valueCode") for p in parts if p.get("url") == "benefit"],
        "barriers": [p.get("valueCode") for p in parts if p.get("url") == "barrier"],
    }
