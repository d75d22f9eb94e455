"""Follow-ups: job sustainment checks after a job entry, support resumed when a referral the
sender expects the person back from closes, and nothing about either for anyone else."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import col

from app import worker
from app.config import Settings, get_settings
from app.db import get_sessionmaker, utcnow
from app.models.audit import AuditEvent
from app.models.events import DomainEvent, EventType
from app.models.follow_up import FollowUp, FollowUpKind, FollowUpResult, FollowUpStatus
from app.models.identity import NotificationKind, Role
from app.models.notification import Notification, NotificationStatus
from app.models.webhooks import WebhookDelivery
from app.services import follow_ups, retention
from app.unit_of_work import committed
from tests.support.factories import MINTED, bearer, seal
from tests.support.referral_helpers import (
    Network,
    create_referral,
    move,
    platform_subject,
    referral_body,
    subject_body,
)
from tests.support.staff import make_staff
from tests.support.webhook_support import allow_loopback, subscribe

JOB_ON = date.today() - timedelta(days=7)
UNREACHED = {"result": "unable_to_contact"}
WEEK_13, WEEK_26 = JOB_ON + timedelta(weeks=13), JOB_ON + timedelta(weeks=26)


async def accepted(client: httpx.AsyncClient, net: Network, **overrides: Any) -> dict[str, Any]:
    referral = await create_referral(client, net, **overrides)
    response = await move(client, referral, net.debt_headers, "accepted")
    assert response.status_code == 200, response.text
    return referral


async def record(
    client: httpx.AsyncClient, referral: dict[str, Any], headers: dict[str, str], type_: str, on: date
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/referrals/{referral['id']}/outcomes",
        json={"type": type_, "occurred_on": on.isoformat()},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def stored() -> list[FollowUp]:
    async with get_sessionmaker()() as session:
        query = select(FollowUp).order_by(col(FollowUp.due_on), col(FollowUp.id))
        return list((await session.execute(query)).scalars())


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/follow-ups", params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def audit_actions(prefix: str) -> list[str]:
    async with get_sessionmaker()() as session:
        query = select(col(AuditEvent.action)).where(col(AuditEvent.action).startswith(prefix))
        return list((await session.execute(query)).scalars())


async def notifications_of(kind: NotificationKind) -> list[Notification]:
    async with get_sessionmaker()() as session:
        query = select(Notification).where(col(Notification.kind) == kind)
        return list((await session.execute(query)).scalars())


async def with_job_entry(client: httpx.AsyncClient, net: Network) -> dict[str, Any]:
    referral = await accepted(client, net)
    await record(client, referral, net.debt_headers, "job_entry", JOB_ON)
    return referral


def on_day(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    monkeypatch.setattr(follow_ups, "today", lambda: day)


async def test_a_job_entry_schedules_13_and_26_week_follow_ups_for_the_recording_agency_only(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await with_job_entry(client, net)
    await record(client, referral, net.debt_headers, "engaged_with_service", JOB_ON)

    found = await stored()
    assert [(f.kind, f.due_on, f.agency_id) for f in found] == [
        (FollowUpKind.JOB_SUSTAINMENT_13_WEEKS, WEEK_13, net.debt.id),
        (FollowUpKind.JOB_SUSTAINMENT_26_WEEKS, WEEK_26, net.debt.id),
    ]
    assert all(f.source_outcome_id is not None for f in found)
    assert await audit_actions("follow_up.scheduled") == ["follow_up.scheduled"] * 2

    mine = await listed(client, net.debt_headers, status="upcoming")
    assert [(i["kind"], i["due_on"], i["status"]) for i in mine] == [
        ("job_sustainment_13_weeks", WEEK_13.isoformat(), "upcoming"),
        ("job_sustainment_26_weeks", WEEK_26.isoformat(), "upcoming"),
    ]
    assert await listed(client, net.centre_headers) == []
    assert await listed(client, net.outsider_headers) == []


async def test_the_weeks_come_from_the_setting(
    client: httpx.AsyncClient, net: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "follow_up_weeks", {"training_completed": [26]})
    referral = await with_job_entry(client, net)
    await record(client, referral, net.centre_headers, "training_completed", JOB_ON)

    assert [(f.kind, f.agency_id) for f in await stored()] == [
        (FollowUpKind.JOB_SUSTAINMENT_26_WEEKS, net.centre.id)
    ]


async def test_another_agency_can_neither_complete_nor_snooze_them(
    client: httpx.AsyncClient, net: Network
) -> None:
    await with_job_entry(client, net)
    first = (await stored())[0]
    for headers in (net.centre_headers, net.outsider_headers):
        done = await client.post(
            f"/v1/follow-ups/{first.id}/complete", json={"result": "unable_to_contact"}, headers=headers
        )
        snoozed = await client.post(
            f"/v1/follow-ups/{first.id}/snooze",
            json={"due_on": WEEK_26.isoformat(), "note": "On holiday"},
            headers=headers,
        )
        assert (done.status_code, snoozed.status_code) == (404, 404)
    unknown = await client.post(
        f"/v1/follow-ups/{uuid.uuid4()}/complete",
        json={"result": "unable_to_contact"},
        headers=net.debt_headers,
    )
    assert unknown.status_code == 404
    assert (await stored())[0].done_at is None


async def test_the_list_is_due_upcoming_or_done_by_the_day(
    client: httpx.AsyncClient, net: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    await with_job_entry(client, net)
    on_day(monkeypatch, WEEK_13)

    due = await listed(client, net.debt_headers, status="due")
    assert [i["kind"] for i in due] == ["job_sustainment_13_weeks"]
    assert due[0]["status"] == "due"
    assert [i["kind"] for i in await listed(client, net.debt_headers, status="upcoming")] == [
        "job_sustainment_26_weeks"
    ]
    before = await listed(client, net.debt_headers, due_before=(WEEK_13 + timedelta(days=1)).isoformat())
    assert [i["kind"] for i in before] == ["job_sustainment_13_weeks"]

    done = await client.post(
        f"/v1/follow-ups/{due[0]['id']}/complete",
        json={"result": "unable_to_contact"},
        headers=net.debt_headers,
    )
    assert done.status_code == 200, done.text
    assert [i["id"] for i in await listed(client, net.debt_headers, status="done")] == [due[0]["id"]]
    assert await listed(client, net.debt_headers, status="due") == []

    # The service takes the day as a parameter too.
    caller = MINTED[net.debt_headers["Authorization"].removeprefix("Bearer ")]
    page = await committed(
        lambda s: follow_ups.list_own(s, caller, status=FollowUpStatus.UPCOMING, today=WEEK_26)
    )
    assert page.items == []
    page = await committed(lambda s: follow_ups.list_own(s, caller, status=FollowUpStatus.DUE, today=WEEK_26))
    assert [i.kind for i in page.items] == [FollowUpKind.JOB_SUSTAINMENT_26_WEEKS]


async def test_the_list_pages_and_each_listing_is_audited_against_the_referral(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await with_job_entry(client, net)
    first = await client.get("/v1/follow-ups", params={"limit": "1"}, headers=net.debt_headers)
    cursor = first.json()["next_cursor"]
    second = await client.get(
        "/v1/follow-ups", params={"limit": "1", "cursor": cursor}, headers=net.debt_headers
    )
    assert [i["kind"] for i in first.json()["items"] + second.json()["items"]] == [
        "job_sustainment_13_weeks",
        "job_sustainment_26_weeks",
    ]
    assert second.json()["next_cursor"] is None
    async with get_sessionmaker()() as session:
        query = select(AuditEvent).where(col(AuditEvent.action) == "follow_up.listed")
        events = list((await session.execute(query)).scalars())
    assert [str(e.referral_id) for e in events] == [referral["id"]] * 2
    assert all(e.subject_id is not None for e in events)


async def test_completing_with_an_outcome_records_it_on_the_referral(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await with_job_entry(client, net)
    first = (await stored())[0]
    body = {"outcome": {"type": "job_sustained_13_weeks", "occurred_on": date.today().isoformat()}}

    response = await client.post(f"/v1/follow-ups/{first.id}/complete", json=body, headers=net.debt_headers)

    assert response.status_code == 200, response.text
    done = response.json()
    assert done["status"] == "done"
    assert done["result"] == "outcome_recorded"
    outcomes = (
        await client.get(f"/v1/referrals/{referral['id']}/outcomes", headers=net.centre_headers)
    ).json()
    assert [o["type"] for o in outcomes["items"]] == ["job_entry", "job_sustained_13_weeks"]
    assert done["outcome_id"] == outcomes["items"][1]["id"]
    view = (await client.get(f"/v1/referrals/{referral['id']}", headers=net.centre_headers)).json()
    assert view["outcome_count"] == 2
    assert "follow_up.completed" in await audit_actions("follow_up.")
    async with get_sessionmaker()() as session:
        types = (await session.execute(select(col(DomainEvent.type)))).scalars().all()
    assert types.count(EventType.OUTCOME_RECORDED.value) == 2

    again = await client.post(f"/v1/follow-ups/{first.id}/complete", json=body, headers=net.debt_headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_unable_to_contact_and_what_a_completion_must_say(
    client: httpx.AsyncClient, net: Network
) -> None:
    await with_job_entry(client, net)
    first = (await stored())[0]
    url = f"/v1/follow-ups/{first.id}/complete"
    both = {
        "result": "unable_to_contact",
        "outcome": {"type": "job_not_sustained", "occurred_on": "2026-01-05"},
    }
    resumed = {"result": "support_resumed"}  # for a resume_support follow-up only
    for wrong in ({}, {"result": "outcome_recorded"}, {"result": "consent_withdrawn"}, both, resumed):
        response = await client.post(url, json=wrong, headers=net.debt_headers)
        assert response.status_code == 422, wrong

    response = await client.post(url, json=UNREACHED, headers=net.debt_headers)

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["result"]) == ("done", "unable_to_contact")
    assert response.json()["outcome_id"] is None


async def test_snoozing_moves_the_date_keeps_the_note_and_announces_it_again(
    client: httpx.AsyncClient, net: Network
) -> None:
    await with_job_entry(client, net)
    first = (await stored())[0]
    assert await committed(lambda s: follow_ups.announce_due(s, WEEK_13)) == 1
    url = f"/v1/follow-ups/{first.id}/snooze"

    past = await client.post(
        url,
        json={"due_on": (date.today() - timedelta(days=1)).isoformat(), "note": "x"},
        headers=net.debt_headers,
    )
    assert past.status_code == 422
    later = date.today() + timedelta(days=30)
    response = await client.post(
        url, json={"due_on": later.isoformat(), "note": "Starts a new contract"}, headers=net.debt_headers
    )

    assert response.status_code == 200, response.text
    assert (response.json()["due_on"], response.json()["snooze_note"]) == (
        later.isoformat(),
        "Starts a new contract",
    )
    (snoozed,) = [f for f in await stored() if f.id == first.id]
    assert snoozed.announced_on is None
    assert await committed(lambda s: follow_ups.announce_due(s, later)) == 1
    assert "follow_up.snoozed" in await audit_actions("follow_up.")

    await client.post(
        f"/v1/follow-ups/{first.id}/complete", json={"result": "unable_to_contact"}, headers=net.debt_headers
    )
    done = await client.post(
        url, json={"due_on": later.isoformat(), "note": "again"}, headers=net.debt_headers
    )
    assert done.status_code == 409


async def test_falling_due_tells_the_owning_agency_only(
    client: httpx.AsyncClient, net: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_staff(client, net.debt, email="ann@debt.example")
    await make_staff(client, net.centre, email="bea@centre.example")
    referral = await with_job_entry(client, net)
    settings = allow_loopback(monkeypatch)
    debt_hook = await subscribe(settings, net.debt, "http://127.0.0.1:9/debt")
    centre_hook = await subscribe(settings, net.centre, "http://127.0.0.1:9/centre")

    assert await committed(lambda s: follow_ups.announce_due(s, WEEK_13 - timedelta(days=1))) == 0
    assert await committed(lambda s: follow_ups.announce_due(s, WEEK_13)) == 1
    assert await committed(lambda s: follow_ups.announce_due(s, WEEK_13)) == 0
    await seal()

    def due_events(page: dict[str, Any]) -> list[dict[str, Any]]:
        return [e for e in page["items"] if e["type"] == "follow_up.due"]

    debt_feed = (await client.get("/v1/events", headers=net.debt_headers)).json()
    centre_feed = (await client.get("/v1/events", headers=net.centre_headers)).json()
    (event,) = due_events(debt_feed)
    assert event["referral_id"] == referral["id"]
    assert due_events(centre_feed) == []
    async with get_sessionmaker()() as session:
        deliveries = (await session.execute(select(WebhookDelivery))).scalars().all()
    due_deliveries = [d for d in deliveries if d.event_type == "follow_up.due"]
    assert [d.subscription_id for d in due_deliveries] == [debt_hook.id]
    assert centre_hook.id not in {d.subscription_id for d in due_deliveries}

    (told,) = await notifications_of(NotificationKind.FOLLOW_UP_DUE)
    assert told.recipient_email == "ann@debt.example"
    assert told.referral_reference == referral["reference"]
    assert told.link is not None
    assert told.link.endswith(f"/referrals/{referral['id']}")
    for personal in ("Natalie", "Example", "LL13", "07700900123", "Rent arrears"):
        assert personal not in told.subject + told.body


async def test_a_closed_referral_returns_the_person_to_the_referrer(
    client: httpx.AsyncClient, net: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sent by an account with no address: the sending team is told.
    await make_staff(client, net.centre, email="bea@centre.example")
    await make_staff(client, net.debt, email="ann@debt.example")
    referral = await create_referral(client, net, return_to_referrer=True)
    assert referral["return_to_referrer"] is True
    await move(client, referral, net.debt_headers, "accepted")
    await record(client, referral, net.debt_headers, "engaged_with_service", date.today())
    today = date.today()
    on_day(monkeypatch, today)

    assert (await move(client, referral, net.debt_headers, "completed")).status_code == 200

    (back,) = await stored()
    assert (back.kind, back.due_on, back.agency_id) == (FollowUpKind.RESUME_SUPPORT, today, net.centre.id)
    assert back.announced_on == today
    due = await listed(client, net.centre_headers, status="due")
    assert [i["kind"] for i in due] == ["resume_support"]
    assert await listed(client, net.debt_headers) == []
    told = await notifications_of(NotificationKind.FOLLOW_UP_DUE)
    assert [n.recipient_email for n in told] == ["bea@centre.example"]
    assert told[0].agency_id == net.centre.id
    assert "Natalie" not in told[0].body
    await seal()
    debt_feed = (await client.get("/v1/events", headers=net.debt_headers)).json()
    centre_feed = (await client.get("/v1/events", headers=net.centre_headers)).json()
    assert "follow_up.due" not in [e["type"] for e in debt_feed["items"]]
    announced = [e["referral_id"] for e in centre_feed["items"] if e["type"] == "follow_up.due"]
    assert announced == [referral["id"]]


async def test_the_sending_user_is_told_when_they_sent_it(client: httpx.AsyncClient, net: Network) -> None:
    sender = await make_staff(client, net.centre, email="bea@centre.example")
    await make_staff(client, net.centre, email="cat@centre.example")
    response = await client.post(
        "/v1/referrals",
        json=referral_body(net.debt_service, return_to_referrer=True),
        headers=sender.headers,
    )
    referral = response.json()
    assert referral["return_to_referrer"] is True

    assert (
        await move(client, referral, net.debt_headers, "declined", reason_code="no_capacity")
    ).status_code == 200

    told = await notifications_of(NotificationKind.FOLLOW_UP_DUE)
    assert [n.recipient_email for n in told] == ["bea@centre.example"]


async def test_withdrawing_consent_also_returns_the_person(client: httpx.AsyncClient, net: Network) -> None:
    referral = await create_referral(client, net, return_to_referrer=True)
    assert referral["return_to_referrer"] is True

    response = await client.post(
        f"/v1/consents/{referral['consent_id']}/withdraw",
        json={"reason": "Changed mind"},
        headers=net.debt_headers,
    )

    assert response.status_code == 200, response.text
    (back,) = await stored()
    assert (back.kind, back.agency_id, back.due_on) == (
        FollowUpKind.RESUME_SUPPORT,
        net.centre.id,
        utcnow().date(),
    )


async def test_the_referrer_completes_resume_support_by_saying_support_resumed(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await create_referral(client, net, return_to_referrer=True)
    await move(client, referral, net.debt_headers, "declined", reason_code="no_capacity")
    (back,) = await stored()

    response = await client.post(
        f"/v1/follow-ups/{back.id}/complete", json={"result": "support_resumed"}, headers=net.centre_headers
    )

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["result"]) == ("done", "support_resumed")


async def test_withdrawing_consent_closes_the_job_follow_ups(client: httpx.AsyncClient, net: Network) -> None:
    referral = await with_job_entry(client, net)

    response = await client.post(
        f"/v1/consents/{referral['consent_id']}/withdraw",
        json={"reason": "Changed mind"},
        headers=net.debt_headers,
    )

    assert response.status_code == 200, response.text
    closed = await stored()
    assert [(f.kind, f.result) for f in closed] == [
        (FollowUpKind.JOB_SUSTAINMENT_13_WEEKS, FollowUpResult.CONSENT_WITHDRAWN),
        (FollowUpKind.JOB_SUSTAINMENT_26_WEEKS, FollowUpResult.CONSENT_WITHDRAWN),
    ]
    assert all(f.done_at is not None for f in closed)
    assert await listed(client, net.debt_headers, status="due") == []
    assert "follow_up.closed" in await audit_actions("follow_up.")


async def test_without_return_to_referrer_closing_makes_no_follow_up(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await create_referral(client, net)
    await move(client, referral, net.debt_headers, "declined", reason_code="not_eligible")
    other = await create_referral(client, net, subject=subject_body(given_name="Other"))
    await move(client, other, net.centre_headers, "cancelled", reason_code="other", note="Moved away")

    assert await stored() == []
    assert await notifications_of(NotificationKind.FOLLOW_UP_DUE) == []


async def test_retention_neutralises_snooze_notes(client: httpx.AsyncClient, net: Network) -> None:
    referral = await with_job_entry(client, net)
    first = (await stored())[0]
    await client.post(
        f"/v1/follow-ups/{first.id}/snooze",
        json={"due_on": WEEK_26.isoformat(), "note": "Natalie is on maternity leave"},
        headers=net.debt_headers,
    )
    await record(client, referral, net.debt_headers, "engaged_with_service", JOB_ON)
    await move(client, referral, net.debt_headers, "completed")

    assert await committed(lambda s: retention.anonymise_batch(s, utcnow() + timedelta(days=1), 10)) == 1

    notes = {f.id: f.snooze_note for f in await stored()}
    assert notes[first.id] == retention.PLACEHOLDER
    assert [n for i, n in notes.items() if i != first.id] == [None]


async def test_the_subject_access_export_lists_the_follow_ups(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await with_job_entry(client, net)

    response = await client.get(
        f"/v1/subjects/{await platform_subject(referral)}/export", headers=bearer(None, Role.AUDITOR)
    )

    assert response.status_code == 200, response.text
    (exported,) = response.json()["referrals"]
    assert [(f["kind"], f["status"], f["result"]) for f in exported["follow_ups"]] == [
        ("job_sustainment_13_weeks", "upcoming", None),
        ("job_sustainment_26_weeks", "upcoming", None),
    ]


async def test_the_worker_announces_what_falls_due(client: httpx.AsyncClient, net: Network) -> None:
    await make_staff(client, net.debt, email="ann@debt.example")
    await with_job_entry(client, net)
    first = (await stored())[0]
    today = {"due_on": utcnow().date().isoformat(), "note": "Call back today"}
    await client.post(f"/v1/follow-ups/{first.id}/snooze", json=today, headers=net.debt_headers)
    later = datetime.combine(WEEK_26, time(9), tzinfo=UTC)

    await worker.run(get_settings(), once=True)

    (told,) = await notifications_of(NotificationKind.FOLLOW_UP_DUE)
    assert told.status == NotificationStatus.SENT
    assert [f.announced_on for f in await stored()] == [utcnow().date(), None]
    assert await worker.announce_follow_ups(clock=lambda: later) == 1


def test_follow_up_weeks_are_read_as_json_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOW_UP_WEEKS", '{"job_entry": [13], "training_completed": [26]}')
    assert Settings().follow_up_weeks == {"job_entry": [13], "training_completed": [26]}
    for wrong in ('{"job_entry": [52]}', '{"job_entyr": [13]}'):
        monkeypatch.setenv("FOLLOW_UP_WEEKS", wrong)
        with pytest.raises(ValidationError, match="FOLLOW_UP_WEEKS"):
            Settings()
