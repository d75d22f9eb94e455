"""The auditor's pages without a browser: a referral's trail in plain words, its download, and
events found by who acted and when."""

import csv
import html
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from app.models.audit import ActorKind, AuditEvent
from app.models.identity import Role
from app.services import trails
from app.services.actors import Actor
from app.unit_of_work import committed
from tests.support.factories import seal
from tests.support.trail_story import TrailStory, headers_of, make_trail, staff
from tests.support.web_support import api, browser, csrf_of, sign_in, signed_in_as

CENTRE, DEBT = "Caia Park Children's Centre", "North Wales Debt Advice"


def text_of(page: httpx.Response) -> str:
    """The page's text as a reader sees it: entities decoded, runs of white space made one."""
    return " ".join(html.unescape(page.text).split())


async def trail_page(app: FastAPI, story: TrailStory, show: str | None = None) -> httpx.Response:
    async with browser(app) as client:
        await signed_in_as(client, None, Role.AUDITOR)
        query = f"?show={show}" if show else ""
        page = await client.get(f"/audit/referrals/{story.referral['id']}{query}")
    assert page.status_code == 200, page.text
    return page


async def test_the_trail_names_people_by_name_and_agency_and_folds_their_views(app: FastAPI) -> None:
    async with api(app) as partner:
        story = await make_trail(partner, views=4)
    page = text_of(await trail_page(app, story))

    assert f"Nia Evans ({CENTRE}) made the referral" in page
    assert f"Sam Jones ({DEBT}) opened the referral 4 times" in page
    assert f"Sam Jones ({DEBT}) saw the referral in a list of referrals 2 times" in page
    assert f"Sam Jones ({DEBT}) accepted the referral" in page
    assert f"Sam Jones ({DEBT}) assigned the referral to Ceri Jones" in page
    assert f"Debt case system (partner system of {DEBT}) opened the referral" in page
    assert "Purpose: Debt advice" in page
    assert page.count("opened the referral") == 2  # Sam's four views are one line
    assert "Natalie" not in page
    assert "Example" not in page


async def test_the_trail_tells_changes_from_views_and_filters_them(app: FastAPI) -> None:
    async with api(app) as partner:
        story = await make_trail(partner, views=2)
    everything = await trail_page(app, story)
    changes = text_of(await trail_page(app, story, "changes"))
    views = text_of(await trail_page(app, story, "views"))

    assert 'class="app-timeline__item app-timeline__item--view"' in everything.text
    assert 'class="app-timeline__item app-timeline__item--change"' in everything.text
    assert "accepted the referral" in changes
    assert "opened the referral" not in changes
    assert "opened the referral" in views
    assert "accepted the referral" not in views
    assert 'aria-current="page">Views (' in html.unescape((await trail_page(app, story, "views")).text)


async def test_views_fold_per_person_per_day_in_uk_time() -> None:
    sam = Actor(ActorKind.USER, "sam", "Sam Jones", None, "Debt")
    nia = Actor(ActorKind.USER, "nia", "Nia Evans", None, "Centre")
    # 23:30 UTC on 30 June is half past midnight on 1 July in the UK (summer time).
    times = [datetime(2026, 6, 30, 9, tzinfo=UTC), datetime(2026, 6, 30, 15, tzinfo=UTC)]
    times += [datetime(2026, 6, 30, 23, 30, tzinfo=UTC)]
    events = [_event(n, at, sam, "referral.viewed") for n, at in enumerate(times)]
    events += [_event(3, times[1], nia, "referral.viewed"), _event(4, times[1], sam, "referral.transitioned")]

    days = trails.fold_by_day(sorted(events, key=lambda e: e.at))

    assert [d.day for d in days] == [date(2026, 6, 30), date(2026, 7, 1)]
    first = [(e.event.actor.name, e.event.action, e.count) for e in days[0].entries]
    assert first == [
        ("Sam Jones", "referral.viewed", 2),
        ("Nia Evans", "referral.viewed", 1),
        ("Sam Jones", "referral.transitioned", 1),
    ]
    assert days[0].entries[0].last is not None
    assert days[0].entries[0].last.seq == 1
    assert [(e.event.seq, e.count) for e in days[1].entries] == [(2, 1)]


