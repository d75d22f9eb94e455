"""The /fhir/R4 routes: thin, as /v1's are; the same dependencies for tokens, scopes and parties.

Not in the OpenAPI document: FHIR clients discover this API from its CapabilityStatement.
"""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import RootModel

from app.deps import (
    CurrentPrincipal,
    IdempotencyClaim,
    KnownQueryOnly,
    ReferralReader,
    ReferralWriter,
    SessionDep,
)
from app.errors import AppError, NotFound, Unprocessable
from app.fhir import capability, codes, directory, outcome, referral, search, transaction, views, wire
from app.fhir.bundles import SearchPage, searchset, service_base
from app.fhir.inbound import Entry, checked
from app.fhir.outcome import PREFIX
from app.fhir.shapes import Json
from app.fhir.wire import FHIR_JSON, FhirResponse, version_headers
from app.models.directory import Purpose
from app.models.referral import ReferralPublic
from app.persistence import idempotency
from app.security import agency_of
from app.services import directory as listings
from app.services import referrals

Count = Annotated[int, Query(alias="_count", ge=1, le=200)]
Cursor = Annotated[str | None, Query(alias="_cursor")]
# When the CapabilityStatement and the code systems last changed.
PUBLISHED = datetime(2026, 12, 8, tzinfo=UTC)


async def negotiate(request: Request, _format: Annotated[str | None, Query(alias="_format")] = None) -> None:
    await wire.negotiate(request)


class NotSupported(AppError):
    status, code, title = 405, "method-not-allowed", "Method not allowed"


wire.preload(*capability.DOCUMENTATION, "Bundle", "OperationOutcome", "CapabilityStatement")
router = APIRouter(prefix=PREFIX, include_in_schema=False, dependencies=[Depends(negotiate)])
searches = APIRouter(dependencies=[KnownQueryOnly])


def _id(value: str, resource_type: str) -> uuid.UUID:
    """A resource id in the path; one that is no UUID names nothing here (404, as FHIR expects)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{resource_type} {value} not found.") from None


def _referral_answer(resource: Json, public: ReferralPublic, status_code: int = 200) -> Response:
    return FhirResponse(resource, status_code, version_headers(str(public.version), public.updated_at))


@router.get("/metadata")
async def metadata(request: Request) -> Response:
    """The CapabilityStatement; no token needed."""
    return FhirResponse(capability.capability_statement(service_base(request), PUBLISHED.date().isoformat()))


@router.get("/CodeSystem/{name}")
async def read_code_system(name: str) -> Response:
    """One of the exchange's code systems (purposes, outcome types, statuses...); no token needed."""
    found = codes.code_system(name, wire.instant(PUBLISHED) or "")
    if found is None:
        raise NotFound(f"CodeSystem {name} not found: see {PREFIX}/metadata.")
    return _versioned(found)


canonical = APIRouter(include_in_schema=False)


@canonical.get("/fhir/CodeSystem/{name}")
async def code_system_canonical(name: str) -> RedirectResponse:
    """A code system's canonical URL ({PUBLIC_BASE_URL}/fhir/CodeSystem/...) leads to the resource."""
    return RedirectResponse(f"{PREFIX}/CodeSystem/{quote(name, safe='')}", status_code=307)


@router.post("")
async def transaction_bundle(
    request: Request, session: SessionDep, principal: ReferralWriter, claim: IdempotencyClaim
) -> Response:
    """Make a referral from a transaction Bundle, through the same service as POST /v1/referrals."""
    request.state.fhir_root = "Bundle"
    bundle = await wire.read_json(request, "Bundle")
    made = transaction.read(bundle, agency_of(principal), outcome.paths(request))
    public = await referrals.create(session, principal, made.body, None)
    transaction.check_owner(made, public)
    answer = transaction.response(service_base(request), made, public)
    idempotency.remember(claim, 200, RootModel[dict[str, Any]](answer), {"Content-Type": FHIR_JSON})
    return FhirResponse(answer)


@router.get("/Task/{task_id}")
async def read_task(task_id: str, session: SessionDep, principal: ReferralReader) -> Response:
    access = await views.party_access(session, principal, _id(task_id, "Task"), f"Task {task_id}")
    return _referral_answer(*await views.task(session, access))


