"""The team story: a children's centre refers; two debt advisers share the inbox; one takes the
referral and goes away, the other covers. Every notification reaches a real SMTP server once,
with no personal data in it, and the referrer hears of the acceptance and of the outcome."""

from datetime import date, timedelta
from typing import Any

import httpx

from app import worker
from app.config import Settings
from app.db import utcnow
from app.models.identity import Role
from tests.support.mail import Mailbox, smtp_server  # noqa: F401  (fixture)
from tests.support.referral_helpers import make_network, move, referral_body
from tests.support.staff import Staff, make_staff

PERSONAL = ("Natalie", "Example", "1994-03-02", "02/03/1994", "LL13 9AA", "07700900123", "Rent arrears")


async def send_all(settings: Settings) -> int:
    return await worker.notify_due(settings)


async def assign(client: httpx.AsyncClient, referral: dict[str, Any], who: Staff, to: Staff) -> None:
    response = await client.post(
        f"/v1/referrals/{referral['id']}/assignment", json={"user_id": str(to.user.id)}, headers=who.headers
    )
    assert response.status_code == 200, response.text


async def test_the_team_story(client: httpx.AsyncClient, smtp_server: tuple[Mailbox, Settings]) -> None:  # noqa: F811
    mailbox, settings = smtp_server
    net = await make_network()
    referrer = await make_staff(client, net.centre, email="referrer@centre.example")
    ann = await make_staff(client, net.debt, email="ann@debt.example")
    bob = await make_staff(client, net.debt, email="bob@debt.example")
    debt_admin = await make_staff(client, net.debt, Role.AGENCY_ADMIN, email="admin@debt.example")

    sent = await client.post("/v1/referrals", json=referral_body(net.debt_service), headers=referrer.headers)
    assert sent.status_code == 201, sent.text
    referral = sent.json()
    assert await send_all(settings) == 2
    assert [len(mailbox.to(a)) for a in ("ann@debt.example", "bob@debt.example")] == [1, 1]

    await assign(client, referral, ann, ann)
    assert (await move(client, referral, ann.headers, "accepted")).status_code == 200
    away = (utcnow() + timedelta(days=10)).isoformat()
    assert (await client.patch("/v1/me", json={"away_until": away}, headers=ann.headers)).status_code == 200
    message = {"body": "Natalie can come in on Tuesday."}
    assert (
        await client.post(f"/v1/referrals/{referral['id']}/messages", json=message, headers=referrer.headers)
    ).status_code == 201

    cover = await client.get(
        "/v1/referrals", params={"box": "inbox", "needs_cover": "true"}, headers=bob.headers
    )
    assert [r["id"] for r in cover.json()["items"]] == [referral["id"]]
    await assign(client, referral, bob, bob)
    outcome = {
        "type": "debt_plan_agreed",
        "occurred_on": date.today().isoformat(),
        "note": "Natalie agreed a plan",
    }
    assert (
        await client.post(f"/v1/referrals/{referral['id']}/outcomes", json=outcome, headers=bob.headers)
    ).status_code == 201
    assert await send_all(settings) == 3
    assert await send_all(settings) == 0

    to_referrer = [m["Subject"] for m in mailbox.to("referrer@centre.example")]
    assert len(to_referrer) == 2
    assert any("accepted" in s for s in to_referrer)
    assert any("Outcome recorded" in s for s in to_referrer)
    assert [m["Subject"] for m in mailbox.to("bob@debt.example")][1].endswith("New message")
    assert len(mailbox.to("ann@debt.example")) == 1
    assert mailbox.to("admin@debt.example") == []
    assert len(mailbox.received) == 5
    for text in mailbox.texts():
        assert referral["reference"] in text
        assert f"/referrals/{referral['id']}" in text
        for value in PERSONAL:
            assert value not in text

    log = await client.get("/v1/notifications", headers=debt_admin.headers)
    assert log.status_code == 200, log.text
    items = log.json()["items"]
    assert sorted(i["recipient"] for i in items) == [
        "ann@debt.example",
        "bob@debt.example",
        "bob@debt.example",
    ]
    assert all(i["status"] == "sent" and i["attempt_count"] == 1 and len(i["attempts"]) == 1 for i in items)
    assert {i["referral_reference"] for i in items} == {referral["reference"]}
