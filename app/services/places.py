"""Where services are: postcode centroids, distances, and the locations near a postcode.

Distances are great-circle (haversine) distances on a sphere of the Earth's mean radius,
within 0.5% of the ellipsoidal distance: plenty for "within a mile". The database narrows the
locations to a bounding box with plain comparisons (the same SQL on SQLite and PostgreSQL, no
geographic extension), and the exact distance is worked out here.
"""

import csv
import itertools
import math
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import Unprocessable
from app.models.audit import AuditActor
from app.models.directory import Service
from app.models.locations import PostcodeCentroid, ServiceLocation, normal_postcode
from app.pagination import numbered_page
from app.services import audit

EARTH_RADIUS_METRES = 6_371_008.8  # the mean radius (IUGG)
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_METRES / 180
LOAD_BATCH = 2000


@dataclass(frozen=True, slots=True)
class Point:
    latitude: float
    longitude: float


def metres_between(a: Point, b: Point) -> float:
    """The great-circle distance by the haversine formula."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat, dlon = lat2 - lat1, math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(centre: Point, metres: float) -> tuple[float, float, float, float]:
    """South, north, west and east edges of a box holding every point within `metres` of `centre`."""
    dlat = metres / METRES_PER_DEGREE
    # Degrees of longitude shrink towards the poles; near one, the box spans every longitude.
    shrink = math.cos(math.radians(min(89.0, abs(centre.latitude) + dlat)))
    dlon = min(180.0, dlat / shrink)
    return centre.latitude - dlat, centre.latitude + dlat, centre.longitude - dlon, centre.longitude + dlon


async def centroid(session: AsyncSession, postcode: str, *, field: str = "postcode") -> Point:
    """The centre of a full postcode, from the centroids the operator loaded (422 if unknown)."""
    normal = normal_postcode(postcode)
    if normal is None:
        raise Unprocessable.field(field, "is not a full UK postcode (such as LL13 9AA)")
    found = await session.get(PostcodeCentroid, normal)
    if found is None:
        raise Unprocessable.field(field, f"{normal} is not a postcode this directory knows the position of")
    return Point(found.latitude, found.longitude)


@dataclass(frozen=True, slots=True)
class Nearby:
    location_id: uuid.UUID
    service_id: uuid.UUID
    metres: float


def _position() -> tuple[ColumnElement[float], ColumnElement[float]]:
    """A location's coordinates: its own, else its postcode's centroid."""
    latitude = func.coalesce(col(ServiceLocation.latitude), col(PostcodeCentroid.latitude))
    longitude = func.coalesce(col(ServiceLocation.longitude), col(PostcodeCentroid.longitude))
    return latitude, longitude


async def locations_near(
    session: AsyncSession, centre: Point, metres: float, services: Sequence[ColumnElement[bool]]
) -> list[Nearby]:
    """Locations within `metres` of `centre`, of services meeting `services`, nearest first."""
    south, north, west, east = bounding_box(centre, metres)
    latitude, longitude = _position()
    query = (
        select(col(ServiceLocation.id), col(ServiceLocation.service_id), latitude, longitude)
        .outerjoin(PostcodeCentroid, col(PostcodeCentroid.postcode) == col(ServiceLocation.postcode))
        .where(latitude.between(south, north), longitude.between(west, east))
    )
    if services:
        query = query.where(col(ServiceLocation.service_id).in_(select(col(Service.id)).where(*services)))
    found = [
        Nearby(location_id, service_id, metres_between(centre, Point(lat, lon)))
        for location_id, service_id, lat, lon in await session.execute(query)
    ]
    return sorted((n for n in found if n.metres <= metres), key=lambda n: (n.metres, n.location_id))


def nearest_per_service(nearby: Iterable[Nearby]) -> list[Nearby]:
    """Each service once, at its nearest location, nearest first."""
    nearest: dict[uuid.UUID, Nearby] = {}
    for place in nearby:  # already nearest first
        nearest.setdefault(place.service_id, place)
    return list(nearest.values())


async def positions(session: AsyncSession, locations: Iterable[ServiceLocation]) -> dict[uuid.UUID, Point]:
    """Where each location is: its own coordinates, else its postcode's centroid (if loaded)."""
    placed = list(locations)
    found = {
        loc.id: Point(loc.latitude, loc.longitude)
        for loc in placed
        if loc.latitude is not None and loc.longitude is not None
    }
    wanted = {loc.postcode for loc in placed if loc.id not in found}
    if not wanted:
        return found
    rows = await session.scalars(select(PostcodeCentroid).where(col(PostcodeCentroid.postcode).in_(wanted)))
    known = {row.postcode: Point(row.latitude, row.longitude) for row in rows}
    unplaced = (loc for loc in placed if loc.id not in found and loc.postcode in known)
    return found | {loc.id: known[loc.postcode] for loc in unplaced}


