"""Concurrent requests: optimistic locking on transitions and idempotent creation."""

import asyncio

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from app.db import get_sessionmaker
from app.models.referral import Referral, StatusChange
from tests.support.referral_helpers import create_referral, make_network, referral_body, subject_body


async def test_two_concurrent_accepts_exactly_one_wins(client: httpx.AsyncClient) -> None:
    net = await make_network()
    referral = await create_referral(client, net)
    url = f"/v1/referrals/{referral['id']}/transitions"
    headers = {**net.debt_headers, "If-Match": '"1"'}

    results = await asyncio.gather(
        *(client.post(url, json={"to": "accepted"}, headers=headers) for _ in range(2))
    )

    assert sorted(r.status_code for r in results) == [200, 412]
    stale = next(r for r in results if r.status_code == 412)
    assert stale.headers["ETag"] == '"2"'
    assert stale.headers["content-type"] == "application/problem+json"
    async with get_sessionmaker()() as session:
        query = (
            select(func.count()).select_from(StatusChange).where(col(StatusChange.to_status) == "accepted")
        )
        moves = (await session.execute(query)).scalar_one()
    assert moves == 1


async def test_concurrent_moves_from_one_version_leave_one_history_entry(client: httpx.AsyncClient) -> None:
    net = await make_network()
    referral = await create_referral(client, net)
    url = f"/v1/referrals/{referral['id']}/transitions"
    bodies = [{"to": "accepted"}, {"to": "declined", "reason_code": "no_capacity"}, {"to": "received"}]

    results = await asyncio.gather(
        *(client.post(url, json=b, headers={**net.debt_headers, "If-Match": '"1"'}) for b in bodies)
    )

    assert sorted(r.status_code for r in results) == [200, 412, 412]
    final = (await client.get(f"/v1/referrals/{referral['id']}", headers=net.debt_headers)).json()
    assert final["version"] == 2


async def test_concurrent_requests_with_one_idempotency_key_create_one_referral(
    client: httpx.AsyncClient,
) -> None:
    net = await make_network()
    body = referral_body(net.debt_service)
    headers = {**net.centre_headers, "Idempotency-Key": "natalie-debt-advice"}

    results = await asyncio.gather(
        *(client.post("/v1/referrals", json=body, headers=headers) for _ in range(6))
    )

    assert [r.status_code for r in results] == [201] * 6, [r.text for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in results) == 5
    async with get_sessionmaker()() as session:
        assert (await session.execute(select(func.count()).select_from(Referral))).scalar_one() == 1


async def test_concurrent_creates_for_different_people_all_succeed(client: httpx.AsyncClient) -> None:
    net = await make_network()
    bodies = [
        referral_body(
            net.debt_service,
            subject={**referral_body(net.debt_service)["subject"], "given_name": f"Person{i}"},
        )
        for i in range(8)
    ]
    results = await asyncio.gather(
        *(client.post("/v1/referrals", json=b, headers=net.centre_headers) for b in bodies)
    )
    assert [r.status_code for r in results] == [201] * 8
    assert len({r.json()["reference"] for r in results}) == 8


async def test_concurrent_creates_for_the_same_person_make_one_referral(client: httpx.AsyncClient) -> None:
    net = await make_network()
    bodies = [
        referral_body(net.debt_service, subject=subject_body(given_name=name, family_name="EXAMPLE "))
        for name in ("Natalie", "natalie", " NATALIE", "Natalie", "natalie", "Natalie")
    ]

    results = await asyncio.gather(
        *(client.post("/v1/referrals", json=body, headers=net.centre_headers) for body in bodies)
    )

    assert sorted(r.status_code for r in results) == [201, 409, 409, 409, 409, 409], [r.text for r in results]
    [created] = [r.json()["id"] for r in results if r.status_code == 201]
    refused = [r.json() for r in results if r.status_code == 409]
    assert {problem["existing_referral_id"] for problem in refused} == {created}


async def test_the_same_person_named_in_another_case_is_a_duplicate(client: httpx.AsyncClient) -> None:
    net = await make_network()
    first = await create_referral(client, net, subject=subject_body(given_name="Zoë", family_name="Ångström"))

    again = await client.post(
        "/v1/referrals",
        json=referral_body(net.debt_service, subject=subject_body(given_name="ZOË", family_name="ÅNGSTRÖM")),
        headers=net.centre_headers,
    )

    assert again.status_code == 409, again.text
    assert again.json()["existing_referral_id"] == first["id"]
