"""Natalie's journey, end to end: referred by the children's centre to Jobcentre Plus, and by Jobcentre
Plus on to debt advice, expecting her back; one job, recorded twice, counted once; kept at 13 weeks."""

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from app.db import get_sessionmaker
from app.models.identity import NotificationKind, Role
from app.models.notification import Notification
from app.services import follow_ups
from app.unit_of_work import committed
from tests.support.factories import bearer
from tests.support.journeys import jcp_service, onward_body, post, to_jcp
from tests.support.referral_helpers import Network, move, platform_subject
from tests.support.staff import make_staff

JOB_ON = date.today() - timedelta(days=3)
WEEK_13, WEEK_26 = JOB_ON + timedelta(weeks=13), JOB_ON + timedelta(weeks=26)


async def record_job(client: httpx.AsyncClient, referral: dict[str, Any], headers: dict[str, str]) -> None:
    job = {"type": "job_entry", "occurred_on": JOB_ON.isoformat()}
    response = await client.post(f"/v1/referrals/{referral['id']}/outcomes", json=job, headers=headers)
    assert response.status_code == 201, response.text


async def follow_ups_of(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    response = await client.get("/v1/follow-ups", params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def announced_on(day: date) -> int:
    async def work(session: Any) -> int:
        return await follow_ups.announce_due(session, today=day)

    return await committed(work)


async def told(kind: NotificationKind) -> list[Notification]:
    async with get_sessionmaker()() as session:
        query = select(Notification).where(col(Notification.kind) == kind)
        return list((await session.execute(query)).scalars())


async def test_natalies_journey(
    client: httpx.AsyncClient, net: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    adviser = await make_staff(client, net.outsider, email="work.coach@jcp.example")
    jcp = adviser.headers

    # The children's centre refers Natalie to Jobcentre Plus, which accepts.
    first = await post(client, to_jcp(await jcp_service(net)), net.centre_headers)
    assert (await move(client, first, jcp, "accepted")).status_code == 200
    # Jobcentre Plus refers her on to debt advice, expecting her back: no second person, no new consent.
    onward = await post(client, onward_body(net, first, return_to_referrer=True), jcp)
    assert await platform_subject(onward) == await platform_subject(first)
    assert onward["consent_id"] == first["consent_id"]
    assert (await move(client, onward, net.debt_headers, "accepted")).status_code == 200

    # She starts work: both agencies record the one job.
    await record_job(client, first, jcp)
    await record_job(client, onward, net.debt_headers)

    # The platform report counts one job entry and one journey; the agencies count their own referrals.
    platform = (await client.get("/v1/reports/summary", headers=bearer(None, Role.AUDITOR))).json()
    group = platform["groups"][0]
    job = next(t for t in group["outcomes"] if t["type"] == "job_entry")
    assert (platform["outcome_rule"], group["journeys"], job["count"]) == (
        "once_per_person_per_journey",
        1,
        1,
    )

    # The children's centre sees its own referral on the journey and nothing of the onward one.
    seen = (await client.get(f"/v1/referrals/{first['id']}", headers=net.centre_headers)).json()
    assert [linked["id"] for linked in seen["journey"]] == [first["id"]]
    assert onward["reference"] not in str(seen)

    # Jobcentre Plus is to check at 13 and 26 weeks: upcoming now, due on the day and not before.
    upcoming = await follow_ups_of(client, jcp, status="upcoming")
    assert [(f["kind"], f["due_on"]) for f in upcoming] == [
        ("job_sustainment_13_weeks", WEEK_13.isoformat()),
        ("job_sustainment_26_weeks", WEEK_26.isoformat()),
    ]
    assert await follow_ups_of(client, net.centre_headers) == []
    assert await announced_on(WEEK_13 - timedelta(days=1)) == 0
    assert await announced_on(WEEK_13) == 2  # Jobcentre Plus's and debt advice's own 13-week checks
    monkeypatch.setattr(follow_ups, "today", lambda: WEEK_13)
    (due,) = await follow_ups_of(client, jcp, status="due")
    assert due["kind"] == "job_sustainment_13_weeks"

    # The adviser calls Natalie: still in work. The sustained job is recorded through the follow-up.
    kept = {"outcome": {"type": "job_sustained_13_weeks", "occurred_on": date.today().isoformat()}}
    done = await client.post(f"/v1/follow-ups/{due['id']}/complete", json=kept, headers=jcp)
    assert done.status_code == 200, done.text
    outcomes = (await client.get(f"/v1/referrals/{first['id']}/outcomes", headers=jcp)).json()["items"]
    assert {o["type"] for o in outcomes} == {"job_entry", "job_sustained_13_weeks"}
    report = (await client.get("/v1/reports/summary", headers=bearer(None, Role.AUDITOR))).json()
    sustained = report["groups"][0]["sustainment"][0]
    assert (sustained["kind"], sustained["followed_up"], sustained["sustained"]) == (
        "job_sustainment_13_weeks",
        1,
        1,
    )

    # Debt advice completes its work: the adviser is told to resume support, due at once.
    monkeypatch.undo()
    assert (await move(client, onward, net.debt_headers, "completed")).status_code == 200
    (resume,) = await follow_ups_of(client, jcp, status="due")
    assert (resume["kind"], resume["due_on"]) == ("resume_support", follow_ups.today().isoformat())
    (notice,) = [n for n in await told(NotificationKind.FOLLOW_UP_DUE) if str(n.referral_id) == onward["id"]]
    assert (notice.agency_id, notice.recipient_email) == (net.outsider.id, "work.coach@jcp.example")
    assert "Natalie" not in notice.body
    assert onward["reference"] in notice.body
