"""Agency admins' tools: a new starter emailed their set-password link, a new link from the member's
page, the notification log's filters, and a service's name, purposes and languages."""

import logging
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from app import worker
from app.config import Settings, get_settings
from app.db import get_sessionmaker
from app.encryption import decrypt
from app.models.audit import AuditEvent
from app.models.identity import NotificationKind, Role
from app.models.notification import Notification
from app.services.notifications.accounts import LINK_SLOT
from app.services.notifications.backends import LogBackend
from tests.support.factories import make_user
from tests.support.mail import Mailbox, smtp_server  # noqa: F401  (fixture)
from tests.support.referral_helpers import create_referral, make_network
from tests.support.staff import link_token
from tests.support.web_support import PASSWORD, api, browser, csrf_of, sign_in, signed_in_as, submit

NEW_PASSWORD = "three random words"


async def _notifications() -> list[Notification]:
    async with get_sessionmaker()() as session:
        query = select(Notification).order_by(col(Notification.created_at))
        return list((await session.execute(query)).scalars())


async def _link_events() -> list[dict[str, object]]:
    async with get_sessionmaker()() as session:
        query = select(AuditEvent).where(col(AuditEvent.action) == "user.password_link_issued")
        return [e.details for e in (await session.execute(query.order_by(col(AuditEvent.id)))).scalars()]


def _summary_links(page: httpx.Response) -> list[str]:
    summary = page.text.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'href="([^"]+)"', summary)


def _shown_link(page: httpx.Response) -> str:
    found = re.search(r"<code>(https?://[^<]+)</code>", page.text)
    assert found, "no link on the page"
    return found.group(1)