def _event(seq: int, at: datetime, actor: Actor, action: str) -> trails.TrailEvent:
    return trails.TrailEvent(seq, at, action, trails.kind_of(action), actor, {}, uuid.uuid4(), {})


async def test_the_trail_download_is_defused_and_recorded_as_an_export(app: FastAPI) -> None:
    async with api(app) as partner:
        story = await make_trail(partner, views=1)
        prankster = await staff(story.net.debt, '=HYPERLINK("http://evil.example","Sam")')
        headers = await headers_of(partner, prankster)
        assert (
            await partner.get(f"/v1/referrals/{story.referral['id']}", headers=headers)
        ).status_code == 200
    await seal()
    async with browser(app) as client:
        auditor = await signed_in_as(client, None, Role.AUDITOR)
        download = await client.get(f"/audit/referrals/{story.referral['id']}/trail.csv?show=views")

    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    reference = story.referral["reference"]
    assert download.headers["content-disposition"] == f'attachment; filename="audit-trail-{reference}.csv"'
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0][:4] == ["Event number", "Time (UTC)", "Change or view", "Who"]
    assert {row[2] for row in rows[1:]} == {"View"}
    pranks = [row for row in rows if "HYPERLINK" in row[3]]
    assert pranks
    assert all(row[3].startswith("'=") and row[5].startswith("'=") for row in pranks)
    export = await _events(action="audit.exported", actor_id=str(auditor.id))
    assert [(e.referral_id, e.details["format"], e.details["count"]) for e in export] == [
        (uuid.UUID(story.referral["id"]), "csv", len(rows) - 1)
    ]


async def _events(**equal: Any) -> list[AuditEvent]:
    async def read(session: Any) -> list[AuditEvent]:
        query = select(AuditEvent).where(*(col(getattr(AuditEvent, k)) == v for k, v in equal.items()))
        return list((await session.execute(query.order_by(col(AuditEvent.id)))).scalars())

    return await committed(read)


async def test_reading_a_trail_is_an_audited_search(app: FastAPI) -> None:
    async with api(app) as partner:
        story = await make_trail(partner, views=1)
    async with browser(app) as client:
        auditor = await signed_in_as(client, None, Role.AUDITOR)
        await client.get(f"/audit/referrals/{story.referral['id']}")
        await seal()
        again = text_of(await client.get(f"/audit/referrals/{story.referral['id']}"))
    searched = await _events(action="audit.searched", actor_id=str(auditor.id))
    assert searched[0].referral_id == uuid.UUID(story.referral["id"])
    assert searched[0].details["shown"] == "everything"
    assert f"{auditor.display_name} (auditor) read this audit trail" in again


