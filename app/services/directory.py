"""The directory of agencies and the services they offer."""

import itertools
import json
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, String, cast, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload
from sqlmodel import col

from app.db import utcnow
from app.errors import Forbidden, NotFound, Unprocessable
from app.models.audit import AuditActor
from app.models.directory import (
    AREA_CODE,
    Agency,
    AgencyCreate,
    AgencyKind,
    AgencyUpdate,
    Purpose,
    Service,
    ServiceCreate,
    ServicePurpose,
    ServiceUpdate,
)
from app.models.locations import LocationIn, ServiceLocation
from app.pagination import Keyset, keyset_page, numbered_page
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
    if actor.agency_id is not None:
        raise Forbidden("Agencies are added by platform admins.")
    await _external_id_free(session, Agency, body.external_id, None)
    agency = Agency.model_validate(body)
    session.add(agency)
    await session.flush()
    audit.record(session, actor, "agency.created", "agency", agency.id, details={"kind": agency.kind.value})
    return agency


@dataclass(frozen=True, slots=True)
class NameMatch:
    """A name, in English or Welsh, that starts with (or, `anywhere`, contains) the text, any case."""

    text: str
    anywhere: bool = False

    def condition(self, *columns: Any) -> ColumnElement[bool]:
        escaped = self.text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%" if self.anywhere else f"{escaped}%"
        return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))


async def update_agency(
    session: AsyncSession, actor: AuditActor, agency_id: uuid.UUID, body: AgencyUpdate
) -> Agency:
    """Change an agency's entry (platform admins and the directory import)."""
    if actor.agency_id is not None:
        raise Forbidden("Agencies are changed by platform admins.")
    agency = await get_agency(session, agency_id)
    changes = body.model_dump(exclude_unset=True)
    if "external_id" in changes:
        await _external_id_free(session, Agency, body.external_id, agency.id)
    for name, value in changes.items():
        setattr(agency, name, value)
    agency.updated_at = utcnow()
    audit.record(session, actor, "agency.updated", "agency", agency.id, details={"fields": sorted(changes)})
    await session.flush()
    return agency


async def agency_by_external_id(session: AsyncSession, external_id: str) -> Agency | None:
    return (await session.scalars(select(Agency).where(col(Agency.external_id) == external_id))).first()


async def service_by_external_id(session: AsyncSession, external_id: str) -> Service | None:
    return (await session.scalars(select(Service).where(col(Service.external_id) == external_id))).first()


async def _external_id_free(
    session: AsyncSession, model: type[M], external_id: str | None, own_id: uuid.UUID | None
) -> None:
    """Refuse an external id another entry already has: an import finds entries by it."""
    if external_id is None:
        return
    other = select(col(model.id)).where(col(model.external_id) == external_id, col(model.id) != own_id)
    if await session.scalar(other) is not None:
        raise Unprocessable.field("external_id", f"is already the id of another {model.__name__.lower()}")


async def list_agencies(
    session: AsyncSession,
    *,
    kind: AgencyKind | None,
    local_authority: str | None,
    cursor: str | None,
    limit: int,
    name: NameMatch | None = None,
) -> tuple[list[Agency], str | None]:
    """Agencies by name, optionally of one kind or local authority, or named so."""
    query = select(Agency)
    if kind:
        query = query.where(col(Agency.kind) == kind)
    if local_authority:
        query = query.where(col(Agency.local_authority) == local_authority)
    if name:
        query = query.where(name.condition(col(Agency.name), col(Agency.name_cy)))
    return await keyset_page(session, query, AGENCY_ORDER, cursor, limit)


async def get_service(session: AsyncSession, service_id: uuid.UUID, *, field: str | None = None) -> Service:
    return await _get(session, Service, service_id, field)


async def create_service(session: AsyncSession, actor: AuditActor, body: ServiceCreate) -> Service:
    """Add a service: a platform admin to any agency, an agency admin to their own."""
    if actor.agency_id not in (None, body.agency_id):
        raise NotFound(f"Agency {body.agency_id} not found.")
    await get_agency(session, body.agency_id, field="agency_id")
    await _external_id_free(session, Service, body.external_id, None)
    service = Service.model_validate(body.model_dump(exclude={"purposes", "locations"}))
    service.purpose_links = _links(service.id, body.purposes)
    service.locations = placed_locations(service.id, [], body.locations)
    service.search_text = search_text(service)
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


