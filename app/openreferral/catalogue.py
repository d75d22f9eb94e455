"""Reading the directory for the published feed: the queries Open Referral UK asks, answered by
the directory services and translated by `publish`."""

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, Unprocessable
from app.models.directory import Purpose, Service
from app.models.locations import ServiceLocation
from app.openreferral import ids, publish
from app.openreferral.publish import Feed
from app.openreferral.schema import (
    ListedService,
    Organization,
    OrganizationFull,
    Page,
    ServiceAtLocation,
    ServiceFull,
    Taxonomy,
    TaxonomyTerm,
)
from app.services import directory, places

# The widest proximity search: from Anglesey to the Gower is under 250 km.
MAX_PROXIMITY_METRES = 250_000


@dataclass(frozen=True, slots=True)
class Query:
    """What a list of services (or services at locations) is asked for."""

    page: int = 1
    per_page: int = 50
    search: str | None = None
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    postcode: str | None = None
    proximity: float | None = None


class NoMatch(Exception):
    """The query names a taxonomy or term the directory does not use: nothing can match."""


def _purpose(query: Query) -> Purpose | None:
    if query.taxonomy_id and query.taxonomy_id != str(ids.PURPOSE_TAXONOMY_ID):
        raise NoMatch
    if not query.taxonomy_term_id:
        return None
    purpose = ids.purpose_of_term(query.taxonomy_term_id)
    if purpose is None:
        raise NoMatch
    return purpose


def _conditions(session: AsyncSession, query: Query) -> list[ColumnElement[bool]]:
    if query.proximity is not None and not query.postcode:
        raise Unprocessable.field("proximity", "needs a postcode to measure from")
    if query.proximity is not None and not 0 < query.proximity <= MAX_PROXIMITY_METRES:
        raise Unprocessable.field("proximity", f"is metres, more than 0 and at most {MAX_PROXIMITY_METRES}")
    filters = directory.ServiceFilters(purpose=_purpose(query), q=query.search, postcode=query.postcode)
    return directory.service_conditions(session.get_bind().dialect.name, filters)


async def _near(
    session: AsyncSession, query: Query, conditions: list[ColumnElement[bool]]
) -> list[places.Nearby]:
    assert query.postcode is not None
    assert query.proximity is not None
    centre = await places.centroid(session, query.postcode)
    return await places.locations_near(session, centre, query.proximity, conditions)


def _slice(query: Query, found: list[places.Nearby]) -> list[places.Nearby]:
    start = (query.page - 1) * query.per_page
    return found[start : start + query.per_page]


async def services(session: AsyncSession, feed: Feed, query: Query) -> Page[ListedService]:
    """Services by name, or with `proximity` nearest first, each with its organization."""
    try:
        conditions = _conditions(session, query)
    except NoMatch:
        return publish.page([], total=0, page_number=query.page, per_page=query.per_page)
    if query.proximity is None:
        rows, total = await directory.numbered_services(
            session, conditions, page=query.page, per_page=query.per_page
        )
    else:
        nearest = places.nearest_per_service(await _near(session, query, conditions))
        found = await directory.services_by_id(
            session, (n.service_id for n in _slice(query, nearest)), links=False
        )
        rows, total = [found[n.service_id] for n in _slice(query, nearest)], len(nearest)
    return publish.page(
        await _listed(session, feed, rows), total=total, page_number=query.page, per_page=query.per_page
    )


async def _listed(session: AsyncSession, feed: Feed, rows: list[Service]) -> list[ListedService]:
    agencies = await directory.agencies_by_id(session, (s.agency_id for s in rows))
    return [publish.listed(s, agencies[s.agency_id], feed) for s in rows]


async def service(session: AsyncSession, feed: Feed, service_id: str) -> ServiceFull:
    found = await directory.get_service(session, _uuid(service_id, "Service"))
    agency = await directory.get_agency(session, found.agency_id)
    return publish.full(found, agency, await places.positions(session, found.locations), feed)


async def service_at_locations(session: AsyncSession, query: Query) -> Page[ServiceAtLocation]:
    """Each service at each of its locations, by service name, or with `proximity` nearest first."""
    try:
        conditions = _conditions(session, query)
    except NoMatch:
        return publish.page([], total=0, page_number=query.page, per_page=query.per_page)
    if query.proximity is None:
        rows, total = await places.numbered_locations(
            session, conditions, page=query.page, per_page=query.per_page
        )
    else:
        near = await _near(session, query, conditions)
        found = await places.locations_by_id(session, (n.location_id for n in _slice(query, near)))
        rows, total = [found[n.location_id] for n in _slice(query, near)], len(near)
    return publish.page(
        await _at_locations(session, rows), total=total, page_number=query.page, per_page=query.per_page
    )


async def _at_locations(session: AsyncSession, rows: list[ServiceLocation]) -> list[ServiceAtLocation]:
    found = await directory.services_by_id(session, (loc.service_id for loc in rows), links=False)
    agencies = await directory.agencies_by_id(session, (s.agency_id for s in found.values()))
    placed = await places.positions(session, rows)
    return [
        publish.at_location(loc, agencies[found[loc.service_id].agency_id], placed, found[loc.service_id])
        for loc in rows
    ]


async def service_at_location(session: AsyncSession, location_id: str) -> ServiceAtLocation:
    found = await places.locations_by_id(session, [_uuid(location_id, "Service at location")])
    if not found:
        raise NotFound(f"Service at location {location_id} not found.")
    return (await _at_locations(session, list(found.values())))[0]


async def organizations(session: AsyncSession, feed: Feed, page: int, per_page: int) -> Page[Organization]:
    rows, total = await directory.numbered_agencies(session, page=page, per_page=per_page)
    contents = [publish.organization(a, feed) for a in rows]
    return publish.page(contents, total=total, page_number=page, per_page=per_page)


async def organization(session: AsyncSession, feed: Feed, agency_id: str) -> OrganizationFull:
    agency = await directory.get_agency(session, _uuid(agency_id, "Organization"))
    return publish.organization_full(agency, await directory.services_of(session, agency.id), feed)


def taxonomies(feed: Feed, page: int, per_page: int) -> Page[Taxonomy]:
    contents = [publish.purpose_taxonomy(feed, with_terms=False)] if page == 1 else []
    return publish.page(contents, total=1, page_number=page, per_page=per_page)


def taxonomy(feed: Feed, taxonomy_id: str) -> Taxonomy:
    if taxonomy_id != str(ids.PURPOSE_TAXONOMY_ID):
        raise NotFound(f"Taxonomy {taxonomy_id} not found.")
    return publish.purpose_taxonomy(feed, with_terms=True)


def taxonomy_terms(feed: Feed, page: int, per_page: int, taxonomy_id: str | None) -> Page[TaxonomyTerm]:
    terms = publish.purpose_terms(feed)
    if taxonomy_id and taxonomy_id != str(ids.PURPOSE_TAXONOMY_ID):
        terms = []
    start = (page - 1) * per_page
    return publish.page(
        terms[start : start + per_page], total=len(terms), page_number=page, per_page=per_page
    )


def taxonomy_term(feed: Feed, term_id: str) -> TaxonomyTerm:
    purpose = ids.purpose_of_term(term_id)
    if purpose is None:
        raise NotFound(f"Taxonomy term {term_id} not found.")
    return publish.purpose_term(purpose, feed)


def _uuid(text: str, what: str) -> uuid.UUID:
    """A record id from the path; anything but a UUID names no record (404, as HSDS ids are strings)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(f"{what} {text} not found.") from None
