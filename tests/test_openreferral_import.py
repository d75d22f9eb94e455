"""`directory import`: another directory's Open Referral UK feed becomes agencies and services,
found again by their ids, in one transaction; a bad feed changes nothing."""

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from app.config import Settings, get_settings
from app.db import get_sessionmaker
from app.models.audit import AuditEvent
from app.models.directory import Agency, Purpose, Service, ServiceUpdate
from app.openreferral.feed import FeedError
from app.openreferral.importer import ImportReport
from app.openreferral.sources import import_source
from app.services import directory
from app.unit_of_work import committed
from tests.support.factories import SYSTEM
from tests.support.fake_feed import BASE, FakeFeed, location_id, service_id


def settings(**changes: Any) -> Settings:
    return get_settings().model_copy(update=changes)


async def run(feed: FakeFeed, *, dry_run: bool = False, **limits: Any) -> ImportReport:
    chosen = settings(**{f"directory_import_{k}": v for k, v in limits.items()})
    return await import_source(chosen, BASE, SYSTEM, dry_run=dry_run, transport=feed.transport())


async def imported(key: str) -> Service:
    async with get_sessionmaker()() as session:
        found = await directory.service_by_external_id(session, service_id(key))
        assert found is not None, key
        return found


async def count(model: type[Agency] | type[Service] | type[AuditEvent]) -> int:
    async with get_sessionmaker()() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_paged_feed_becomes_agencies_and_services() -> None:
    feed = FakeFeed()

    report = await run(feed)

    pages = [r for r in feed.requests if "/services?" in r]
    assert len(pages) == 3
    assert await count(Agency) == 2
    assert await count(Service) == 4  # the defunct one is not added
    money = await imported("money")
    assert money.accepting_referrals is False  # until an admin turns it on
    assert (money.name, money.name_cy, money.description_cy) == (
        "Money Matters drop-in",
        "Sesiwn galw heibio",
        "Cyngor ar arian.",
    )
    assert money.purposes == [Purpose.BENEFITS_ADVICE, Purpose.DEBT_ADVICE]
    assert money.languages == ["en", "cy"]
    assert money.area_served == ["LL13"]  # "Wrexham" is not a postcode area
    assert [(p.name, p.postcode, p.latitude) for p in money.locations] == [
        ("Wrexham Library", "LL11 1AU", 53.0486),
        ("Caia Park hub", "LL13 8TH", None),
    ]
    assert money.locations[0].external_id == location_id("library")
    assert (await imported("homes")).purposes == [Purpose.HOUSING_SUPPORT]
    assert (await imported("jobs")).purposes == [Purpose.JOB_SEARCH_SUPPORT]
    assert (await imported("play")).purposes == [Purpose.OTHER]  # no term for it in the mapping
    assert (await imported("play")).locations == []  # online only
    async with get_sessionmaker()() as session:
        council = await directory.get_agency(session, (await imported("homes")).agency_id)
    assert (council.name_cy, council.local_authority) == ("Cyngor Bwrdeistref Sirol Wrecsam", "Wrexham")
    assert report.counts()["services_created"] == 4
    assert report.counts()["services_skipped"] == 1
    assert "skipped service: Old drop-in" in "\n".join(report.lines())


async def test_every_change_is_audited() -> None:
    await run(FakeFeed())

    async with get_sessionmaker()() as session:
        actions = list(await session.scalars(select(col(AuditEvent.action))))
    assert actions.count("agency.created") == 2
    assert actions.count("service.created") == 4
    assert actions.count("directory.imported") == 1


async def test_importing_the_same_feed_again_changes_nothing() -> None:
    feed = FakeFeed()
    await run(feed)
    before = [(s.id, s.updated_at) for s in [await imported(k) for k in ("money", "homes", "jobs", "play")]]
    events = await count(AuditEvent)

    again = await run(feed)

    after = [(s.id, s.updated_at) for s in [await imported(k) for k in ("money", "homes", "jobs", "play")]]
    assert after == before
    assert await count(AuditEvent) == events
    assert again.counts() | {"services_skipped": 0} == {
        "agencies_created": 0,
        "agencies_updated": 0,
        "agencies_unchanged": 2,
        "services_created": 0,
        "services_updated": 0,
        "services_unchanged": 4,
        "services_closed": 0,
        "services_skipped": 0,
    }


