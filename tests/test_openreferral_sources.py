"""Importing from files, with a mapping of one's own, from the command line, from the exchange's
own published feed, and every day from the worker; and loading postcode centroids."""

import io
import json
import math
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.config import Settings, get_settings
from app.db import get_sessionmaker
from app.models.directory import Purpose, Service
from app.models.locations import PostcodeCentroid
from app.openreferral.feed import FeedError
from app.openreferral.publish import PREFIX
from app.openreferral.sources import import_source
from app.services import directory, places
from tests.support.factories import SYSTEM
from tests.support.fake_feed import BASE, FakeFeed, service_id
from tests.support.openreferral import Directory, make_directory
from tests.test_cli import run_cli

ONS_HEADER = "pcd,pcd2,pcds,dointr,doterm,oscty,lat,long\n"


def settings(**changes: Any) -> Settings:
    return get_settings().model_copy(update=changes)


async def services_count() -> int:
    async with get_sessionmaker()() as session:
        return int(await session.scalar(select(func.count()).select_from(Service)) or 0)


async def by_external_id(external_id: str) -> Service:
    async with get_sessionmaker()() as session:
        found = await directory.service_by_external_id(session, external_id)
    assert found is not None
    return found


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


async def test_a_file_may_hold_a_page_or_a_list_of_full_services(tmp_path: Path) -> None:
    records = FakeFeed().records
    page = write(tmp_path / "page.json", FakeFeed().page(1) | {"contents": records[:2]})
    listed = write(tmp_path / "list.json", records)

    first = await import_source(get_settings(), str(page), SYSTEM)
    second = await import_source(get_settings(), str(listed), SYSTEM)

    assert first.counts()["services_created"] == 2
    assert (second.counts()["services_created"], second.counts()["services_unchanged"]) == (2, 2)
    assert await services_count() == 4


async def test_a_bad_file_names_what_is_wrong_and_changes_nothing(tmp_path: Path) -> None:
    records = FakeFeed().records
    orphan = write(
        tmp_path / "orphan.json", [records[0], {k: v for k, v in records[2].items() if k != "organization"}]
    )
    cases = {
        str(tmp_path / "missing.json"): "cannot read",
        str(write(tmp_path / "odd.json", {"services": []})): "expected a page of services",
        str(orphan): f"service 2 (id {service_id('jobs')}): organization: field required",
    }
    (tmp_path / "broken.json").write_text("[{", encoding="utf-8")
    cases[str(tmp_path / "broken.json")] = "is not JSON"

    for source, message in cases.items():
        with pytest.raises(FeedError, match=re.escape(message)):
            await import_source(get_settings(), source, SYSTEM)
    assert await services_count() == 0


async def test_the_operator_maps_terms_to_purposes(tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "mapping.json", {"purposes": {"family_support": ["Play"]}, "unmatched": "other"}
    )
    bad = write(tmp_path / "bad.json", {"purposes": {"juggling": ["Play"]}})
    feed = FakeFeed()

    await import_source(get_settings(), BASE, SYSTEM, mapping_file=mapping, transport=feed.transport())
    with pytest.raises(FeedError, match="is not valid"):
        await import_source(get_settings(), BASE, SYSTEM, mapping_file=bad, transport=feed.transport())

    assert (await by_external_id(service_id("play"))).purposes == [Purpose.FAMILY_SUPPORT]
    # The shipped mapping still applies beyond what this one names: a purpose's own name.
    assert (await by_external_id(service_id("money"))).purposes == [Purpose.DEBT_ADVICE]


