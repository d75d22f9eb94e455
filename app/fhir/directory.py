"""The directory as FHIR: agencies as Organizations, their services as HealthcareServices.

Welsh names travel as FHIR's `translation` extension on `name` (and the Welsh description on
`comment`), the standard way to give a string element's text in another language.
"""

from datetime import datetime

from app.fhir import codes
from app.fhir.shapes import Json, pruned, ref, translation
from app.fhir.wire import meta
from app.models.directory import Agency, Service


def version_of(updated_at: datetime) -> str:
    """A directory entry's version: the time it last changed, in milliseconds (entries keep no count)."""
    return str(int(updated_at.timestamp() * 1000))


def organization(agency: Agency) -> Json:
    """An agency: its id (and ODS code, where it has one), kind, name in both languages and contact."""
    identifiers = [{"system": codes.identifier_system("agency"), "value": str(agency.id)}]
    if agency.ods_code:
        identifiers.append({"system": codes.ODS_CODE, "value": agency.ods_code})
    return pruned(
        {
            "resourceType": "Organization",
            "id": str(agency.id),
            "meta": meta(version_of(agency.updated_at), agency.updated_at),
            "identifier": identifiers,
            "active": True,
            "type": [codes.concept("agency-kind", agency.kind)],
            "name": agency.name,
            "_name": translation("cy", agency.name_cy),
            "address": [{"district": agency.local_authority, "country": "GB"}],
            "contact": [_contact(agency)],
        }
    )


def _contact(agency: Agency) -> Json:
    telecom = [
        {"system": "phone", "value": agency.contact_phone},
        {"system": "email", "value": agency.contact_email},
    ]
    return {"name": {"text": agency.contact_name}, "telecom": [t for t in telecom if t["value"]]}


def healthcare_service(service: Service) -> Json:
    """A service: who provides it, the purposes it takes, its languages, and whether it takes referrals."""
    purposes = [codes.concept("purpose", p) for p in service.purposes]
    return pruned(
        {
            "resourceType": "HealthcareService",
            "id": str(service.id),
            "meta": meta(version_of(service.updated_at), service.updated_at),
            "extension": [
                {"url": codes.extension("area-served"), "valueString": area} for area in service.area_served
            ],
            "active": service.accepting_referrals,
            "providedBy": ref("Organization", service.agency_id),
            "category": purposes,
            "type": purposes,
            "name": service.name,
            "_name": translation("cy", service.name_cy),
            "comment": service.description,
            "_comment": translation("cy", service.description_cy) if service.description else None,
            "telecom": [{"system": "email", "value": service.contact_email}] if service.contact_email else [],
            "eligibility": [{"comment": service.eligibility}] if service.eligibility else [],
            "communication": [{"coding": [{"system": codes.BCP_47, "code": c}]} for c in service.languages],
            "referralMethod": [{"coding": [{"system": REFERRAL_METHOD, "code": "elec"}]}],
            "availabilityExceptions": service.opening_hours,
        }
    )


REFERRAL_METHOD = "http://terminology.hl7.org/CodeSystem/service-referral-method"
