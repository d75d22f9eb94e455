"""Only the two agencies see a referral; everyone else gets 404, even in listings."""

import asyncio
from datetime import UTC, date, datetime

import httpx
import pytest

from app.models.directory import Purpose
from app.models.identity import Role
from tests.support.factories import bearer, make_service
from tests.support.referral_helpers import (
    Network,
    consent_body,
    create_referral,
    move,
    subject_body,
)


async def test_an_outsider_gets_404_everywhere(client: httpx.AsyncClient, net: Network) -> None:
    referral = await create_referral(client, net)
    base = f"/v1/referrals/{referral['id']}"
    outsider = {**net.outsider_headers, "If-Match": '"1"'}

    reads = [
        await client.get(base + suffix, headers=outsider)
        for suffix in ("", "/history", "/outcomes", "/messages")
    ]
    writes = [
        await client.post(base + "/transitions", json={"to": "accepted"}, headers=outsider),
        await client.post(
            base + "/outcomes", json={"type": "job_entry", "occurred_on": "2026-11-01"}, headers=outsider
        ),
        await client.post(base + "/messages", json={"body": "hello"}, headers=outsider),
        await client.get(f"/v1/consents/{referral['consent_id']}", headers=outsider),
        await client.post(f"/v1/consents/{referral['consent_id']}/withdraw", json={}, headers=outsider),
    ]
    for response in reads + writes:
        assert response.status_code == 404, response.request.url
        assert response.headers["content-type"] == "application/problem+json"
        assert "Natalie" not in response.text
    for box in ("inbox", "sent"):
        listing = await client.get("/v1/referrals", params={"box": box}, headers=outsider)
        assert listing.json()["items"] == []