async def test_a_changed_feed_updates_entries_and_keeps_the_admins_choices() -> None:
    feed = FakeFeed()
    await run(feed)
    money = await imported("money")
    library_id = money.locations[0].id
    turned_on = ServiceUpdate(accepting_referrals=True, response_target_days=3)
    await committed(lambda s: directory.update_service(s, SYSTEM, money.id, turned_on))
    first = feed.records[0]
    moved = [
        first["service_at_locations"][0]
        | {"location": first["service_at_locations"][0]["location"] | {"name": "Central Library"}}
    ]
    feed.change("money", name="Money Matters advice", service_at_locations=moved)
    feed.change("homes", status="inactive")

    report = await run(feed)

    money = await imported("money")
    assert money.name == "Money Matters advice"
    assert [(p.id, p.name) for p in money.locations] == [(library_id, "Central Library")]
    assert (money.accepting_referrals, money.response_target_days) == (True, 3)
    assert (await imported("homes")).accepting_referrals is False
    lines = "\n".join(report.lines())
    assert f"updated service: Money Matters advice ({service_id('money')}): locations, name" in lines
    assert "unchanged" not in lines.split("agencies:")[0]


async def test_a_service_the_feed_closes_stops_taking_referrals() -> None:
    feed = FakeFeed()
    await run(feed)
    homes = await imported("homes")
    await committed(
        lambda s: directory.update_service(s, SYSTEM, homes.id, ServiceUpdate(accepting_referrals=True))
    )
    feed.change("homes", status="temporarily closed")

    report = await run(feed)

    assert (await imported("homes")).accepting_referrals is False
    assert report.counts()["services_closed"] == 1
    assert await count(Service) == 4  # still listed, for signposting


async def test_a_dry_run_says_what_would_change_and_keeps_nothing() -> None:
    report = await run(FakeFeed(), dry_run=True)

    assert report.counts()["services_created"] == 4
    assert await count(Service) == 0
    assert await count(Agency) == 0
    assert await count(AuditEvent) == 0


BAD_FEEDS: dict[str, tuple[dict[str, Any], str]] = {
    "missing status": (
        {},
        f"{BASE}/services/{service_id('jobs')} ('Working Wrexham'): status: field required",
    ),
    "malformed JSON": ({}, f"{BASE}/services/{service_id('homes')} did not answer JSON"),
    "too large": (
        {"max_bytes": 100_000},
        f"{BASE}/services/{service_id('money')} is larger than 100000 bytes",
    ),
    "too many pages": ({"max_pages": 5}, f"{BASE} has more than 5 pages of services"),
    "unreachable": ({}, f"cannot reach {BASE}: [Errno 111] Connection refused"),
    "too slow": ({"timeout_seconds": 2.0}, f"{BASE} did not answer within 2 seconds"),
    "server error": ({}, f"{BASE}/services?page=1&per_page=100 answered 500"),
    "not a page": ({}, f"{BASE}/services?page=1&per_page=100: not a page of services (no contents list)"),
    "address without postcode": (
        {},
        "service_at_locations.0.location.addresses.0.postal_code: field required",
    ),
}


@pytest.mark.parametrize("fault", sorted(BAD_FEEDS))
async def test_a_bad_feed_is_a_clear_error_and_changes_nothing(fault: str) -> None:
    limits, message = BAD_FEEDS[fault]

    with pytest.raises(FeedError) as raised:
        await run(FakeFeed(fault=fault), **limits)

    assert message in str(raised.value)
    assert (await count(Agency), await count(Service), await count(AuditEvent)) == (0, 0, 0)


async def test_too_many_services_is_refused() -> None:
    with pytest.raises(FeedError, match=f"{BASE} has more than 3 services"):
        await run(FakeFeed(), max_services=3)

    assert await count(Service) == 0


async def test_a_feed_that_is_bad_after_a_good_import_leaves_the_directory_as_it_was() -> None:
    feed = FakeFeed()
    await run(feed)
    feed.change("money", name="Renamed")
    feed.fault = "missing status"

    with pytest.raises(FeedError):
        await run(feed)

    assert (await imported("money")).name == "Money Matters drop-in"
