"""The directory of agencies and the services they offer."""

import uuid
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import NotFound, Unprocessable
from app.models.audit import AuditActor
from app.models.directory import (
    Agency,
    AgencyCreate,
    AgencyKind,
    Purpose,
    Service,
    ServiceCreate,
    ServicePurpose,
)
from app.pagination import Keyset, keyset_page
from app.services import audit

M = TypeVar("M", Agency, Service)
AGENCY_ORDER = Keyset("agencies", (col(Agency.name), col(Agency.id)), (str, uuid.UUID))
SERVICE_ORDER = Keyset("services", (col(Service.name), col(Service.id)), (str, uuid.UUID))


async def _get(session: AsyncSession, model: type[M], entry_id: uuid.UUID, field: str | None) -> M:
    """The directory entry, or 404 (or 422 naming `field` when the id came from a request body)."""
    entry = await session.get(model, entry_id)
    if entry is None:
        label = model.__name__.lower()
        if field:
            raise Unprocessable.field(field, f"no such {label}")
        raise NotFound(f"{model.__name__} {entry_id} not found.")
    return entry


async def get_agency(session: AsyncSession, agency_id: uuid.UUID, *, field: str | None = None) -> Agency:
    return await _get(session, Agency, agency_id, field)


async def create_agency(session: AsyncSession, actor: AuditActor, body: AgencyCreate) -> Agency:
    agency = Agency.model_validate(body)
    session.add(agency)
    await session.flush()
    audit.record(session, actor, "agency.created", "agency", agency.id, details={"kind": agency.kind.value})
    return agency


async def list_agencies(
    session: AsyncSession,
    *,
    kind: AgencyKind | None,
    local_authority: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Agency], str | None]:
    """Agencies by name, optionally of one kind or local authority."""
    query = select(Agency)
    if kind:
        query = query.where(col(Agency.kind) == kind)
    if local_authority:
        query = query.where(col(Agency.local_authority) == local_authority)
    return await keyset_page(session, query, AGENCY_ORDER, cursor, limit)


async def get_service(session: AsyncSession, service_id: uuid.UUID, *, field: str | None = None) -> Service:
    return await _get(session, Service, service_id, field)


async def create_service(session: AsyncSession, actor: AuditActor, body: ServiceCreate) -> Service:
    await get_agency(session, body.agency_id, field="agency_id")
    service = Service.model_validate(body.model_dump(exclude={"purposes"}))
    service.purpose_links = [
        ServicePurpose(service_id=service.id, purpose=p) for p in sorted(set(body.purposes))
    ]
    session.add(service)
    await session.flush()
    audit.record(
        session,
        actor,
        "service.created",
        "service",
        service.id,
        details={"agency_id": str(service.agency_id), "purposes": [p.value for p in service.purposes]},
    )
    return service


async def list_services(
    session: AsyncSession,
    *,
    purpose: Purpose | None,
    agency_id: uuid.UUID | None,
    accepting_referrals: bool | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Service], str | None]:
    """Services by name, filtered by purpose accepted, agency and whether they take referrals."""
    query = select(Service)
    if purpose:
        offered = select(col(ServicePurpose.service_id)).where(col(ServicePurpose.purpose) == purpose)
        query = query.where(col(Service.id).in_(offered))
    if agency_id:
        query = query.where(col(Service.agency_id) == agency_id)
    if accepting_referrals is not None:
        query = query.where(col(Service.accepting_referrals) == accepting_referrals)
    return await keyset_page(session, query, SERVICE_ORDER, cursor, limit)