async def test_a_missing_referral_looks_the_same_as_someone_elses(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await create_referral(client, net)
    theirs = await client.get(f"/v1/referrals/{referral['id']}", headers=net.outsider_headers)
    missing = await client.get(
        "/v1/referrals/00000000-0000-0000-0000-000000000000", headers=net.outsider_headers
    )
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["title"] == missing.json()["title"]


async def test_platform_roles_cannot_use_referral_routes(client: httpx.AsyncClient, net: Network) -> None:
    referral = await create_referral(client, net)
    for role in (Role.AUDITOR, Role.PLATFORM_ADMIN):
        response = await client.get(f"/v1/referrals/{referral['id']}", headers=bearer(None, role))
        assert response.status_code == 403
        listing = await client.get("/v1/referrals", params={"box": "inbox"}, headers=bearer(None, role))
        assert listing.status_code == 403


async def test_sender_and_receiver_see_only_their_own_box(client: httpx.AsyncClient, net: Network) -> None:
    referral = await create_referral(client, net)
    inbox = await client.get("/v1/referrals", params={"box": "inbox"}, headers=net.centre_headers)
    sent = await client.get("/v1/referrals", params={"box": "sent"}, headers=net.debt_headers)
    assert inbox.json()["items"] == sent.json()["items"] == []
    assert referral["id"]


async def test_box_is_required_and_validated(client: httpx.AsyncClient, net: Network) -> None:
    missing = await client.get("/v1/referrals", headers=net.debt_headers)
    wrong = await client.get("/v1/referrals", params={"box": "everything"}, headers=net.debt_headers)
    assert missing.status_code == wrong.status_code == 422
    assert missing.json()["errors"][0]["field"] == "box"


async def test_inbox_filters(client: httpx.AsyncClient, net: Network) -> None:
    first = await create_referral(client, net)
    second = await create_referral(
        client,
        net,
        subject=subject_body(given_name="Other"),
        purpose="benefits_advice",
        consent=consent_body(purposes=["benefits_advice"]),
    )
    await move(client, first, net.debt_headers, "accepted")
    marker = datetime.now(UTC).isoformat()
    await asyncio.sleep(0.01)
    await client.post(
        f"/v1/referrals/{second['id']}/messages", json={"body": "Any news?"}, headers=net.centre_headers
    )

    async def ids(**params: str | list[str]) -> list[str]:
        response = await client.get(
            "/v1/referrals", params={"box": "inbox", **params}, headers=net.debt_headers
        )
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert await ids(status="accepted") == [first["id"]]
    assert set(await ids(status=["accepted", "submitted"])) == {first["id"], second["id"]}
    assert await ids(purpose="benefits_advice") == [second["id"]]
    assert await ids(updated_after=marker) == [second["id"]]
    naive = await client.get(
        "/v1/referrals",
        params={"box": "inbox", "updated_after": "2026-01-01T00:00:00"},
        headers=net.debt_headers,
    )
    assert naive.status_code == 422


async def test_paging_skips_and_repeats_nothing_while_referrals_arrive(
    client: httpx.AsyncClient, net: Network
) -> None:
    originals = [
        await create_referral(client, net, subject=subject_body(given_name=f"P{i}")) for i in range(7)
    ]
    seen: list[str] = []
    cursor = None
    for page_number in range(10):
        params = {"box": "inbox", "limit": "3", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/referrals", params=params, headers=net.debt_headers)).json()
        seen += [r["id"] for r in page["items"]]
        # New referrals arrive between pages.
        await create_referral(client, net, subject=subject_body(given_name=f"New{page_number}"))
        cursor = page["next_cursor"]
        if cursor is None:
            break

    expected = [r["id"] for r in reversed(originals)]
    assert seen == expected


async def test_consent_withdrawal_withdraws_every_open_referral(
    client: httpx.AsyncClient, net: Network
) -> None:
    first = await create_referral(
        client, net, consent=consent_body(purposes=["debt_advice", "benefits_advice"])
    )
    benefits = await make_service(net.debt, [Purpose.BENEFITS_ADVICE])
    response = await client.post(
        "/v1/referrals",
        headers=net.centre_headers,
        json={
            "to_service_id": str(benefits.id),
            "purpose": "benefits_advice",
            "reason": "Check entitlement",
            "consent_id": first["consent_id"],
        },
    )
    assert response.status_code == 201, response.text
    others = [response.json()]
    # The second one is finished before the withdrawal and stays as it is.
    await move(client, others[0], net.debt_headers, "accepted")
    await client.post(
        f"/v1/referrals/{others[0]['id']}/outcomes",
        headers=net.debt_headers,
        json={"type": "benefit_claim_made", "occurred_on": date.today().isoformat()},
    )
    await move(client, others[0], net.debt_headers, "completed")

    response = await client.post(
        f"/v1/consents/{first['consent_id']}/withdraw",
        json={"reason": "Asked us to stop"},
        headers=net.debt_headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["withdrawn_referral_ids"] == [first["id"]]
    assert response.json()["consent"]["status"] == "withdrawn"
    view = (await client.get(f"/v1/referrals/{first['id']}", headers=net.centre_headers)).json()
    assert view["status"] == "withdrawn"
    assert view["allowed_actions"] == []
    done = (await client.get(f"/v1/referrals/{others[0]['id']}", headers=net.centre_headers)).json()
    assert done["status"] == "completed"
    history = (await client.get(f"/v1/referrals/{first['id']}/history", headers=net.centre_headers)).json()
    assert history["items"][-1]["reason_code"] == "consent_withdrawn"
    again = await client.post(
        f"/v1/consents/{first['consent_id']}/withdraw", json={}, headers=net.debt_headers
    )
    assert again.status_code == 409
    message = await client.post(
        f"/v1/referrals/{first['id']}/messages", json={"body": "?"}, headers=net.debt_headers
    )
    assert message.status_code == 409
    reuse = await client.post(
        "/v1/referrals",
        headers=net.centre_headers,
        json={
            "to_service_id": str(benefits.id),
            "purpose": "benefits_advice",
            "reason": "again",
            "consent_id": first["consent_id"],
        },
    )
    assert reuse.status_code == 422
    assert reuse.json()["errors"][0]["field"] == "consent_id"


async def test_transition_preconditions(client: httpx.AsyncClient, net: Network) -> None:
    referral = await create_referral(client, net)
    url = f"/v1/referrals/{referral['id']}/transitions"
    missing = await client.post(url, json={"to": "accepted"}, headers=net.debt_headers)
    assert missing.status_code == 428
    stale = await client.post(url, json={"to": "accepted"}, headers={**net.debt_headers, "If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.headers["ETag"] == '"1"'
    weak = await client.post(url, json={"to": "received"}, headers={**net.debt_headers, "If-Match": 'W/"1"'})
    assert weak.status_code == 200


@pytest.mark.parametrize(
    ("to", "body", "field"),
    [
        ("declined", {}, "reason_code"),
        ("declined", {"reason_code": "too_busy"}, "reason_code"),
        ("handover_scheduled", {}, "appointment"),
        (
            "handover_scheduled",
            {"appointment": {"starts_at": "2026-12-01T10:00:00Z", "location": "Hub"}},
            "appointment.with_whom",
        ),
    ],
)
async def test_moves_missing_their_details_are_422(
    client: httpx.AsyncClient, net: Network, to: str, body: dict[str, object], field: str
) -> None:
    referral = await create_referral(client, net)
    if to == "handover_scheduled":
        await move(client, referral, net.debt_headers, "accepted")
    response = await move(client, referral, net.debt_headers, to, **body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_cancelling_needs_a_reason(client: httpx.AsyncClient, net: Network) -> None:
    referral = await create_referral(client, net)
    bare = await move(client, referral, net.centre_headers, "cancelled")
    assert bare.status_code == 422
    assert bare.json()["errors"][0]["field"] == "reason_code"
    with_note = await move(client, referral, net.centre_headers, "cancelled", note="Family moved to Chester")
    assert with_note.status_code == 200