async def find_events(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    home = await client.get("/audit")
    return await client.post("/audit/events", data={"csrf_token": csrf_of(home), **fields})


async def test_an_auditor_finds_what_someone_did_by_their_name(app: FastAPI) -> None:
    async with api(app) as partner:
        story = await make_trail(partner, views=2)
    today = date.today()
    async with browser(app) as client:
        auditor = await signed_in_as(client, None, Role.AUDITOR)
        found = await find_events(
            client, actor_name="  sam JONES ", **_day("from", today), **_day("to", today)
        )
        events = await client.get(found.headers["location"])
    assert found.status_code == 303
    location = found.headers["location"]
    assert location.startswith(f"/audit/events?actor_id={story.sam.id}&from={today}&to={today}")
    assert "sam" not in location.lower()
    assert "jones" not in location.lower()
    page = text_of(events)
    assert f"Everything Sam Jones ({DEBT}) did or saw." in page
    assert f"Sam Jones ({DEBT}) accepted the referral" in page
    assert f"Sam Jones ({DEBT}) looked at a list of referrals" in page
    assert f"Audit trail of referral {story.referral['reference']}" in page
    assert "Nia Evans" not in page
    searched = await _events(action="audit.searched", actor_id=str(auditor.id))
    assert [e.details.get("by") for e in searched] == ["name", None]
    assert searched[0].details["found"] == 1
    assert searched[1].details["actor_id"] == str(story.sam.id)
    assert "Sam" not in str([e.details for e in searched])


async def test_a_name_several_share_offers_a_choice_and_an_unknown_name_is_an_error(app: FastAPI) -> None:
    async with api(app) as partner:
        story = await make_trail(partner, views=1)
    async with browser(app) as client:
        await signed_in_as(client, None, Role.AUDITOR)
        several = await find_events(client, actor_name="jones")
        nobody = await find_events(client, actor_name="Gwen Price")
        system = await find_events(client, actor_name="case system")
    assert several.status_code == 200
    assert f'href="/audit/events?actor_id={story.sam.id}"' in several.text
    assert f'href="/audit/events?actor_id={story.ceri.id}"' in several.text
    assert "2 members of staff or partner systems have a name like that." in text_of(several)
    assert nobody.status_code == 400
    assert "No member of staff or partner system has a name like that" in nobody.text
    assert system.headers["location"] == f"/audit/events?actor_id={story.system.client_id}"


def _day(name: str, day: date) -> dict[str, str]:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}


async def test_dates_are_checked_as_govuk_asks(app: FastAPI) -> None:
    today = date.today()
    async with browser(app) as client:
        await signed_in_as(client, None, Role.AUDITOR)
        nothing = await find_events(client)
        partial = await find_events(client, **{"from-day": "3", "from-year": "2026"})
        unreal = await find_events(client, **{"from-day": "30", "from-month": "2", "from-year": "2026"})
        future = await find_events(client, **_day("from", today + timedelta(days=2)))
        backwards = await find_events(client, **_day("from", today), **_day("to", today - timedelta(days=1)))
    assert "Enter a name, a date, or both" in nothing.text
    assert "Date from must include a month" in partial.text
    assert 'href="#from-month"' in partial.text
    assert 'id="from-month" name="from-month" type="text" inputmode="numeric">' not in partial.text
    assert "govuk-input--error" in partial.text
    assert "Date from must be a real date" in unreal.text
    assert "Date from must be today or in the past" in future.text
    assert "Date to must be the same as or after" in backwards.text
    for page in (nothing, partial, unreal, future, backwards):
        assert page.status_code == 400
        assert "There is a problem" in page.text


async def test_events_on_dates_alone_are_everyone_s(app: FastAPI) -> None:
    async with api(app) as partner:
        story = await make_trail(partner, views=1)
    yesterday = date.today() - timedelta(days=1)
    async with browser(app) as client:
        await signed_in_as(client, None, Role.AUDITOR)
        found = await find_events(client, **_day("from", date.today()))
        today = text_of(await client.get(found.headers["location"]))
        before = await find_events(client, **_day("to", yesterday))
        none = text_of(await client.get(before.headers["location"]))
    assert found.headers["location"] == f"/audit/events?from={date.today()}"
    assert f"Nia Evans ({CENTRE}) made the referral" in today
    assert "Everything done or seen by anyone." in today
    assert story.referral["reference"] in today
    assert "No events match your search." in none


async def test_staff_cannot_read_trails_or_search_events(app: FastAPI) -> None:
    async with api(app) as partner:
        story = await make_trail(partner, views=1)
    async with browser(app) as client:
        await sign_in(client, story.sam.username)
        pages = [
            await client.get(f"/audit/referrals/{story.referral['id']}"),
            await client.get(f"/audit/referrals/{story.referral['id']}/trail.csv"),
            await client.get(f"/audit/events?actor_id={story.nia.id}"),
        ]
    assert [p.status_code for p in pages] == [403, 403, 403]
