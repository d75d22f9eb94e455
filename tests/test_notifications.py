"""Notification delivery: retries with every attempt kept, GOV.UK Notify's request, preferences,
digests, and the log agency admins read."""

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest
from jose import jwt
from pydantic import SecretStr
from sqlalchemy import select, text, update
from sqlmodel import col

from app import worker
from app.config import NOTIFICATION_KINDS, Settings, get_settings
from app.db import get_sessionmaker, utcnow
from app.models.identity import NotificationKind, Role
from app.models.notification import Notification, NotificationStatus
from app.models.referral import Referral
from app.periodic import Periodics
from app.services.notifications import digests
from app.services.notifications.backends import Outgoing
from app.unit_of_work import committed
from tests.support.referral_helpers import create_referral, make_network, move, referral_body
from tests.support.staff import make_staff
from tests.test_audit_migration import migrate


class Flaky:
    """A backend that fails the first `failures` sends."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[Outgoing] = []

    async def send(self, message: Outgoing) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("mail server unreachable")
        self.sent.append(message)


async def notifications() -> list[Notification]:
    async with get_sessionmaker()() as session:
        return list(
            (await session.execute(select(Notification).order_by(col(Notification.created_at)))).scalars()
        )


async def test_a_failed_send_is_retried_with_backoff_and_every_attempt_kept(
    client: httpx.AsyncClient,
) -> None:
    net = await make_network()
    await make_staff(client, net.debt, email="ann@debt.example")
    await create_referral(client, net)
    backend, settings = Flaky(failures=1), get_settings()

    assert await worker.notify_due(settings, backend=backend) == 1
    assert await worker.notify_due(settings, backend=backend) == 0  # backing off
    later = utcnow() + timedelta(hours=2)
    assert await worker.notify_due(settings, backend=backend, clock=lambda: later) == 1

    (sent,) = await notifications()
    assert sent.status == NotificationStatus.SENT
    assert sent.attempt_count == 2
    assert [a.error for a in sent.attempts] == ["ConnectionError: mail server unreachable", None]
    assert len(backend.sent) == 1


async def test_a_notification_dies_after_the_last_attempt(client: httpx.AsyncClient) -> None:
    net = await make_network()
    await make_staff(client, net.debt, email="ann@debt.example")
    await create_referral(client, net)
    settings = get_settings().model_copy(update={"notify_max_attempts": 2})
    backend, later = Flaky(failures=5), utcnow() + timedelta(days=1)

    await worker.notify_due(settings, backend=backend)
    await worker.notify_due(settings, backend=backend, clock=lambda: later)

    (dead,) = await notifications()
    assert dead.status == NotificationStatus.DEAD
    assert dead.attempt_count == 2


class NotifyHandler(BaseHTTPRequestHandler):
    """GOV.UK Notify's email endpoint, checking the request as Notify would."""

    service_id, secret = str(uuid.uuid4()), str(uuid.uuid4())
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        token = self.headers["Authorization"].removeprefix("Bearer ")
        claims = jwt.decode(token, self.secret, algorithms=["HS256"])
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = self.path == "/v2/notifications/email" and claims["iss"] == self.service_id
        self.received.append(body)
        self.send_response(201 if ok else 403)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": str(uuid.uuid4())} if ok else {"errors": []}).encode())

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def notify_server() -> Iterator[Settings]:
    NotifyHandler.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotifyHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    templates = {kind: str(uuid.uuid4()) for kind in NOTIFICATION_KINDS}
    key = f"referrals_test-{NotifyHandler.service_id}-{NotifyHandler.secret}"
    update_ = {
        "notify_backend": "govuk_notify",
        "notify_api_key": SecretStr(key),
        "notify_base_url": f"http://127.0.0.1:{server.server_address[1]}",
        "notify_template_ids": templates,
    }
    try:
        yield Settings.model_validate(get_settings().model_dump() | update_)
    finally:
        server.shutdown()


async def test_govuk_notify_gets_the_template_address_and_personalisation(
    client: httpx.AsyncClient, notify_server: Settings
) -> None:
    net = await make_network()
    await make_staff(client, net.debt, email="ann@debt.example")
    referral = await create_referral(client, net)

    assert await worker.notify_due(notify_server) == 1

    (request,) = NotifyHandler.received
    assert request["email_address"] == "ann@debt.example"
    assert request["template_id"] == notify_server.notify_template_ids["new_referral"]
    assert request["personalisation"]["reference"] == referral["reference"]
    assert referral["id"] in request["personalisation"]["link"]
    assert "Natalie" not in json.dumps(request)
    (sent,) = await notifications()
    assert sent.status == NotificationStatus.SENT