def _links(service_id: uuid.UUID, purposes: list[Purpose]) -> list[ServicePurpose]:
    return [ServicePurpose(service_id=service_id, purpose=p) for p in sorted(set(purposes))]


def fold(text: str) -> str:
    """Lower case without accents, spaces collapsed: `q` matches `Café` as `cafe` on any database."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


SEARCH_TEXT_LENGTH = 9000  # the column's size


def search_text(service: Service) -> str:
    """What `q` searches: the service's words in English and in Welsh."""
    parts = (service.name, service.name_cy, service.description, service.description_cy, service.eligibility)
    return fold(" ".join(p for p in parts if p))[:SEARCH_TEXT_LENGTH]


async def update_service(
    session: AsyncSession, actor: AuditActor, service_id: uuid.UUID, body: ServiceUpdate
) -> Service:
    """Change a service: a platform admin any, an agency admin their own agency's (404 for others)."""
    service = await get_service(session, service_id)
    if actor.agency_id not in (None, service.agency_id):
        raise NotFound(f"Service {service_id} not found.")
    changes = body.model_dump(exclude_unset=True, exclude={"purposes", "locations"})
    for name, value in changes.items():
        if value is None and name not in NULLABLE_SERVICE_FIELDS:
            raise Unprocessable.field(name, "cannot be null")
    if "external_id" in changes:
        await _external_id_free(session, Service, body.external_id, service.id)
    for name, value in changes.items():
        setattr(service, name, value)
    if body.purposes is not None:
        service.purpose_links = _links(service.id, body.purposes)
    if body.locations is not None:
        service.locations = placed_locations(service.id, service.locations, body.locations)
    service.search_text, service.updated_at = search_text(service), utcnow()
    fields = sorted(body.model_dump(exclude_unset=True))
    audit.record(session, actor, "service.updated", "service", service.id, details={"fields": fields})
    await session.flush()
    return service


NULLABLE_SERVICE_FIELDS = frozenset({"contact_email", "external_id"})
LOCATION_FIELDS = tuple(name for name in LocationIn.model_fields if name != "id")


def placed_locations(
    service_id: uuid.UUID, present: list[ServiceLocation], wanted: list[LocationIn]
) -> list[ServiceLocation]:
    """The service's locations as `wanted` lists them: one naming a present location's id keeps it
    (and its id, which the published directory uses) and changes the fields given; the others are
    new."""
    by_id = {location.id: location for location in present}
    placed = []
    for position, given in enumerate(wanted):
        kept = by_id.pop(given.id, None) if given.id else None
        if kept is None:
            fields = given.model_dump(include=set(LOCATION_FIELDS))
            placed.append(ServiceLocation(service_id=service_id, position=position, **fields))
            continue
        # Fields not given stay: a form that does not show a place's import id leaves it linked.
        changes = {**given.model_dump(include=set(LOCATION_FIELDS), exclude_unset=True), "position": position}
        if any(getattr(kept, name) != value for name, value in changes.items()):
            for name, value in changes.items():
                setattr(kept, name, value)
            kept.updated_at = utcnow()
        placed.append(kept)
    return placed


@dataclass(frozen=True, slots=True)
class ServiceFilters:
    purpose: Purpose | None = None
    agency_id: uuid.UUID | None = None
    accepting_referrals: bool | None = None
    q: str | None = None
    language: str | None = None
    postcode: str | None = None
    name: NameMatch | None = None


async def list_services(
    session: AsyncSession, filters: ServiceFilters, *, cursor: str | None, limit: int
) -> tuple[list[Service], str | None]:
    """Services by name, filtered by purpose, agency, intake, words, language and area served."""
    query = select(Service).where(*service_conditions(session.get_bind().dialect.name, filters))
    return await keyset_page(session, query, SERVICE_ORDER, cursor, limit)


# For lists of services' own fields: their purposes and locations are not read (nor may be).
WITHOUT_LINKS = (raiseload("*"),)


