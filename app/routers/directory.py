"""The directory of agencies and services: readable by any signed-in caller, written by admins."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.deps import CurrentPrincipal, DirectoryWriter, KnownQueryOnly, SessionDep
from app.errors import Responses
from app.models.directory import (
    AgencyCreate,
    AgencyKind,
    AgencyPublic,
    Purpose,
    ServiceCreate,
    ServicePublic,
    ServiceUpdate,
)
from app.pagination import CursorParam, LimitParam, Page
from app.services import directory

router = APIRouter(prefix="/v1", tags=["directory"])
WRITE_PROBLEMS: Responses = {
    403: {"description": "Needs the directory:write scope (agencies: platform admins only)"},
    404: {"description": "Another agency's entry (agency admins write their own)"},
}


@router.get("/agencies", response_model=Page[AgencyPublic])
async def list_agencies(
    session: SessionDep,
    _: CurrentPrincipal,
    kind: AgencyKind | None = None,
    local_authority: str | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[AgencyPublic]:
    """List agencies by name, optionally filtered by kind or local authority."""
    rows, next_cursor = await directory.list_agencies(
        session, kind=kind, local_authority=local_authority, cursor=cursor, limit=limit
    )
    return Page(items=[AgencyPublic.model_validate(a) for a in rows], next_cursor=next_cursor)


@router.post(
    "/agencies", response_model=AgencyPublic, status_code=status.HTTP_201_CREATED, responses=WRITE_PROBLEMS
)
async def create_agency(
    body: AgencyCreate, session: SessionDep, principal: DirectoryWriter, response: Response
) -> AgencyPublic:
    """Add an agency to the directory (platform admin)."""
    agency = await directory.create_agency(session, principal.actor, body)
    response.headers["Location"] = f"/v1/agencies/{agency.id}"
    return AgencyPublic.model_validate(agency)


@router.get(
    "/agencies/{agency_id}", response_model=AgencyPublic, responses={404: {"description": "No such agency"}}
)
async def get_agency(agency_id: uuid.UUID, session: SessionDep, _: CurrentPrincipal) -> AgencyPublic:
    """One agency."""
    return AgencyPublic.model_validate(await directory.get_agency(session, agency_id))


@router.get(
    "/services",
    response_model=Page[ServicePublic],
    dependencies=[KnownQueryOnly],
    responses={422: {"description": "A bad or unknown query parameter"}},
)
async def list_services(
    session: SessionDep,
    _: CurrentPrincipal,
    purpose: Purpose | None = None,
    agency_id: uuid.UUID | None = None,
    accepting_referrals: bool | None = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200, description="Words in the name, description or eligibility (any case or accent)."
        ),
    ] = None,
    language: Annotated[
        str | None, Query(max_length=20, description="A language code, such as `cy`.")
    ] = None,
    postcode: Annotated[
        str | None,
        Query(max_length=10, description="A postcode or outward code: services covering it, or everywhere."),
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[ServicePublic]:
    """List services by name, filtered by purpose, agency, intake, words, language and postcode."""
    filters = directory.ServiceFilters(purpose, agency_id, accepting_referrals, q, language, postcode)
    rows, next_cursor = await directory.list_services(session, filters, cursor=cursor, limit=limit)
    return Page(items=[ServicePublic.model_validate(s) for s in rows], next_cursor=next_cursor)


@router.post(
    "/services", response_model=ServicePublic, status_code=status.HTTP_201_CREATED, responses=WRITE_PROBLEMS
)
async def create_service(
    body: ServiceCreate, session: SessionDep, principal: DirectoryWriter, response: Response
) -> ServicePublic:
    """Add a service to an agency's entry in the directory (platform admin)."""
    service = await directory.create_service(session, principal.actor, body)
    response.headers["Location"] = f"/v1/services/{service.id}"
    return ServicePublic.model_validate(service)


@router.patch(
    "/services/{service_id}",
    response_model=ServicePublic,
    responses={**WRITE_PROBLEMS, 404: {"description": "No such service, or one of another agency"}},
)
async def update_service(
    service_id: uuid.UUID, body: ServiceUpdate, session: SessionDep, principal: DirectoryWriter
) -> ServicePublic:
    """Change a service (an agency admin: their own agency's), e.g. stop taking referrals for a while."""
    return ServicePublic.model_validate(
        await directory.update_service(session, principal.actor, service_id, body)
    )


@router.get(
    "/services/{service_id}",
    response_model=ServicePublic,
    responses={404: {"description": "No such service"}},
)
async def get_service(service_id: uuid.UUID, session: SessionDep, _: CurrentPrincipal) -> ServicePublic:
    """One service."""
    return ServicePublic.model_validate(await directory.get_service(session, service_id))
