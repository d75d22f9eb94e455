"""Consent as FHIR: read as the caller's agency may see it, and given in a referral's Bundle.

What an agency sees of a consent is decided by app/services/consents.py (`public_for`): an agency
that relies on a consent it did not record sees only the purposes of its own referrals under it,
and not who recorded it or when. The Consent's `patient` is the Patient of the caller's own
(first) referral under it, so it never names a person record the caller was not shown.
"""

import uuid
from datetime import datetime
from urllib.parse import quote, unquote

from app.fhir import codes
from app.fhir.inbound import Entry, required, single
from app.fhir.shapes import Json, pruned, ref
from app.fhir.wire import instant, meta
from app.models.consent import ConsentMethod, ConsentPublic, ConsentStatus, DataCategory, LawfulBasis
from app.models.directory import Purpose


def consent(public: ConsentPublic, patient_id: uuid.UUID | None, first_shared: datetime | None) -> Json:
    """The consent as the caller may see it; withdrawn or expired, it is `inactive`."""
    # Its own time of change, else (hidden from an agency that relies on it) when the caller got it.
    updated = public.withdrawn_at or public.created_at or first_shared
    return pruned(
        {
            "resourceType": "Consent",
            "id": str(public.id),
            "meta": meta(2 if public.withdrawn_at else 1, updated) if updated else None,
            "extension": [_method_extension(public)],
            "status": "active" if public.status == ConsentStatus.IN_FORCE else "inactive",
            "scope": codes.CONSENT_SCOPE,
            "category": [codes.CONSENT_CATEGORY],
            "patient": ref("Patient", patient_id) if patient_id else None,
            "dateTime": instant(public.given_at),
            "performer": [_performer(public.given_by, patient_id)],
            "organization": [_recorder(public)],
            "policy": [{"uri": quote(public.sharing_agreement_ref or "", safe="")}],
            "policyRule": codes.concept("lawful-basis", public.lawful_basis),
            "provision": _provision(public),
        }
    )


def _method_extension(public: ConsentPublic) -> Json:
    return {
        "url": codes.extension("consent-method"),
        "valueCoding": codes.coding("consent-method", public.method),
    }


def _recorder(public: ConsentPublic) -> Json | None:
    return ref("Organization", public.recorded_by_agency_id) if public.recorded_by_agency_id else None


def _performer(given_by: str, patient_id: uuid.UUID | None) -> Json:
    # The person themselves is their Patient; anyone else (a parent, a guardian) is named in words.
    if given_by == "subject" and patient_id:
        return ref("Patient", patient_id)
    return {"display": given_by}


def _provision(public: ConsentPublic) -> Json:
    return {
        "type": "permit",
        "period": {"start": instant(public.given_at), "end": instant(public.expires_at)},
        "purpose": [codes.coding("purpose", p) for p in public.purposes],
        "class": [codes.coding("data-category", c) for c in public.data_categories],
    }


def terms(entry: Entry, patient_url: str, paths: dict[str, str]) -> Json:
    """A Consent in a referral's Bundle as /v1's inline consent (`ReferralCreate.consent`)."""
    resource, at = entry.resource, entry.at
    if resource.get("status") != "active":
        raise required(f"{at}.status", "must be active: a referral is sent under consent in force")
    patient = resource.get("patient", {}).get("reference")
    if patient not in (None, patient_url):
        raise required(f"{at}.patient", "must be the Patient in this Bundle")
    provision = resource.get("provision") or {}
    paths.update(_consent_paths(at))
    return {
        "given_by": _given_by(resource, patient_url, at),
        "method": _method(resource, at),
        "given_at": resource.get("dateTime"),
        "lawful_basis": _coded(resource.get("policyRule"), "lawful-basis", LawfulBasis, f"{at}.policyRule"),
        "purposes": [c.get("code") for c in provision.get("purpose", []) if _ours(c, "purpose", Purpose)],
        "data_categories": [
            c.get("code") for c in provision.get("class", []) if _ours(c, "data-category", DataCategory)
        ],
        "sharing_agreement_ref": _agreement(resource),
        "expires_at": (provision.get("period") or {}).get("end"),
    }


def _consent_paths(at: str) -> dict[str, str]:
    return {
        "consent": at,
        "consent.given_by": f"{at}.performer",
        "consent.method": f"{at}.extension",
        "consent.given_at": f"{at}.dateTime",
        "consent.lawful_basis": f"{at}.policyRule",
        "consent.purposes": f"{at}.provision.purpose",
        "consent.data_categories": f"{at}.provision.class",
        "consent.sharing_agreement_ref": f"{at}.policy[0].uri",
        "consent.expires_at": f"{at}.provision.period.end",
    }


def _ours(coding: Json, name: str, values: type[Purpose] | type[DataCategory]) -> bool:
    return coding.get("system") == codes.system(name) and coding.get("code") in values._value2member_map_


def _given_by(resource: Json, patient_url: str, at: str) -> str:
    performer = single(resource.get("performer"), f"{at}.performer", "who gave the consent")
    if performer.get("reference") == patient_url:
        return "subject"
    if performer.get("display"):
        return str(performer["display"])
    raise required(f"{at}.performer[0]", "the Patient in this Bundle, or who gave it in words (display)")


def _method(resource: Json, at: str) -> str:
    url = codes.extension("consent-method")
    for index, item in enumerate(resource.get("extension", [])):
        if item.get("url") == url:
            return str(
                _coded(item.get("valueCoding"), "consent-method", ConsentMethod, f"{at}.extension[{index}]")
            )
    raise required(f"{at}.extension", f"how consent was given ({url}: verbal, written or electronic)")


def _coded(
    value: Json | None, name: str, values: type[LawfulBasis] | type[ConsentMethod], where: str
) -> LawfulBasis | ConsentMethod:
    found = codes.code_in(name, value, values)
    if found is None:
        allowed = ", ".join(v.value for v in values)
        raise required(where, f"a code of {codes.system(name)}: {allowed}")
    return values(found)


def _agreement(resource: Json) -> str | None:
    policies = resource.get("policy") or []
    uri = policies[0].get("uri") if policies else None
    return unquote(uri) if uri else None