def test_govuk_notify_needs_a_key_and_every_template() -> None:
    with pytest.raises(ValueError, match="template ids"):
        Settings(
            notify_backend="govuk_notify", notify_api_key=SecretStr("k"), notify_template_ids={"message": "x"}
        )
    assert set(NOTIFICATION_KINDS) == {k.value for k in NotificationKind}


async def test_preferences_turn_kinds_off_or_into_a_daily_digest(client: httpx.AsyncClient) -> None:
    net = await make_network()
    ann = await make_staff(client, net.debt, email="ann@debt.example")
    bob = await make_staff(client, net.debt, email="bob@debt.example")
    await client.patch(
        "/v1/me", json={"notification_preferences": {"new_referral": "off"}}, headers=ann.headers
    )
    await client.patch(
        "/v1/me", json={"notification_preferences": {"new_referral": "daily_digest"}}, headers=bob.headers
    )

    await create_referral(client, net)
    await create_referral(client, net, allow_duplicate=True, duplicate_reason="a second need")

    held = await notifications()
    assert [(n.recipient_email, n.status) for n in held] == [
        ("bob@debt.example", NotificationStatus.HELD)
    ] * 2
    assert await worker.notify_due(get_settings(), backend=Flaky(0)) == 0
    assert await committed(lambda s: digests.held_digests(s, utcnow())) == 1
    digest = [n for n in await notifications() if n.status == NotificationStatus.PENDING]
    assert len(digest) == 1
    assert digest[0].body.count("New referral from") == 2
    assert await committed(lambda s: digests.held_digests(s, utcnow())) == 0


async def test_the_overdue_digest_goes_once_a_day_to_the_agency(client: httpx.AsyncClient) -> None:
    net = await make_network()
    await make_staff(client, net.debt, email="ann@debt.example")
    await make_staff(client, net.debt, Role.AGENCY_ADMIN, email="admin@debt.example")
    await make_staff(client, net.centre, email="referrer@centre.example")
    late = await create_referral(client, net)
    async with get_sessionmaker()() as session:
        await session.execute(update(Referral).values(due_by=utcnow() - timedelta(days=2)))
        await session.commit()

    assert await committed(lambda s: digests.overdue_digests(s, utcnow())) == 2
    assert await committed(lambda s: digests.overdue_digests(s, utcnow())) == 0

    overdue = [n for n in await notifications() if n.kind == NotificationKind.OVERDUE_DIGEST]
    assert sorted(n.recipient_email for n in overdue) == ["admin@debt.example", "ann@debt.example"]
    assert late["reference"] in overdue[0].body
    assert "Natalie" not in overdue[0].body


async def test_a_decline_tells_the_referrer_with_the_reason_and_nobody_else(
    client: httpx.AsyncClient,
) -> None:
    net = await make_network()
    referrer = await make_staff(client, net.centre, email="referrer@centre.example")
    receiver = await make_staff(client, net.debt, email="ann@debt.example")
    await make_staff(client, net.outsider, email="someone@jcp.example")
    outsider_admin = await make_staff(client, net.outsider, Role.AGENCY_ADMIN)
    body = referral_body(net.debt_service)
    referral = (await client.post("/v1/referrals", json=body, headers=referrer.headers)).json()

    declined = await move(client, referral, receiver.headers, "declined", reason_code="out_of_area")

    assert declined.status_code == 200, declined.text
    told = [n for n in await notifications() if n.kind == NotificationKind.REFERRAL_UPDATE]
    assert [n.recipient_email for n in told] == ["referrer@centre.example"]
    assert "reason: The person lives outside our area" in told[0].body
    outsider_log = await client.get("/v1/notifications", headers=outsider_admin.headers)
    assert outsider_log.json()["items"] == []
    assert (await client.get("/v1/notifications", headers=receiver.headers)).status_code == 403