async def test_the_exchanges_own_feed_imports_as_it_was_published(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    published: Directory = await make_directory()
    originals = [published.money, published.housing, published.phone_line, published.work_coach]
    full = [(await client.get(f"{PREFIX}/services/{s.id}")).json() for s in originals]
    source = str(write(tmp_path / "ours.json", full))

    report = await import_source(get_settings(), source, SYSTEM)
    again = await import_source(get_settings(), source, SYSTEM)

    assert report.counts()["services_created"] == 4
    assert again.counts()["services_unchanged"] == 4
    copy, original = await by_external_id(str(published.money.id)), published.money
    same = ("name", "name_cy", "description", "description_cy", "eligibility", "languages", "area_served")
    assert {f: getattr(copy, f) for f in same} == {f: getattr(original, f) for f in same}
    assert copy.purposes == original.purposes
    assert copy.opening_hours == original.opening_hours
    assert [(p.name, p.address_1, p.town, p.postcode) for p in copy.locations] == [
        (p.name, p.address_1, p.town, p.postcode) for p in original.locations
    ]
    # Published at its postcode's centroid, the second place comes back with those coordinates.
    assert [(p.latitude, p.longitude) for p in copy.locations] == [(53.0486, -2.9935), (53.043, -2.968)]
    assert copy.accepting_referrals is False
    assert copy.contact_email is None


def test_the_command_line_imports_a_file_and_a_dry_run_keeps_nothing(tmp_path: Path) -> None:
    source = str(write(tmp_path / "feed.json", FakeFeed().records))

    dry = run_cli("directory", "import", source, "--dry-run")
    real = run_cli("directory", "import", source)
    again = run_cli("directory", "import", source)
    missing = run_cli("directory", "import", str(tmp_path / "nowhere.json"))

    assert dry.returncode == 0, dry.stderr
    assert "created service: Money Matters drop-in" in dry.stdout
    assert dry.stdout.rstrip().endswith("dry run: nothing was kept")
    assert "services: 4 created, 0 updated, 0 unchanged, 0 closed, 1 skipped" in real.stdout
    assert "services: 0 created, 0 updated, 4 unchanged, 0 closed, 1 skipped" in again.stdout
    assert missing.returncode == 1
    assert "nothing was imported" in missing.stderr


def test_the_command_line_loads_postcode_centroids(tmp_path: Path) -> None:
    csv = tmp_path / "postcodes.csv"
    csv.write_text("postcode,latitude,longitude\nLL13 9AA,53.04,-2.98\nll11 1au,53.0486,-2.9935\nnope,1,2\n")

    loaded = run_cli("directory", "load-postcodes", str(csv))

    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "loaded 2 postcode centroids; skipped 1 lines (first: [4])"


async def test_centroids_are_read_from_the_ons_directory_or_plain_rows() -> None:
    ons = io.StringIO(
        ONS_HEADER
        + '"LL139AA","LL13 9AA","LL13 9AA",198001,,W99999999,53.04,-2.98\n'
        + '"LL139ZZ","LL13 9ZZ","LL13 9ZZ",198001,200012,W99999999,99.999999,0.000000\n'
    )
    plain = io.StringIO("CH7 1AB,53.167,-3.141\n")
    report, again = places.CentroidFile(), places.CentroidFile()

    rows = [*places.read_centroids(ons, report), *places.read_centroids(plain, again)]

    assert [(r.postcode, r.latitude, r.longitude) for r in rows] == [
        ("LL13 9AA", 53.04, -2.98),
        ("CH7 1AB", 53.167, -3.141),
    ]
    assert (report.loaded, report.skipped, report.first_skipped) == (1, 1, [3])
    async with get_sessionmaker()() as session:
        await places.load_centroids(session, SYSTEM, rows, report)
        await places.load_centroids(session, SYSTEM, rows[:1], report)  # loaded again: replaced
        assert await session.scalar(select(func.count()).select_from(PostcodeCentroid)) == 2
        await session.rollback()


def test_distances_are_great_circle_distances() -> None:
    london, paris = places.Point(51.5074, -0.1278), places.Point(48.8566, 2.3522)
    wrexham = places.Point(53.0462, -2.9925)

    # A degree of a meridian is a 360th of the circumference; London to Paris is about 343.5 km.
    one_degree = places.metres_between(places.Point(52, -3), places.Point(53, -3))
    assert one_degree == pytest.approx(2 * math.pi * places.EARTH_RADIUS_METRES / 360)
    assert places.metres_between(london, paris) == pytest.approx(343_550, rel=1e-3)
    south, north, west, east = places.bounding_box(wrexham, 1000)
    assert places.metres_between(wrexham, places.Point(north, wrexham.longitude)) == pytest.approx(1000)
    assert places.metres_between(wrexham, places.Point(wrexham.latitude, east)) >= 1000
    assert south < wrexham.latitude < north
    assert west < wrexham.longitude < east