async def numbered_services(
    session: AsyncSession, conditions: list[ColumnElement[bool]], *, page: int, per_page: int
) -> tuple[list[Service], int]:
    """Page `page` of the services meeting `conditions` by name (their own fields only), and how
    many do in all."""
    query = select(Service).where(*conditions).options(*WITHOUT_LINKS)
    return await numbered_page(session, query, SERVICE_ORDER.order_by(), page, per_page)


async def services_of(session: AsyncSession, agency_id: uuid.UUID) -> list[Service]:
    """Every service an agency offers, by name (their own fields only)."""
    query = select(Service).where(col(Service.agency_id) == agency_id).options(*WITHOUT_LINKS)
    return list(await session.scalars(query.order_by(*SERVICE_ORDER.order_by())))


async def numbered_agencies(session: AsyncSession, *, page: int, per_page: int) -> tuple[list[Agency], int]:
    """Page `page` of the agencies by name, and how many there are."""
    return await numbered_page(session, select(Agency), AGENCY_ORDER.order_by(), page, per_page)


async def services_by_id(
    session: AsyncSession, service_ids: Iterable[uuid.UUID], *, links: bool = True
) -> dict[uuid.UUID, Service]:
    """The services named, with their purposes and locations unless `links` is false."""
    wanted = set(service_ids)
    if not wanted:
        return {}
    query = select(Service).where(col(Service.id).in_(wanted))
    found = await session.scalars(query if links else query.options(*WITHOUT_LINKS))
    return {service.id: service for service in found}


async def agencies_by_id(session: AsyncSession, agency_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Agency]:
    wanted = set(agency_ids)
    if not wanted:
        return {}
    found = await session.scalars(select(Agency).where(col(Agency.id).in_(wanted)))
    return {agency.id: agency for agency in found}


def service_conditions(dialect: str, filters: ServiceFilters) -> list[ColumnElement[bool]]:
    """What a service must meet to match `filters`."""
    conditions = [
        *_words(filters.q),
        *_language(dialect, filters.language),
        *_area(dialect, filters.postcode),
    ]
    if filters.purpose:
        offered = select(col(ServicePurpose.service_id)).where(col(ServicePurpose.purpose) == filters.purpose)
        conditions.append(col(Service.id).in_(offered))
    if filters.agency_id:
        conditions.append(col(Service.agency_id) == filters.agency_id)
    if filters.accepting_referrals is not None:
        conditions.append(col(Service.accepting_referrals) == filters.accepting_referrals)
    if filters.name:
        conditions.append(filters.name.condition(col(Service.name), col(Service.name_cy)))
    return conditions


def _words(q: str | None) -> list[ColumnElement[bool]]:
    """Every word of `q` appears in the service's name, description or eligibility."""
    escaped = (w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in fold(q or "").split())
    return [col(Service.search_text).like(f"%{word}%", escape="\\") for word in escaped]


def _language(dialect: str, language: str | None) -> list[ColumnElement[bool]]:
    return [json_list_has(dialect, col(Service.languages), [language.strip().lower()])] if language else []


def _area(dialect: str, postcode: str | None) -> list[ColumnElement[bool]]:
    """Services listing the postcode's district or area, or serving everywhere (an empty list)."""
    if not postcode:
        return []
    codes = area_codes(postcode)
    column = col(Service.area_served)
    everywhere = (
        func.jsonb_array_length(column) if dialect == "postgresql" else func.json_array_length(column)
    )
    return [or_(everywhere == 0, json_list_has(dialect, column, codes))]


def area_codes(postcode: str) -> list[str]:
    """The district (outward code) and area of a postcode or outward code: `LL13 9AA` gives LL13, LL."""
    compact = "".join(postcode.split()).upper()
    outward = compact[:-3] if len(compact) >= 5 else compact
    area = "".join(itertools.takewhile(str.isalpha, outward))
    if not AREA_CODE.match(outward) or not area:
        raise Unprocessable.field(
            "postcode", "is not a UK postcode or outward code (such as LL13 9AA or LL13)"
        )
    return [outward, area]


def json_list_has(dialect: str, column: Any, values: list[str]) -> ColumnElement[bool]:
    """The JSON list in `column` holds any of `values` (on PostgreSQL and SQLite alike)."""
    if dialect == "postgresql":
        return or_(*(column.op("@>")(cast(literal(json.dumps([v]), String), JSONB)) for v in values))
    each = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(each.c.value.in_(values)))
