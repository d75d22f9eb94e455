"""Staff management: agency admins keep their own agency's staff, set-password links, and `/v1/me`."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlmodel import col

from app import worker
from app.config import Settings
from app.db import get_sessionmaker, utcnow
from app.models.audit import AuditEvent
from app.models.identity import PasswordLink, Role
from app.models.notification import Notification
from tests.support.factories import make_agency, password_token
from tests.support.mail import Mailbox, smtp_server  # noqa: F401  (fixture)
from tests.support.staff import PASSWORD, link_token, make_staff, sign_in
from tests.test_cli import run_cli


async def test_an_agency_admin_adds_staff_who_set_their_own_password(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    admin = await make_staff(client, agency, Role.AGENCY_ADMIN)
    body = {
        "username": "Debt.Caseworker2",
        "display_name": "Sam",
        "email": "sam@example.org",
        "role": "caseworker",
    }

    created = await client.post("/v1/users", json=body, headers=admin.headers)

    assert created.status_code == 201, created.text
    user = created.json()
    assert user["username"] == "debt.caseworker2"
    assert user["agency_id"] == str(agency.id)
    assert user["active"] is True
    assert user["notification_preferences"]["new_referral"] == "immediate"
    assert created.headers["Location"] == f"/v1/users/{user['id']}"
    assert (await password_token(client, "debt.caseworker2", PASSWORD)).status_code == 400
    token = link_token(user["set_password_link"])
    spent = await client.post("/v1/set-password", json={"token": token, "password": PASSWORD})
    assert spent.status_code == 204, spent.text
    await sign_in(client, "debt.caseworker2")
    again = await client.post("/v1/set-password", json={"token": token, "password": "another long one"})
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "token"


async def test_a_set_password_link_expires_after_72_hours(client: httpx.AsyncClient) -> None:
    admin = await make_staff(client, await make_agency(), Role.AGENCY_ADMIN)
    created = (
        await client.post("/v1/users", json={"username": "late", "role": "caseworker"}, headers=admin.headers)
    ).json()
    expires = created["set_password_expires_at"]
    assert abs((utcnow() + timedelta(hours=72)).timestamp() - _epoch(expires)) < 60
    async with get_sessionmaker()() as session:
        await session.execute(update(PasswordLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()

    spent = await client.post(
        "/v1/set-password", json={"token": link_token(created["set_password_link"]), "password": PASSWORD}
    )

    assert spent.status_code == 422


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


async def test_agency_admins_see_and_change_only_their_own_staff(client: httpx.AsyncClient) -> None:
    mine, theirs = await make_agency(), await make_agency()
    admin = await make_staff(client, mine, Role.AGENCY_ADMIN)
    colleague = await make_staff(client, mine)
    stranger = await make_staff(client, theirs)

    listed = await client.get("/v1/users", headers=admin.headers)
    assert {u["id"] for u in listed.json()["items"]} == {str(admin.user.id), str(colleague.user.id)}
    assert (await client.get(f"/v1/users/{colleague.user.id}", headers=admin.headers)).status_code == 200
    url = f"/v1/users/{stranger.user.id}"
    assert (await client.get(url, headers=admin.headers)).status_code == 404
    patched = await client.patch(url, json={"active": False}, headers=admin.headers)
    assert patched.status_code == 404
    assert (await client.get("/v1/me", headers=stranger.headers)).status_code == 200
    other_agency = {"username": "sneaky", "role": "caseworker", "agency_id": str(theirs.id)}
    assert (await client.post("/v1/users", json=other_agency, headers=admin.headers)).status_code == 404


async def test_caseworkers_cannot_manage_users(client: httpx.AsyncClient) -> None:
    caseworker = await make_staff(client, await make_agency())

    for response in (
        await client.get("/v1/users", headers=caseworker.headers),
        await client.get(f"/v1/users/{caseworker.user.id}", headers=caseworker.headers),
        await client.patch(
            f"/v1/users/{caseworker.user.id}", json={"role": "agency_admin"}, headers=caseworker.headers
        ),
        await client.post(
            "/v1/users", json={"username": "x1", "role": "caseworker"}, headers=caseworker.headers
        ),
    ):
        assert response.status_code == 403, response.text


async def test_an_agency_admin_gives_agency_roles_only(client: httpx.AsyncClient) -> None:
    admin = await make_staff(client, await make_agency(), Role.AGENCY_ADMIN)
    colleague = await make_staff(client, await make_agency())

    platform = await client.post(
        "/v1/users", json={"username": "boss", "role": "platform_admin"}, headers=admin.headers
    )
    promoted = await client.patch(
        f"/v1/users/{admin.user.id}", json={"role": "auditor"}, headers=admin.headers
    )

    assert platform.status_code == 403
    assert promoted.status_code in {403, 422}
    assert colleague.user.agency_id != admin.user.agency_id


async def test_a_platform_admin_manages_any_agency(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    platform = await make_staff(client, None, Role.PLATFORM_ADMIN)
    body = {"username": "new.admin", "role": "agency_admin", "agency_id": str(agency.id)}

    created = await client.post("/v1/users", json=body, headers=platform.headers)
    missing_agency = await client.post(
        "/v1/users", json={"username": "x2", "role": "caseworker"}, headers=platform.headers
    )

    assert created.status_code == 201, created.text
    assert missing_agency.status_code == 422
    listed = await client.get("/v1/users", params={"agency_id": str(agency.id)}, headers=platform.headers)
    assert [u["username"] for u in listed.json()["items"]] == ["new.admin"]


async def test_me_shows_the_account_agency_role_and_scopes(client: httpx.AsyncClient) -> None:
    agency = await make_agency(name="Caia Park Children's Centre")
    admin = await make_staff(client, agency, Role.AGENCY_ADMIN)

    me = (await client.get("/v1/me", headers=admin.headers)).json()

    assert me["kind"] == "user"
    assert me["role"] == "agency_admin"
    assert me["agency"]["name"] == "Caia Park Children's Centre"
    assert me["user"]["username"] == admin.user.username
    assert "users:manage" in me["scopes"]
    assert "audit:read" not in me["scopes"]


async def test_staff_set_their_own_absence_and_preferences(client: httpx.AsyncClient) -> None:
    caseworker = await make_staff(client, await make_agency())
    away = (utcnow() + timedelta(days=3)).isoformat()

    changed = await client.patch(
        "/v1/me",
        json={"away_until": away, "notification_preferences": {"message": "daily_digest"}},
        headers=caseworker.headers,
    )

    assert changed.status_code == 200, changed.text
    prefs = changed.json()["notification_preferences"]
    assert prefs["message"] == "daily_digest"
    assert prefs["new_referral"] == "immediate"
    refused = await client.patch(
        "/v1/me", json={"notification_preferences": {"message": "hourly"}}, headers=caseworker.headers
    )
    assert refused.status_code == 422


async def test_the_old_platform_role_is_gone(client: httpx.AsyncClient) -> None:
    platform = await make_staff(client, None, Role.PLATFORM_ADMIN)
    me = (await client.get("/v1/me", headers=platform.headers)).json()
    assert me["role"] == "platform_admin"
    assert sorted(me["scopes"]) == ["directory:write", "reports:read", "subjects:export", "users:manage"]


async def test_a_new_link_replaces_the_old_one(client: httpx.AsyncClient) -> None:
    admin = await make_staff(client, await make_agency(), Role.AGENCY_ADMIN)
    created = (
        await client.post(
            "/v1/users", json={"username": "forgetful", "role": "caseworker"}, headers=admin.headers
        )
    ).json()

    issued = await client.post(f"/v1/users/{created['id']}/set-password-link", headers=admin.headers)

    assert issued.status_code == 200, issued.text
    old, new = link_token(created["set_password_link"]), link_token(issued.json()["set_password_link"])
    assert (
        await client.post("/v1/set-password", json={"token": old, "password": PASSWORD})
    ).status_code == 422
    assert (
        await client.post("/v1/set-password", json={"token": new, "password": PASSWORD})
    ).status_code == 204
    await sign_in(client, "forgetful")


async def test_create_user_prints_a_set_password_link(client: httpx.AsyncClient) -> None:
    agency = await make_agency()

    result = await asyncio.to_thread(
        run_cli,
        "create-user",
        "--agency-id",
        str(agency.id),
        "--username",
        "cli.person",
        "--email",
        "p@example.org",
    )

    assert result.returncode == 0, result.stderr
    link = result.stdout.strip().splitlines()[-1]
    assert "/set-password?token=" in link
    spent = await client.post("/v1/set-password", json={"token": link_token(link), "password": PASSWORD})
    assert spent.status_code == 204
    await sign_in(client, "cli.person")


async def test_null_is_refused_for_fields_that_cannot_be_empty(client: httpx.AsyncClient) -> None:
    admin = await make_staff(client, await make_agency(), Role.AGENCY_ADMIN)

    for body in ({"display_name": None}, {"notification_preferences": None}):
        assert (await client.patch("/v1/me", json=body, headers=admin.headers)).status_code == 422
    for body in ({"active": None}, {"role": None}):
        url = f"/v1/users/{admin.user.id}"
        assert (await client.patch(url, json=body, headers=admin.headers)).status_code == 422
    cleared = await client.patch("/v1/me", json={"away_until": None}, headers=admin.headers)
    assert cleared.status_code == 200


async def link_events() -> list[tuple[str | None, str | None, dict[str, Any]]]:
    async with get_sessionmaker()() as session:
        query = select(AuditEvent).where(col(AuditEvent.action) == "user.password_link_issued")
        found = (await session.execute(query.order_by(col(AuditEvent.id)))).scalars()
        return [(event.actor_id, event.entity_id, event.details) for event in found]


async def test_a_reissued_link_is_audited_and_its_user_told_by_email(
    client: httpx.AsyncClient,
    smtp_server: tuple[Mailbox, Settings],  # noqa: F811
) -> None:
    mailbox, settings = smtp_server
    admin = await make_staff(client, None, Role.PLATFORM_ADMIN)
    caseworker = await make_staff(client, await make_agency(), email="sam@debt.example")
    auditor = await make_staff(client, None, Role.AUDITOR, email="ash@platform.example")

    links = []
    for member in (caseworker, auditor):
        issued = await client.post(f"/v1/users/{member.user.id}/set-password-link", headers=admin.headers)
        assert issued.status_code == 200, issued.text
        assert issued.json()["user_emailed"] is True
        links.append(issued.json()["set_password_link"])
    assert await worker.notify_due(settings) == 2

    for member, address in ((caseworker, "sam@debt.example"), (auditor, "ash@platform.example")):
        (message,) = mailbox.to(address)
        text = f"{message['Subject']}\n{message.get_payload(decode=True).decode()}"  # type: ignore[union-attr]
        assert "link to set the password of your account" in text
        assert all(link_token(link) not in text for link in links)
        assert member.user.username not in text
        assert admin.user.username not in text
    told = {"user_emailed": True}
    assert await link_events() == [
        (str(admin.user.id), str(caseworker.user.id), told),
        (str(admin.user.id), str(auditor.user.id), told),
    ]


async def test_a_user_without_an_email_address_gets_a_new_link_and_the_admin_is_told_they_were_not(
    client: httpx.AsyncClient,
) -> None:
    agency = await make_agency()
    admin = await make_staff(client, agency, Role.AGENCY_ADMIN)
    caseworker = await make_staff(client, agency)

    issued = await client.post(f"/v1/users/{caseworker.user.id}/set-password-link", headers=admin.headers)

    assert issued.status_code == 200, issued.text
    assert issued.json()["user_emailed"] is False
    assert "set-password?token=" in issued.json()["set_password_link"]
    async with get_sessionmaker()() as session:
        assert await session.scalar(select(func.count()).select_from(Notification)) == 0
    assert await link_events() == [(str(admin.user.id), str(caseworker.user.id), {"user_emailed": False})]


async def test_the_notice_of_a_new_link_cannot_be_turned_off(client: httpx.AsyncClient) -> None:
    caseworker = await make_staff(client, await make_agency(), email="sam@debt.example")

    refused = await client.patch(
        "/v1/me", json={"notification_preferences": {"password_link": "off"}}, headers=caseworker.headers
    )

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["notification_preferences"]
