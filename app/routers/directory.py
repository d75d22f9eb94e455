"""The directory of agencies and services: readable by any signed-in caller, written by admins."""

import uuid

from fastapi import APIRouter, Response, status

from app.deps import CurrentPrincipal, DirectoryWriter, SessionDep
from app.errors import Responses
from app.models.directory import AgencyCreate, AgencyKind, AgencyPublic, Purpose, ServiceCreate, ServicePublic
from app.pagination import CursorParam, LimitParam, Page
from app.services import directory

router = APIRouter(prefix="/v1", tags=["directory"])
WRITE_PROBLEMS: Responses = {403: {"description": "Needs the directory:write scope"}}


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


@router.get("/services", response_model=Page[ServicePublic])
async def list_services(
    session: SessionDep,
    _: CurrentPrincipal,
    purpose: Purpose | None = None,
    agency_id: uuid.UUID | None = None,
    accepting_referrals: bool | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[ServicePublic]:
    """List services by name, filtered by purpose, agency and whether they accept referrals."""
    rows, next_cursor = await directory.list_services(
        session,
        purpose=purpose,
        agency_id=agency_id,
        accepting_referrals=accepting_referrals,
        cursor=cursor,
        limit=limit,
    )
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


@router.get(
    "/services/{service_id}",
    response_model=ServicePublic,
    responses={404: {"description": "No such service"}},
)
async def get_service(service_id: uuid.UUID, session: SessionDep, _: CurrentPrincipal) -> ServicePublic:
    """One service."""
    return ServicePublic.model_validate(await directory.get_service(session, service_id))
