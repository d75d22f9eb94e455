"""The shared inbox: assignment, per-user read state, and the overdue and cover filters."""

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlmodel import col

from app.db import get_sessionmaker, utcnow
from app.models.audit import AuditEvent
from app.models.events import DomainEvent
from app.models.referral import Referral
from tests.support.referral_helpers import create_referral, make_network, move, referral_body
from tests.support.staff import Staff, make_staff


async def assign(
    client: httpx.AsyncClient, referral: dict[str, Any], who: Staff, to: Staff | None
) -> httpx.Response:
    body = {"user_id": str(to.user.id) if to else None}
    return await client.post(f"/v1/referrals/{referral['id']}/assignment", json=body, headers=who.headers)


async def inbox(client: httpx.AsyncClient, who: Staff, **params: str) -> list[str]:
    response = await client.get("/v1/referrals", params={"box": "inbox", **params}, headers=who.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_caseworkers_take_and_hand_over_referrals(client: httpx.AsyncClient) -> None:
    net = await make_network()
    first, second = await make_staff(client, net.debt), await make_staff(client, net.debt)
    referral = await create_referral(client, net)
    assert referral["assigned_to"] is None

    taken = await assign(client, referral, first, first)
    assert taken.status_code == 200, taken.text
    assert taken.json()["assigned_to"]["id"] == str(first.user.id)
    assert await inbox(client, first, assigned_to="me") == [referral["id"]]
    assert await inbox(client, second, assigned_to="me") == []
    assert await inbox(client, second, assigned_to=str(first.user.id)) == [referral["id"]]
    handed = await assign(client, referral, first, second)
    assert handed.json()["assigned_to"]["id"] == str(second.user.id)
    released = await assign(client, referral, second, None)
    assert released.json()["assigned_to"] is None
    assert await inbox(client, first, assigned_to="none") == [referral["id"]]
    async with get_sessionmaker()() as session:
        actions = (await session.execute(select(col(AuditEvent.action)))).scalars().all()
        events = (await session.execute(select(col(DomainEvent.type)))).scalars().all()
    assert actions.count("referral.assigned") == 3
    assert events.count("referral.assigned") == 3


async def test_only_the_receiving_agencys_active_staff_take_referrals(client: httpx.AsyncClient) -> None:
    net = await make_network()
    receiver = await make_staff(client, net.debt)
    sender, outsider = await make_staff(client, net.centre), await make_staff(client, net.outsider)
    referral = await create_referral(client, net)

    assert (await assign(client, referral, sender, sender)).status_code == 403
    assert (await assign(client, referral, outsider, outsider)).status_code == 404
    wrong = await assign(client, referral, receiver, sender)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "user_id"
    bad = await client.get(
        "/v1/referrals", params={"box": "inbox", "assigned_to": "someone"}, headers=receiver.headers
    )
    assert bad.status_code == 422


async def test_a_referral_is_unread_until_opened_after_the_other_agencys_change(
    client: httpx.AsyncClient,
) -> None:
    net = await make_network()
    receiver, sender = await make_staff(client, net.debt), await make_staff(client, net.centre)
    referral = (
        await client.post("/v1/referrals", json=referral_body(net.debt_service), headers=sender.headers)
    ).json()
    assert referral["unread"] is False

    assert await inbox(client, receiver, unread="true") == [referral["id"]]
    opened = await client.get(f"/v1/referrals/{referral['id']}", headers=receiver.headers)
    assert opened.json()["unread"] is False
    assert await inbox(client, receiver, unread="true") == []
    assert (await move(client, referral, receiver.headers, "accepted")).status_code == 200
    assert await inbox(client, receiver, unread="true") == []
    sent = await client.get("/v1/referrals", params={"box": "sent", "unread": "true"}, headers=sender.headers)
    assert [item["id"] for item in sent.json()["items"]] == [referral["id"]]
    await client.post(
        f"/v1/referrals/{referral['id']}/messages", json={"body": "Any news?"}, headers=sender.headers
    )
    listed = await client.get("/v1/referrals", params={"box": "inbox"}, headers=receiver.headers)
    assert listed.json()["items"][0]["unread"] is True


async def test_overdue_and_needs_cover_filters(client: httpx.AsyncClient) -> None:
    net = await make_network()
    first, second = await make_staff(client, net.debt), await make_staff(client, net.debt)
    late, covered = (
        await create_referral(client, net),
        await create_referral(client, net, allow_duplicate=True, duplicate_reason="second need"),
    )
    async with get_sessionmaker()() as session:
        await session.execute(
            update(Referral)
            .where(col(Referral.id) == uuid.UUID(late["id"]))
            .values(due_by=utcnow() - timedelta(days=1))
        )
        await session.commit()
    await assign(client, covered, first, first)

    assert await inbox(client, second, overdue="true") == [late["id"]]
    assert await inbox(client, second, needs_cover="true") == []
    away = (utcnow() + timedelta(days=14)).isoformat()
    assert (await client.patch("/v1/me", json={"away_until": away}, headers=first.headers)).status_code == 200
    assert await inbox(client, second, needs_cover="true") == [covered["id"]]
    await assign(client, covered, second, second)
    assert await inbox(client, second, needs_cover="true") == []
