"""The CapabilityStatement: every interaction and search parameter /fhir/R4 serves, and nothing else."""

from app.fhir.shapes import Json

SPEC = "http://hl7.org/fhir/SearchParameter"
# name, type, what it finds: per resource type.
SEARCHES: dict[str, list[tuple[str, str, str]]] = {
    "Task": [
        ("owner", "reference", "Organization/{id}: your agency for your inbox, another for what you sent it"),
        (
            "requester",
            "reference",
            "Organization/{id}: your agency for what you sent, another for what it sent you",
        ),
        ("status", "token", "Task status (comma-separated: any of them)"),
        ("focus", "reference", "ServiceRequest/{id}: that referral's Task"),
        ("_lastUpdated", "date", "gt and a time: Tasks changed since (polling)"),
        ("_count", "number", "page size, 1 to 200 (default 50); the next page is the Bundle's next link"),
    ],
    "ServiceRequest": [
        (
            "requester",
            "reference",
            "Organization/{id}: your agency for what you sent, another for what it sent you",
        ),
        ("performer", "reference", "HealthcareService/{id}: referrals to that service"),
        ("status", "token", "active, completed or revoked"),
        ("identifier", "token", "the referral's reference (RX-XXXXX-XXXXX)"),
        ("_lastUpdated", "date", "gt and a time: referrals changed since"),
        ("_count", "number", "page size, 1 to 200 (default 50)"),
    ],
    "HealthcareService": [
        ("service-category", "token", "a purpose code: services taking referrals for it"),
        ("name", "string", "name (English or Welsh) starting with; name:contains for anywhere in it"),
        ("organization", "reference", "Organization/{id}: that agency's services"),
        ("_count", "number", "page size, 1 to 200 (default 50)"),
    ],
    "Organization": [
        ("name", "string", "name (English or Welsh) starting with; name:contains for anywhere in it"),
        ("_count", "number", "page size, 1 to 200 (default 50)"),
    ],
    "Communication": [
        ("based-on", "reference", "ServiceRequest/{id}: the messages on that referral"),
        ("_count", "number", "page size, 1 to 200 (default 50)"),
    ],
}
DOCUMENTATION = {
    "Task": "The referral's workflow. PUT with If-Match moves it (accepted, rejected, in-progress, "
    "completed; cancelled by the sender) and a new output records an outcome.",
    "ServiceRequest": "The referral. Made by a transaction Bundle (Patient, Consent, ServiceRequest, Task).",
    "Patient": "The person as shared with one referral; its id is that referral's record of the person.",
    "Consent": "The consent a referral was sent under, as your agency may see it.",
    "Organization": "An agency of the exchange.",
    "HealthcareService": "A service of an agency; active while it accepts referrals.",
    "Communication": "A message between the two agencies on a referral; POST one to send it.",
    "CodeSystem": "The exchange's own codes (purpose, outcome-type, referral-status, ...); no token needed.",
}


def _parameter(resource_type: str, name: str, kind: str, documentation: str) -> Json:
    source = "Resource" if name.startswith("_") else resource_type
    found = {"name": name, "type": kind, "documentation": documentation}
    if name != "_count":
        found["definition"] = f"{SPEC}/{source}-{name.removeprefix('_').replace(':', '-')}"
    return found


def _resource(resource_type: str) -> Json:
    interactions = [{"code": "read"}]
    if resource_type in SEARCHES:
        interactions.append({"code": "search-type"})
    if resource_type == "Task":
        interactions.append({"code": "update"})
    if resource_type == "Communication":
        interactions.append({"code": "create"})
    found: Json = {
        "type": resource_type,
        "documentation": DOCUMENTATION[resource_type],
        "interaction": interactions,
        "versioning": "versioned-update" if resource_type == "Task" else "versioned",
        "readHistory": False,
        "updateCreate": False,
        "searchParam": [_parameter(resource_type, *p) for p in SEARCHES.get(resource_type, [])],
    }
    if resource_type == "Task":
        found["searchInclude"] = ["Task:focus"]
    return found


SECURITY = {
    "service": [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}
            ]
        }
    ],
    "description": "OAuth2 bearer tokens from /v1/oauth/token, with the scopes /v1 needs: "
    "referrals:read to read and search referrals, referrals:write to change them.",
}


def capability_statement(base: str, published: str) -> Json:
    """What this server does, for clients that discover it (no token needed to read it)."""
    return {
        "resourceType": "CapabilityStatement",
        "id": "referral-exchange",
        "status": "active",
        "date": published,
        "publisher": "Referral exchange",
        "kind": "instance",
        "software": {"name": "Referral exchange", "version": "1.0.0"},
        "implementation": {"description": "Referral exchange FHIR R4 interface", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "A referral is made with a transaction Bundle POSTed to the base.",
                "security": SECURITY,
                "resource": [_resource(t) for t in DOCUMENTATION],
                "interaction": [{"code": "transaction"}],
            }
        ],
    }