async def test_a_new_starter_with_an_email_address_is_sent_their_link(
    app: FastAPI,
    smtp_server: tuple[Mailbox, Settings],  # noqa: F811
) -> None:
    mailbox, settings = smtp_server
    net = await make_network()
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        added = await submit(
            admin,
            "/admin/staff/new",
            {
                "username": "sam.adviser",
                "display_name": "Sam Adviser",
                "email": "sam@debt.example",
                "role": "caseworker",
            },
        )
    link = _shown_link(added)
    (queued,) = await _notifications()

    assert "We are emailing them a link to set their password, at sam@debt.example" in added.text
    assert (queued.kind, queued.recipient_email) == (NotificationKind.PASSWORD_LINK, "sam@debt.example")
    # The link is a credential: sealed apart from the body, never stored as it is.
    assert LINK_SLOT in queued.body
    assert link_token(link) not in queued.body
    assert queued.sealed_link is not None
    assert link_token(link) not in queued.sealed_link
    assert decrypt(queued.sealed_link) == link
    assert await _link_events() == [{"user_emailed": True}]

    assert await worker.notify_due(settings) == 1
    (message,) = mailbox.to("sam@debt.example")
    text = f"{message['Subject']}\n{message.get_payload(decode=True).decode()}"  # type: ignore[union-attr]
    assert link in text
    assert "sam.adviser" not in text
    assert "Sam Adviser" not in text
    (sent,) = await _notifications()
    assert sent.sealed_link is None  # wiped once sent
    async with browser(app) as newcomer:
        moved = await newcomer.get("/set-password?token=" + link_token(link))
        assert moved.status_code == 303
        done = await submit(newcomer, "/set-password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert done.status_code == 303
        assert (await sign_in(newcomer, "sam.adviser", NEW_PASSWORD)).status_code == 303


async def test_without_an_email_address_the_admin_is_told_to_give_the_link_themselves(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    net = await make_network()
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        added = await submit(admin, "/admin/staff/new", {"username": "no.email", "role": "caseworker"})

    assert "They have no email address, so give them this link" in added.text
    assert await _notifications() == []
    assert await _link_events() == [{"user_emailed": False}]


async def test_the_api_says_whether_a_new_users_link_was_emailed(client: httpx.AsyncClient) -> None:
    net = await make_network()
    admin = await make_user(net.debt, Role.AGENCY_ADMIN, password=PASSWORD)
    token = (await client.post("/v1/oauth/token", data=_password_grant(admin.username))).json()[
        "access_token"
    ]
    headers = {"Authorization": f"Bearer {token}"}

    emailed = await client.post(
        "/v1/users",
        json={"username": "with.mail", "email": "m@debt.example", "role": "caseworker"},
        headers=headers,
    )
    silent = await client.post(
        "/v1/users", json={"username": "without.mail", "role": "caseworker"}, headers=headers
    )

    assert emailed.json()["user_emailed"] is True
    assert silent.json()["user_emailed"] is False
    assert [n.recipient_email for n in await _notifications()] == ["m@debt.example"]


def _password_grant(username: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": PASSWORD}


async def test_the_console_backend_never_logs_a_sealed_link(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    net = await make_network()
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        added = await submit(
            admin, "/admin/staff/new", {"username": "logged", "email": "l@debt.example", "role": "caseworker"}
        )
    with caplog.at_level(logging.INFO, logger="app.notifications"):
        assert await worker.notify_due(get_settings(), backend=LogBackend()) == 1

    assert "Set your password for the referral exchange" in caplog.text
    assert link_token(_shown_link(added)) not in caplog.text
    assert "[withheld from the log]" in caplog.text


async def test_send_a_new_link_from_the_member_page(app: FastAPI) -> None:
    net = await make_network()
    member = await make_user(net.debt, password=PASSWORD, email="kim@debt.example")
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        page = await admin.get(f"/admin/staff/{member.id}")
        issued = await submit(
            admin, f"/admin/staff/{member.id}", {}, action=f"/admin/staff/{member.id}/password-link"
        )

    assert "Send a new link" in page.text
    assert issued.status_code == 200
    assert "New link issued" in issued.text
    assert "the email does not contain the link" in issued.text
    link = _shown_link(issued)
    (notice,) = await _notifications()
    assert (notice.kind, notice.recipient_email, notice.sealed_link) == (
        NotificationKind.PASSWORD_LINK,
        "kim@debt.example",
        None,
    )
    assert link_token(link) not in notice.body
    async with api(app) as partner:
        spent = await partner.post(
            "/v1/set-password", json={"token": link_token(link), "password": NEW_PASSWORD}
        )
    assert spent.status_code == 204


async def test_a_new_link_is_refused_for_a_deactivated_account_and_another_agencys(app: FastAPI) -> None:
    net = await make_network()
    gone = await make_user(net.debt, password=PASSWORD)
    elsewhere = await make_user(net.centre, password=PASSWORD)
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        assert (
            await submit(admin, f"/admin/staff/{gone.id}", {"role": "caseworker", "active": "no"})
        ).status_code == 303
        page = await admin.get(f"/admin/staff/{gone.id}")
        refused = await admin.post(
            f"/admin/staff/{gone.id}/password-link", data={"csrf_token": csrf_of(page)}
        )
        hidden = await admin.post(
            f"/admin/staff/{elsewhere.id}/password-link", data={"csrf_token": csrf_of(page)}
        )

    assert "Send a new link" not in page.text
    assert refused.status_code == 400
    assert "<title>Error: Change a member of staff" in refused.text
    assert _summary_links(refused) == ["#active"]
    assert hidden.status_code == 404
    assert await _notifications() == []


async def test_the_notification_log_filters_by_kind_status_and_day(app: FastAPI) -> None:
    net = await make_network()
    await make_user(net.debt, password=PASSWORD, email="ann@debt.example")
    async with api(app) as partner:
        referral = await create_referral(partner, net)
    today = datetime.now(ZoneInfo("Europe/London")).date()  # the log's days are UK days
    on = {"date-day": str(today.day), "date-month": str(today.month), "date-year": str(today.year)}
    yesterday = today - timedelta(days=1)
    before = {
        "date-day": str(yesterday.day),
        "date-month": str(yesterday.month),
        "date-year": str(yesterday.year),
    }
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        everything = await admin.get("/admin/notifications")
        by_kind = await admin.get(
            "/admin/notifications", params={"kind": "new_referral", "status": "pending"}
        )
        other_kind = await admin.get("/admin/notifications", params={"kind": "message"})
        today_page = await admin.get("/admin/notifications", params=on)
        day_before = await admin.get("/admin/notifications", params=before)
        unreal = await admin.get("/admin/notifications", params={**on, "date-day": "32"})
        unknown = await admin.get("/admin/notifications", params={"kind": "carrier_pigeon"})

    for page in (everything, by_kind, today_page):
        assert page.status_code == 200
        assert referral["reference"] in page.text
    assert 'value="new_referral" selected' in by_kind.text
    for page in (other_kind, day_before):
        assert referral["reference"] not in page.text
        assert "No notifications match these filters." in page.text
    assert unreal.status_code == 400
    assert "<title>Error: Notification log" in unreal.text
    assert _summary_links(unreal) == ["#date-day"]
    assert unknown.status_code == 400
    assert _summary_links(unknown) == ["#kind"]


def window(since: datetime, until: datetime) -> dict[str, str]:
    return {"since": since.isoformat(), "until": until.isoformat()}


async def test_the_log_api_filters_by_when_notifications_were_queued(client: httpx.AsyncClient) -> None:
    net = await make_network()
    await make_user(net.debt, password=PASSWORD, email="ann@debt.example")
    admin = await make_user(net.debt, Role.AGENCY_ADMIN, password=PASSWORD)
    await create_referral(client, net)
    token = (await client.post("/v1/oauth/token", data=_password_grant(admin.username))).json()[
        "access_token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    (queued,) = await _notifications()
    at = queued.created_at

    inside = await client.get(
        "/v1/notifications", params=window(at, at + timedelta(seconds=1)), headers=headers
    )
    after = await client.get(
        "/v1/notifications", params={"since": (at + timedelta(seconds=1)).isoformat()}, headers=headers
    )
    backwards = await client.get(
        "/v1/notifications", params=window(at, at - timedelta(days=1)), headers=headers
    )

    assert [n["id"] for n in inside.json()["items"]] == [str(queued.id)]
    assert after.json()["items"] == []
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "until"


async def test_an_admin_renames_a_service_and_changes_its_purposes_and_languages(app: FastAPI) -> None:
    net = await make_network()
    page = f"/admin/services/{net.debt_service.id}"
    form: dict[str, str | list[str]] = {
        "name": "Money and benefits advice",
        "purposes": ["debt_advice", "benefits_advice", "housing_support"],
        "accepting_referrals": "yes",
        "languages": ["en", "cy"],
        "response_target_days": "5",
    }
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        shown = await admin.get(page)
        saved = await submit(admin, page, form)
    async with api(app) as partner:
        service = (
            await partner.get(f"/v1/services/{net.debt_service.id}", headers=net.centre_headers)
        ).json()

    assert 'name="name" type="text" value="Money advice"' in shown.text
    assert 'name="purposes" type="checkbox" value="debt_advice" checked' in shown.text
    assert saved.status_code == 303
    assert service["name"] == "Money and benefits advice"
    assert sorted(service["purposes"]) == ["benefits_advice", "debt_advice", "housing_support"]
    assert service["languages"] == ["en", "cy"]


async def test_a_service_needs_a_name_and_a_purpose_and_stays_its_agencys_own(app: FastAPI) -> None:
    net = await make_network()
    page = f"/admin/services/{net.debt_service.id}"
    async with browser(app) as admin:
        await signed_in_as(admin, net.centre, Role.AGENCY_ADMIN)
        theirs = await admin.get(page)
        token = csrf_of(await admin.get("/admin/services"))
        changed = await admin.post(
            page, data={"name": "Taken over", "purposes": "other", "csrf_token": token}
        )
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        empty = await submit(
            admin, page, {"name": "", "accepting_referrals": "yes", "response_target_days": "5"}
        )

    assert theirs.status_code == 404
    assert changed.status_code == 404
    assert empty.status_code == 400
    assert "<title>Error: Change a service" in empty.text
    assert _summary_links(empty) == ["#name", "#purposes"]
    async with api(app) as partner:
        service = (
            await partner.get(f"/v1/services/{net.debt_service.id}", headers=net.centre_headers)
        ).json()
    assert service["name"] == "Money advice"
