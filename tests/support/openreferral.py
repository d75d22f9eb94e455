"""The Open Referral UK profile's own schemas (tests/data/openreferral), and a small directory to
publish: agencies, services with locations and Welsh names, and postcode centroids."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.directory import Agency, AgencyCreate, AgencyKind, Purpose, Service, ServiceCreate
from app.models.locations import LocationIn, PostcodeCentroid
from app.services import directory, places
from app.unit_of_work import committed
from tests.support.factories import SYSTEM

PROFILE = Path(__file__).resolve().parent.parent / "data" / "openreferral"
PAGE_FIELDS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}

# Centroids of made-up accuracy: what matters is the distances between them.
CENTROIDS = {
    "LL13 9AA": (53.0400, -2.9800),  # where the searches start
    "LL11 1AU": (53.0486, -2.9935),  # about 1.3 km away
    "LL13 8TH": (53.0430, -2.9680),  # about 0.9 km away
    "CH7 1AB": (53.1670, -3.1410),  # Mold, about 18 km away
    "CH1 2HJ": (53.1900, -2.8900),  # Chester, about 18 km away
}


@cache
def profile_schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PROFILE / name).read_text(encoding="utf-8"))
    return loaded


@cache
def _validator(name: str) -> jsonschema_rs.Validator:
    # The uncompiled schemas refer to each other by file name (taxonomy.json to taxonomy_term.json).
    base = PROFILE.as_uri() + "/"
    registry = jsonschema_rs.Registry([(base + "taxonomy_term.json", profile_schema("taxonomy_term.json"))])
    return jsonschema_rs.Draft202012Validator(
        profile_schema(name), validate_formats=True, registry=registry, base_uri=base + name
    )


def profile_errors(record: Any, schema: str) -> list[str]:
    """What the profile's schema (required fields, enumerations, formats) finds wrong with `record`."""
    return [f"{list(e.instance_path)}: {e.message}" for e in _validator(schema).iter_errors(record)]


def page_errors(page: Any, schema: str) -> list[str]:
    """A list page: the profile's page shape, and each record against `schema`."""
    problems = [f"missing {f}" for f in sorted(PAGE_FIELDS - set(page))]
    page_schema = profile_schema("openapi30.json")["components"]["schemas"]["Page"]
    problems += [e.message for e in jsonschema_rs.Draft202012Validator(page_schema).iter_errors(page)]
    for n, record in enumerate(page.get("contents", [])):
        problems += [f"contents[{n}] {p}" for p in profile_errors(record, schema)]
    return problems


@dataclass
class Directory:
    debt: Agency
    jobcentre: Agency
    money: Service  # two locations in Wrexham, Welsh name and description
    housing: Service  # in Mold, not taking referrals
    phone_line: Service  # no location, serves everywhere
    work_coach: Service  # in Chester, the Jobcentre's


def _place(name: str, line: str, town: str, postcode: str, *, exact: bool = False) -> LocationIn:
    latitude, longitude = CENTROIDS[postcode] if exact else (None, None)
    return LocationIn(
        name=name, address_1=line, town=town, postcode=postcode, latitude=latitude, longitude=longitude
    )


async def _agency(session: AsyncSession, name: str, kind: AgencyKind, name_cy: str | None = None) -> Agency:
    body = AgencyCreate(name=name, name_cy=name_cy, kind=kind, local_authority="Wrexham")
    return await directory.create_agency(session, SYSTEM, body)


async def _service(session: AsyncSession, agency: Agency, **fields: Any) -> Service:
    return await directory.create_service(session, SYSTEM, ServiceCreate(agency_id=agency.id, **fields))


async def _build(session: AsyncSession) -> Directory:
    debt = await _agency(
        session, "North Wales Debt Advice", AgencyKind.DEBT_ADVICE, "Cyngor Dyled Gogledd Cymru"
    )
    jobcentre = await _agency(session, "Chester Jobcentre Plus", AgencyKind.JOBCENTRE_PLUS)
    money = await _service(
        session,
        debt,
        name="Money advice",
        name_cy="Cyngor ariannol",
        description="Free advice on debt and benefits.",
        description_cy="Cyngor am ddim ar ddyledion a budd-daliadau.",
        eligibility="Anyone living in Wrexham.",
        purposes=[Purpose.DEBT_ADVICE, Purpose.BENEFITS_ADVICE],
        languages=["en", "cy"],
        area_served=["LL11", "LL12", "LL13"],
        contact_email="money.team@example.org",
        opening_hours="Monday to Friday, 9am to 5pm",
        locations=[
            _place("Wrexham Library", "Rhosddu Road", "Wrexham", "LL11 1AU", exact=True),
            _place("Caia Park hub", "Prince Charles Road", "Wrexham", "LL13 8TH"),
        ],
    )
    housing = await _service(
        session,
        debt,
        name="Housing help",
        purposes=[Purpose.HOUSING_SUPPORT],
        accepting_referrals=False,
        locations=[_place("Mold office", "High Street", "Mold", "CH7 1AB")],
    )
    phone_line = await _service(session, debt, name="Advice line", purposes=[Purpose.DEBT_ADVICE])
    work_coach = await _service(
        session,
        jobcentre,
        name="Work coach",
        purposes=[Purpose.JOB_SEARCH_SUPPORT],
        locations=[_place("Chester Jobcentre", "Hamilton Place", "Chester", "CH1 2HJ")],
    )
    return Directory(debt, jobcentre, money, housing, phone_line, work_coach)


async def load_test_centroids() -> None:
    rows = [PostcodeCentroid(postcode=p, latitude=lat, longitude=lon) for p, (lat, lon) in CENTROIDS.items()]
    report = places.CentroidFile(loaded=len(rows))
    await committed(lambda s: places.load_centroids(s, SYSTEM, rows, report))


async def make_directory() -> Directory:
    """The directory, with the centroids of its postcodes loaded."""
    await load_test_centroids()
    return await committed(_build)