@router.put("/Task/{task_id}")
async def update_task(
    task_id: str,
    request: Request,
    session: SessionDep,
    principal: ReferralWriter,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Move the referral (status, statusReason) and record outcomes (new outputs); needs If-Match."""
    access = await views.party_access(session, principal, _id(task_id, "Task"), f"Task {task_id}")
    request.state.fhir_root = "Task"
    body = await wire.read_json(request, "Task")
    if body.get("id") != task_id:
        raise Unprocessable.field("Task.id", f"must be the id in the URL ({task_id})")
    checked(Entry(body, "Task"))
    return _referral_answer(*await views.update_task(session, access, body, if_match, outcome.paths(request)))


@router.get("/ServiceRequest/{request_id}")
async def read_service_request(request_id: str, session: SessionDep, principal: ReferralReader) -> Response:
    referral_id = _id(request_id, "ServiceRequest")
    access = await views.party_access(session, principal, referral_id, f"ServiceRequest {request_id}")
    return _referral_answer(*await views.service_request(session, access))


@router.get("/Patient/{patient_id}")
async def read_patient(patient_id: str, session: SessionDep, principal: ReferralReader) -> Response:
    """The person as shared with one referral; 404 for anyone not party to it."""
    resource, public = await views.patient(session, principal, _id(patient_id, "Patient"))
    return _referral_answer(resource, public)


@router.get("/Consent/{consent_id}")
async def read_consent(consent_id: str, session: SessionDep, principal: ReferralReader) -> Response:
    resource = await views.consent_resource(session, principal, _id(consent_id, "Consent"))
    return _versioned(resource)


def _versioned(resource: Json) -> Response:
    """A resource with the ETag and Last-Modified of its `meta`."""
    found = resource["meta"]
    updated = datetime.fromisoformat(found["lastUpdated"].replace("Z", "+00:00"))
    return FhirResponse(resource, headers=version_headers(found["versionId"], updated))


@router.get("/Organization/{agency_id}")
async def read_organization(agency_id: str, session: SessionDep, _: CurrentPrincipal) -> Response:
    agency = await listings.get_agency(session, _id(agency_id, "Organization"))
    return _versioned(directory.organization(agency))


@router.get("/HealthcareService/{service_id}")
async def read_healthcare_service(service_id: str, session: SessionDep, _: CurrentPrincipal) -> Response:
    service = await listings.get_service(session, _id(service_id, "HealthcareService"))
    return _versioned(directory.healthcare_service(service))


@router.get("/Communication/{message_id}")
async def read_communication(message_id: str, session: SessionDep, principal: ReferralReader) -> Response:
    return _versioned(
        await views.communication_resource(session, principal, _id(message_id, "Communication"))
    )


@router.post("/Communication")
async def post_communication(
    request: Request, session: SessionDep, principal: ReferralWriter, claim: IdempotencyClaim
) -> Response:
    """Send a message to the other agency on the referral the Communication is based on."""
    request.state.fhir_root = "Communication"
    body = await wire.read_json(request, "Communication")
    resource = await views.post_communication(session, principal, body, outcome.paths(request))
    location = f"Communication/{resource['id']}/_history/1"
    headers = {"Location": f"{service_base(request)}/{location}", "ETag": 'W/"1"', "Content-Type": FHIR_JSON}
    idempotency.remember(claim, 201, RootModel[dict[str, Any]](resource), headers)
    return FhirResponse(resource, 201, headers)


@searches.get("/Task")
async def search_tasks(
    request: Request,
    session: SessionDep,
    principal: ReferralReader,
    owner: str | None = None,
    requester: str | None = None,
    status: str | None = None,
    focus: str | None = None,
    last_updated: Annotated[str | None, Query(alias="_lastUpdated")] = None,
    include: Annotated[str | None, Query(alias="_include")] = None,
    count: Count = 50,
    cursor: Cursor = None,
) -> Response:
    """The caller's referrals' Tasks: the inbox (owner), what it sent (requester), or both."""
    found = search.scope(
        agency_of(principal),
        search.reference(owner, "Organization", "owner"),
        search.reference(requester, "Organization", "requester"),
    )
    found = search.narrowed(
        found,
        statuses=search.statuses(status, "status", search.TASK_STATUSES),
        referral_ids=[ref] if (ref := search.reference(focus, "ServiceRequest", "focus")) else None,
        updated_after=search.updated_after(last_updated),
    )
    listed = await views.referral_search(session, principal, found, cursor, count)
    return FhirResponse(searchset(request, await views.task_page(session, listed, _includes_focus(include))))


def _includes_focus(include: str | None) -> bool:
    if include is None:
        return False
    if include not in ("Task:focus", "Task:focus:ServiceRequest"):
        raise Unprocessable.field("_include", "only Task:focus is supported")
    return True


@searches.get("/ServiceRequest")
async def search_service_requests(
    request: Request,
    session: SessionDep,
    principal: ReferralReader,
    requester: str | None = None,
    performer: str | None = None,
    status: str | None = None,
    identifier: str | None = None,
    last_updated: Annotated[str | None, Query(alias="_lastUpdated")] = None,
    count: Count = 50,
    cursor: Cursor = None,
) -> Response:
    """The caller's referrals as ServiceRequests, by requester, service, status or reference."""
    found = search.scope(agency_of(principal), None, search.reference(requester, "Organization", "requester"))
    reference = search.token(identifier, "identifier", codes.identifier_system("referral-reference"))
    found = search.narrowed(
        found,
        statuses=search.statuses(status, "status", search.SERVICE_REQUEST_STATUSES),
        to_service_id=search.reference(performer, "HealthcareService", "performer"),
        reference=reference.upper() if reference else reference,
        updated_after=search.updated_after(last_updated),
    )
    items, more = await views.referral_search(session, principal, found, cursor, count)
    page = SearchPage([referral.service_request(p) for p in items], next_cursor=more)
    return FhirResponse(searchset(request, page))


@searches.get("/HealthcareService")
async def search_healthcare_services(
    request: Request,
    session: SessionDep,
    _: CurrentPrincipal,
    category: Annotated[str | None, Query(alias="service-category")] = None,
    name: str | None = None,
    name_contains: Annotated[str | None, Query(alias="name:contains")] = None,
    organization: str | None = None,
    count: Count = 50,
    cursor: Cursor = None,
) -> Response:
    """The directory's services: by purpose (service-category), name and agency."""
    purpose = search.token(category, "service-category", codes.system("purpose"))
    if purpose is not None and purpose not in Purpose._value2member_map_:
        return FhirResponse(searchset(request, SearchPage([])))
    filters = listings.ServiceFilters(
        purpose=Purpose(purpose) if purpose else None,
        agency_id=search.reference(organization, "Organization", "organization"),
        name=_name_match(name, name_contains),
    )
    return FhirResponse(searchset(request, await views.service_page(session, filters, cursor, count)))


def _name_match(name: str | None, contains: str | None) -> listings.NameMatch | None:
    if contains:
        return listings.NameMatch(contains, anywhere=True)
    return listings.NameMatch(name) if name else None


@searches.get("/Organization")
async def search_organizations(
    request: Request,
    session: SessionDep,
    _: CurrentPrincipal,
    name: str | None = None,
    name_contains: Annotated[str | None, Query(alias="name:contains")] = None,
    count: Count = 50,
    cursor: Cursor = None,
) -> Response:
    """The directory's agencies, by name."""
    page = await views.organization_page(session, _name_match(name, name_contains), cursor, count)
    return FhirResponse(searchset(request, page))


@searches.get("/Communication")
async def search_communications(
    request: Request,
    session: SessionDep,
    principal: ReferralReader,
    based_on: Annotated[str, Query(alias="based-on")],
    count: Count = 50,
    cursor: Cursor = None,
) -> Response:
    """The messages on one referral (none for a referral the caller's agency is not party to)."""
    referral_id = search.reference(based_on, "ServiceRequest", "based-on")
    assert referral_id is not None
    return FhirResponse(
        searchset(request, await views.thread_page(session, principal, referral_id, cursor, count))
    )


router.include_router(searches)
SERVED = frozenset(capability.DOCUMENTATION)


@router.api_route("/{resource_type}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@router.api_route("/{resource_type}/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def not_served(request: Request, resource_type: str) -> Response:
    """A type this server does not serve is 404; an interaction it does not offer on one it does, 405."""
    if resource_type in SERVED:
        raise NotSupported(f"{request.method} is not an interaction this server offers on {resource_type}.")
    raise NotFound(f"This server has no {resource_type} resources: see {PREFIX}/metadata for what it has.")
