"""Delivering to a real HTTP receiver on loopback: signed, retried, never twice, never lost."""

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlmodel import col
from standardwebhooks import Webhook

from app import unit_of_work, worker
from app.config import Settings
from app.db import get_sessionmaker, utcnow
from app.journal import verify
from app.models.audit import AuditEvent
from app.models.events import EventType
from app.models.identity import Role
from app.models.webhooks import DeliveryStatus, SubscriptionStatus, WebhookDelivery
from app.services import delivery
from tests.support.factories import bearer, make_agency
from tests.support.referral_helpers import create_referral, make_network, move
from tests.support.webhook_support import (
    all_deliveries,
    allow_loopback,
    emit_event,
    event_ids,
    reload_subscription,
    running_receiver,
    subscribe,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    return allow_loopback(monkeypatch)


async def drain(settings: Settings, **kwargs: object) -> int:
    """Run the worker the way `worker --once` does: batches until nothing is due."""
    return await worker.run(settings, once=True, **kwargs)  # type: ignore[arg-type]


async def test_a_delivery_is_signed_as_standard_webhooks_specifies(settings: Settings) -> None:
    sender, receiver_agency = await make_agency(), await make_agency()
    with running_receiver() as receiver:
        subscription = await subscribe(settings, receiver_agency, receiver.url)
        await emit_event(sender, receiver_agency, EventType.REFERRAL_STATUS_CHANGED, "accepted")

        assert await drain(settings) == 1

    [request] = receiver.received
    [event_id] = await event_ids()
    payload = Webhook(subscription.secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == event_id
    assert request.headers["content-type"] == "application/json"
    assert payload["type"] == "referral.status_changed"
    assert payload["timestamp"].endswith("Z")
    assert payload["data"]["event_id"] == event_id
    assert payload["data"]["status"] == "accepted"
    assert payload["data"]["to_agency_id"] == str(receiver_agency.id)
    assert set(payload["data"]) == {"event_id", "referral_id", "status", "from_agency_id", "to_agency_id"}
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 44).verify(request.body, request.headers)
    [done] = await all_deliveries()
    assert done.status is DeliveryStatus.SUCCEEDED
    assert done.last_status_code == 200


async def test_a_failing_receiver_gets_every_event_once_after_it_recovers(settings: Settings) -> None:
    agency, partner = await make_agency(), await make_agency()
    down = True
    with running_receiver(lambda _id, _n: 500 if down else 204) as receiver:
        await subscribe(settings, agency, receiver.url)
        for _ in range(3):
            await emit_event(agency, partner)
        start = utcnow()

        assert await worker.deliver_due(settings, clock=lambda: start) == 3
        assert await worker.deliver_due(settings, clock=lambda: start) == 0  # backing off
        later = start + timedelta(hours=1)
        assert await worker.deliver_due(settings, clock=lambda: later) == 3
        down = False
        much_later = later + timedelta(hours=2)
        assert await worker.deliver_due(settings, clock=lambda: much_later) == 3
        assert await worker.deliver_due(settings, clock=lambda: much_later + timedelta(days=1)) == 0

    assert sorted(receiver.delivered_ids()) == sorted(await event_ids())
    assert Counter(r.status for r in receiver.received) == {500: 6, 204: 3}
    for done in await all_deliveries():
        assert done.status is DeliveryStatus.SUCCEEDED
        assert [a.status_code for a in done.attempts] == [500, 500, 204]
        assert all(a.duration_ms >= 0 for a in done.attempts)


async def test_backoff_grows_with_jitter_and_is_capped(settings: Settings) -> None:
    delays = [delivery.backoff(settings, n).total_seconds() for n in range(1, 12)]

    assert 30 <= delays[0] <= 37.5
    assert 60 <= delays[1] <= 75
    assert all(3600 <= d <= 4500 for d in delays[-3:])


async def test_a_delivery_dies_after_the_last_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = allow_loopback(monkeypatch, webhook_max_attempts=3, webhook_retry_base_seconds=0.0)
    agency = await make_agency()
    with running_receiver(lambda _id, _n: 503) as receiver:
        await subscribe(settings, agency, receiver.url)
        await emit_event(agency, await make_agency())

        assert await drain(settings) == 3

    [dead] = await all_deliveries()
    assert dead.status is DeliveryStatus.DEAD
    assert dead.next_attempt_at is None
    assert (dead.last_status_code, dead.last_error) == (503, "HTTP 503")
    assert len(receiver.received) == 3


async def test_two_workers_at_once_send_nothing_twice(settings: Settings) -> None:
    agency, partner = await make_agency(), await make_agency()
    with running_receiver(delay=0.01) as receiver:
        await subscribe(settings, agency, receiver.url)
        await subscribe(settings, partner, receiver.url)
        for _ in range(20):
            await emit_event(agency, partner)

        sent = await asyncio.gather(drain(settings, batch_size=3), drain(settings, batch_size=3))

    assert sum(sent) == 40
    assert all(sent), "both workers should have taken a share"
    per_id = Counter(receiver.delivered_ids())
    assert set(per_id) == set(await event_ids())
    assert set(per_id.values()) == {2}  # one per subscribed endpoint, never more
    assert len(receiver.received) == 40


async def test_a_worker_killed_mid_batch_loses_nothing(settings: Settings) -> None:
    agency = await make_agency()
    with running_receiver() as receiver:
        await subscribe(settings, agency, receiver.url)
        for _ in range(4):
            await emit_event(agency, await make_agency())
        start = utcnow()
        async with get_sessionmaker()() as session:  # claims, then dies before sending
            abandoned = await delivery.claim(session, settings, now=start, limit=10)
            await unit_of_work.commit(session)

        assert len(abandoned) == 4
        assert await worker.deliver_due(settings, clock=lambda: start + timedelta(seconds=30)) == 0
        after_lease = start + timedelta(seconds=settings.webhook_lease_seconds + 1)
        assert await worker.deliver_due(settings, clock=lambda: after_lease) == 4

        # The dead worker's late report does not undo what the second one delivered.
        late = [delivery.Result(job, start, 1, None, "timed out") for job in abandoned]
        async with get_sessionmaker()() as session:
            await delivery.record(session, settings, late, now=after_lease)
            await unit_of_work.commit(session)

    assert sorted(receiver.delivered_ids()) == sorted(await event_ids())
    for done in await all_deliveries():
        assert done.status is DeliveryStatus.SUCCEEDED
        assert done.attempt_count == 2


async def test_410_gone_disables_the_subscription(settings: Settings) -> None:
    agency = await make_agency()
    with running_receiver(lambda _id, _n: 410) as receiver:
        subscription = await subscribe(settings, agency, receiver.url)
        await emit_event(agency, await make_agency())

        assert await drain(settings) == 1
        await emit_event(agency, await make_agency())
        assert await drain(settings) == 0

    disabled = await reload_subscription(subscription.id)
    assert disabled.status is SubscriptionStatus.DISABLED
    assert disabled.disabled_reason == "gone"
    assert [d.status for d in await all_deliveries()] == [DeliveryStatus.DEAD]
    async with get_sessionmaker()() as session:
        actions = (
            await session.execute(select(col(AuditEvent.action)).order_by(col(AuditEvent.seq)))
        ).scalars()
        assert "webhook.disabled" in list(actions)


async def test_the_target_is_checked_again_when_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = allow_loopback(monkeypatch)
    agency = await make_agency()
    with running_receiver() as receiver:
        await subscribe(settings, agency, receiver.url)
        await emit_event(agency, await make_agency())
        monkeypatch.setattr(settings, "webhook_allow_private_targets", False)

        assert await worker.deliver_due(settings) == 1

    assert receiver.received == []
    [refused] = await all_deliveries()
    assert refused.status is DeliveryStatus.PENDING
    assert refused.last_error is not None
    assert refused.last_error.startswith("refused: ")


async def test_a_slow_receiver_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = allow_loopback(monkeypatch, webhook_timeout_seconds=0.3)
    agency = await make_agency()
    with running_receiver(delay=1.0) as receiver:
        await subscribe(settings, agency, receiver.url)
        await emit_event(agency, await make_agency())

        assert await worker.deliver_due(settings) == 1

    [slow] = await all_deliveries()
    assert (slow.status, slow.last_error) == (DeliveryStatus.PENDING, "timed out")
    assert [a.error for a in slow.attempts] == ["timed out"]
    assert receiver.received  # it did arrive; the receiver de-duplicates the retry by webhook-id


async def test_the_delivery_log_and_manual_redelivery(client: httpx.AsyncClient, settings: Settings) -> None:
    agency = await make_agency()
    headers = bearer(agency, Role.AGENCY_ADMIN)
    with running_receiver(lambda _id, n: 500 if n == 1 else 200) as receiver:
        subscription = await subscribe(settings, agency, receiver.url)
        await emit_event(agency, await make_agency())
        await worker.deliver_due(settings)
        log = (await client.get(f"/v1/webhooks/{subscription.id}/deliveries", headers=headers)).json()
        [entry] = log["items"]

        assert entry["status"] == "pending"
        assert entry["last_status_code"] == 500
        [attempt] = entry["attempts"]
        assert attempt["status_code"] == 500
        assert attempt["error"] is None
        assert {"started_at", "duration_ms"} <= set(attempt)

        again = await client.post(
            f"/v1/webhooks/{subscription.id}/deliveries/{entry['id']}/redeliver", headers=headers
        )
        assert again.status_code == 202, again.text
        assert again.json()["attempt_count"] == 0
        assert await worker.deliver_due(settings) == 1

    params = {"status": "succeeded"}
    done = (
        await client.get(f"/v1/webhooks/{subscription.id}/deliveries", params=params, headers=headers)
    ).json()
    assert [a["status_code"] for a in done["items"][0]["attempts"]] == [500, 200]
    assert receiver.delivered_ids() == await event_ids()


async def test_redelivery_to_a_disabled_subscription_is_a_conflict(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    agency = await make_agency()
    with running_receiver(lambda _id, _n: 410) as receiver:
        subscription = await subscribe(settings, agency, receiver.url)
        await emit_event(agency, await make_agency())
        await drain(settings)
    [dead] = await all_deliveries()

    response = await client.post(
        f"/v1/webhooks/{subscription.id}/deliveries/{dead.id}/redeliver",
        headers=bearer(agency, Role.AGENCY_ADMIN),
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


async def test_redelivery_waits_for_a_live_claim_but_takes_over_an_expired_one(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    agency = await make_agency()
    headers = bearer(agency, Role.AGENCY_ADMIN)
    subscription = await subscribe(settings, agency, "http://127.0.0.1:9/hooks")
    await emit_event(agency, await make_agency())
    [queued] = await all_deliveries()
    url = f"/v1/webhooks/{subscription.id}/deliveries/{queued.id}/redeliver"

    async with get_sessionmaker()() as session:
        await delivery.claim(session, settings, now=utcnow(), limit=1)
        await unit_of_work.commit(session)
    live = await client.post(url, headers=headers)
    await _expire_claims()
    expired = await client.post(url, headers=headers)

    assert live.status_code == 409
    assert expired.status_code == 202, expired.text
    assert expired.json()["status"] == "pending"


async def _expire_claims() -> None:
    """Make every live claim look as if its worker died a moment ago."""
    async with get_sessionmaker()() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.status) == DeliveryStatus.IN_FLIGHT)
            .values(claimed_until=utcnow() - timedelta(seconds=1))
        )
        await unit_of_work.commit(session)


async def test_the_long_running_worker_delivers_as_events_arrive_and_stops_cleanly(
    settings: Settings,
) -> None:
    agency = await make_agency()
    stop = asyncio.Event()
    with running_receiver() as receiver:
        await subscribe(settings, agency, receiver.url)
        running = asyncio.create_task(worker.run(settings, once=False, poll_interval=0.05, stop=stop))
        await emit_event(agency, await make_agency())
        for _ in range(200):
            if receiver.delivered_ids():
                break
            await asyncio.sleep(0.02)
        stop.set()
        attempts = await asyncio.wait_for(running, timeout=10)

    assert attempts == 1
    assert receiver.delivered_ids() == await event_ids()


async def test_the_long_running_worker_seals_what_commits_and_delivers_it_without_waiting_to_poll(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "audit_seal_interval_seconds", 0.05)
    agency, stop = await make_agency(), asyncio.Event()
    with running_receiver() as receiver:
        await subscribe(settings, agency, receiver.url)
        # A poll interval far longer than the test: only the sequencer's wake-up can explain a delivery.
        running = asyncio.create_task(worker.run(settings, once=False, poll_interval=30, stop=stop))
        await asyncio.sleep(0.2)
        await emit_event(agency, await make_agency(), sequence=False)
        for _ in range(200):
            if receiver.delivered_ids():
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(running, timeout=10)

    assert receiver.delivered_ids() == await event_ids()
    async with get_sessionmaker()() as session:
        assert await verify.unsealed_count(session) == 0


async def test_the_worker_command_delivers_what_is_due(settings: Settings, database_url: str) -> None:
    agency = await make_agency()
    with running_receiver() as receiver:
        await subscribe(settings, agency, receiver.url)
        await emit_event(agency, await make_agency())
        env = {**os.environ, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "WEBHOOK_ALLOW_HTTP": "true"}

        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "app.cli", "worker", "--once", "--batch-size", "5"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 0, result.stderr
    assert "1 delivery attempts" in result.stdout
    assert receiver.delivered_ids() == await event_ids()
    assert json.loads(receiver.received[0].body)["type"] == "referral.created"


async def test_a_referral_made_through_the_api_reaches_both_agencies(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    net = await make_network()
    with running_receiver() as centre_system, running_receiver() as debt_system:
        centre_hook = await subscribe(settings, net.centre, centre_system.url)
        debt_hook = await subscribe(settings, net.debt, debt_system.url, [EventType.REFERRAL_STATUS_CHANGED])
        referral = await create_referral(client, net)
        accepted = await move(client, referral, net.debt_headers, "accepted")
        assert accepted.status_code == 200, accepted.text

        await drain(settings)

    to_centre = [Webhook(centre_hook.secret).verify(r.body, r.headers) for r in centre_system.received]
    to_debt = [Webhook(debt_hook.secret).verify(r.body, r.headers) for r in debt_system.received]
    assert sorted(p["type"] for p in to_centre) == [
        "referral.created",
        "referral.status_changed",
        "referral.viewed",
    ]
    assert [(p["type"], p["data"]["status"]) for p in to_debt] == [("referral.status_changed", "accepted")]
    assert {p["data"]["referral_id"] for p in to_centre + to_debt} == {referral["id"]}
    for request in centre_system.received + debt_system.received:
        for personal in (b"Natalie", b"Example", b"LL13", b"07700900123", b"1994-03-02"):
            assert personal not in request.body


async def test_each_delivery_is_recorded_as_it_ends_not_when_its_batch_does(settings: Settings) -> None:
    # A worker that dies now sends again only what is still in flight: the slow one here.
    agency, partner = await make_agency(), await make_agency()
    with running_receiver(delay=0.05) as fast, running_receiver(delay=3.0) as slow:
        quick = await subscribe(settings, agency, fast.url)
        await subscribe(settings, partner, slow.url)
        await emit_event(agency, partner)
        sending = asyncio.create_task(worker.deliver_due(settings))

        async def statuses() -> dict[bool, DeliveryStatus]:
            return {d.subscription_id == quick.id: d.status for d in await all_deliveries()}

        async with asyncio.timeout(2.5):
            while (await statuses())[True] is not DeliveryStatus.SUCCEEDED:  # noqa: ASYNC110 (polls the database)
                await asyncio.sleep(0.05)
        midway = await statuses()

        assert await sending == 2
    assert midway[False] is DeliveryStatus.IN_FLIGHT
    assert set((await statuses()).values()) == {DeliveryStatus.SUCCEEDED}