async def numbered_locations(
    session: AsyncSession, services: Sequence[ColumnElement[bool]], *, page: int, per_page: int
) -> tuple[list[ServiceLocation], int]:
    """Page `page` of the locations of services meeting `services`, by service name, and how many."""
    query = select(ServiceLocation).join(Service, col(Service.id) == col(ServiceLocation.service_id))
    order = (col(Service.name), col(Service.id), col(ServiceLocation.position), col(ServiceLocation.id))
    return await numbered_page(session, query.where(*services), order, page, per_page)


async def locations_by_id(
    session: AsyncSession, location_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, ServiceLocation]:
    wanted = set(location_ids)
    if not wanted:
        return {}
    found = await session.scalars(select(ServiceLocation).where(col(ServiceLocation.id).in_(wanted)))
    return {location.id: location for location in found}


@dataclass
class CentroidFile:
    """What reading a centroid file found: how many rows it loaded, and which lines it could not use."""

    loaded: int = 0
    skipped: int = 0
    first_skipped: list[int] = field(default_factory=list)

    def skip(self, line: int) -> None:
        self.skipped += 1
        if len(self.first_skipped) < 5:
            self.first_skipped.append(line)


POSTCODE_COLUMNS = ("postcode", "pcds", "pcd", "pcd2", "pcd7", "pcd8")
LATITUDE_COLUMNS = ("latitude", "lat")
LONGITUDE_COLUMNS = ("longitude", "long", "lng", "lon")


def _columns(header: list[str]) -> tuple[int, int, int] | None:
    """Where the postcode, latitude and longitude are, from a header row (None: not a header)."""
    names = [h.strip().lower() for h in header]

    def first(options: tuple[str, ...]) -> int | None:
        return next((names.index(o) for o in options if o in names), None)

    found = (first(POSTCODE_COLUMNS), first(LATITUDE_COLUMNS), first(LONGITUDE_COLUMNS))
    return None if None in found else (found[0] or 0, found[1] or 0, found[2] or 0)


def _centroid(row: list[str], where: tuple[int, int, int]) -> PostcodeCentroid | None:
    try:
        postcode = normal_postcode(row[where[0]])
        latitude, longitude = float(row[where[1]]), float(row[where[2]])
    except (IndexError, ValueError):
        return None
    # ONS marks postcodes without a grid reference with latitude 99.999999.
    if postcode is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return PostcodeCentroid(postcode=postcode, latitude=latitude, longitude=longitude)


def read_centroids(lines: Iterable[str], report: CentroidFile) -> Iterator[PostcodeCentroid]:
    """Centroids from CSV lines: `postcode,latitude,longitude` with or without a header, or any file
    whose header names those columns (the ONS Postcode Directory's `pcds`, `lat`, `long`)."""
    rows: Iterator[list[str]] = csv.reader(lines)
    header = next(rows, None)
    if header is None:
        return
    where, first_line = _columns(header), 2
    if where is None:  # no header: the first row is a postcode
        where, rows, first_line = (0, 1, 2), itertools.chain([header], rows), 1
    for number, row in enumerate(rows, start=first_line):
        found = _centroid(row, where)
        if found is None:
            report.skip(number)
            continue
        report.loaded += 1
        yield found


async def load_centroids(
    session: AsyncSession, actor: AuditActor, centroids: Iterable[PostcodeCentroid], report: CentroidFile
) -> None:
    """Add or replace postcode centroids, in batches; audited once with the count."""
    batch: list[dict[str, object]] = []
    for row in centroids:
        batch.append({"postcode": row.postcode, "latitude": row.latitude, "longitude": row.longitude})
        if len(batch) >= LOAD_BATCH:
            await _upsert(session, batch)
            batch = []
    if batch:
        await _upsert(session, batch)
    details = {"loaded": report.loaded, "skipped": report.skipped}
    audit.record(session, actor, "directory.postcodes_loaded", "postcode_centroids", details=details)


async def _upsert(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(PostcodeCentroid)
    replace = {"latitude": statement.excluded.latitude, "longitude": statement.excluded.longitude}
    await session.execute(statement.on_conflict_do_update(index_elements=["postcode"], set_=replace), rows)