async def test_a_service_with_a_team_address_is_told_there(client: httpx.AsyncClient) -> None:
    net = await make_network()
    admin = await make_staff(client, net.debt, Role.AGENCY_ADMIN, email="admin@debt.example")
    await make_staff(client, net.debt, email="ann@debt.example")
    patch = {"contact_email": "money-team@debt.example"}
    assert (
        await client.patch(f"/v1/services/{net.debt_service.id}", json=patch, headers=admin.headers)
    ).status_code == 200

    await create_referral(client, net)

    assert [n.recipient_email for n in await notifications()] == ["money-team@debt.example"]


async def test_a_withdrawal_tells_the_other_party_and_names_nobody(client: httpx.AsyncClient) -> None:
    net = await make_network()
    referrer = await make_staff(client, net.centre, email="referrer@centre.example")
    receiver = await make_staff(client, net.debt, email="ann@debt.example")
    await make_staff(client, net.outsider, email="someone@jcp.example")
    referral = (
        await client.post("/v1/referrals", json=referral_body(net.debt_service), headers=referrer.headers)
    ).json()

    withdrawn = await client.post(
        f"/v1/consents/{referral['consent_id']}/withdraw", json={}, headers=referrer.headers
    )

    assert withdrawn.status_code == 200, withdrawn.text
    told = [n for n in await notifications() if n.kind == NotificationKind.REFERRAL_UPDATE]
    assert [n.recipient_email for n in told] == ["ann@debt.example"]
    assert "withdrawn" in told[0].body
    assert {n.recipient_email for n in await notifications()} == {"ann@debt.example"}
    assert receiver.user.agency_id == net.debt.id


async def digest_pass(settings: Settings, at: datetime) -> int:
    """The daily digests' pass as a worker, new each time, would make it at `at`; what it made."""
    [job] = [job for job in worker.periodic_jobs(settings, clock=lambda: at) if job.name == "daily_digests"]
    return await Periodics([job], clock=lambda: at).run_due(job)


async def test_the_worker_makes_the_days_digests_once_from_the_digest_hour(client: httpx.AsyncClient) -> None:
    net = await make_network()
    await make_staff(client, net.debt, email="ann@debt.example")
    await create_referral(client, net)
    async with get_sessionmaker()() as session:
        await session.execute(update(Referral).values(due_by=utcnow() - timedelta(days=1)))
        await session.commit()
    settings = get_settings().model_copy(update={"notify_digest_hour": 7})
    early, on_time = utcnow().replace(hour=6, minute=59), utcnow().replace(hour=7, minute=5)

    assert await digest_pass(settings, early) == 0
    assert await digest_pass(settings, on_time) == 1
    assert await digest_pass(settings, on_time) == 0  # by this worker or any other: once a day
    overdue = [n for n in await notifications() if n.kind == NotificationKind.OVERDUE_DIGEST]
    assert [n.recipient_email for n in overdue] == ["ann@debt.example"]


async def kinds_and_attempts() -> list[tuple[str, int]]:
    """Each notification's kind and number of attempts, read without the model (which is ahead of
    the schema once migrated down)."""
    query = text(
        "SELECT n.kind, (SELECT count(*) FROM notification_attempts a WHERE a.notification_id = n.id) "
        "FROM notifications n ORDER BY n.created_at"
    )
    async with get_sessionmaker()() as session:
        return [(kind, count) for kind, count in await session.execute(query)]


# SQLite rebuilds the notifications table, reflecting the tables it refers to; one of them has an
# index on an expression, which SQLAlchemy cannot reflect and need not.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
async def test_notices_to_accounts_of_no_agency_are_dropped_going_down_a_migration_and_the_rest_kept(
    client: httpx.AsyncClient, database_url: str
) -> None:
    net = await make_network()
    await make_staff(client, net.debt, email="ann@debt.example")
    await create_referral(client, net)
    admin = await make_staff(client, None, Role.PLATFORM_ADMIN)
    auditor = await make_staff(client, None, Role.AUDITOR, email="ash@platform.example")
    issued = await client.post(f"/v1/users/{auditor.user.id}/set-password-link", headers=admin.headers)
    assert issued.json()["user_emailed"] is True
    assert await worker.notify_due(get_settings(), backend=Flaky(failures=2)) == 2  # an attempt each

    await migrate(database_url, "0016")
    down = await kinds_and_attempts()
    await migrate(database_url, "head")
    up = [(n.kind, n.agency_id, len(n.attempts)) for n in await notifications()]

    assert down == [(NotificationKind.NEW_REFERRAL, 1)]
    assert up == [(NotificationKind.NEW_REFERRAL, net.debt.id, 1)]
