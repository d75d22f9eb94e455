"""The warm-handover story as an auditor sees it: who saw and did what, in order."""

import json
from datetime import date

import httpx

from app.models.identity import Role
from tests.support.factories import bearer, seal
from tests.support.referral_helpers import appointment, create_referral, make_network


async def test_the_warm_handover_leaves_the_expected_trail(client: httpx.AsyncClient) -> None:
    net = await make_network()
    referral = await create_referral(client, net)
    rid, base = referral["id"], f"/v1/referrals/{referral['id']}"

    async def move(to: str, version: int, **body: object) -> None:
        response = await client.post(
            f"{base}/transitions",
            json={"to": to, **body},
            headers={**net.debt_headers, "If-Match": f'"{version}"'},
        )
        assert response.status_code == 200, response.text

    await client.get("/v1/referrals", params={"box": "inbox"}, headers=net.debt_headers)
    await client.get(base, headers=net.debt_headers)
    await move("accepted", 1)
    await move("handover_scheduled", 2, appointment=appointment())
    await client.get(base, headers=net.centre_headers)
    outcome = await client.post(
        f"{base}/outcomes",
        headers=net.debt_headers,
        json={"type": "debt_plan_agreed", "occurred_on": date.today().isoformat()},
    )
    assert outcome.status_code == 201
    await move("completed", 3)
    await client.get(f"{base}/outcomes", headers=net.centre_headers)
    # Someone from another agency tries to look: refused, and nothing about the referral is recorded for them.
    assert (await client.get(base, headers=net.outsider_headers)).status_code == 404

    auditor = bearer(None, Role.AUDITOR)
    await seal()  # as the worker's sequencer does within AUDIT_SEAL_INTERVAL_SECONDS
    trail = await client.get("/v1/audit/events", params={"referral_id": rid, "limit": "100"}, headers=auditor)
    assert trail.status_code == 200, trail.text
    events = trail.json()["items"]

    centre, debt = str(net.centre.id), str(net.debt.id)
    assert [(e["action"], e["actor"]["agency_id"]) for e in events] == [
        ("referral.created", centre),
        ("referral.listed", debt),
        ("referral.viewed", debt),
        ("referral.transitioned", debt),
        ("referral.transitioned", debt),
        ("referral.viewed", centre),
        ("outcome.recorded", debt),
        ("referral.transitioned", debt),
        ("outcome.listed", centre),
    ]
    assert [e["details"].get("to") for e in events if e["action"] == "referral.transitioned"] == [
        "accepted",
        "handover_scheduled",
        "completed",
    ]
    assert rid in events[1]["details"]["referral_ids"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs)

    # No personal data in any event of the trail.
    dumped = json.dumps(events)
    for personal in ("Natalie", "Example", "LL13", "07700900123", "1994-03-02", "Rent arrears"):
        assert personal not in dumped

    # The auditor's own search is now part of the trail, and the log still verifies.
    await seal()
    again = (
        await client.get("/v1/audit/events", params={"referral_id": rid, "limit": "100"}, headers=auditor)
    ).json()["items"]
    assert again[-1]["action"] == "audit.searched"
    assert again[-1]["actor"]["kind"] == "user"
    verify = (await client.get("/v1/audit/verify", headers=auditor)).json()
    assert verify["valid"] is True
    assert verify["first_invalid_seq"] is None

    # The subject's trail includes the consent recorded with the referral. The auditor finds the
    # person in the referral's own trail: agencies are shown only their referral's record of them.
    subject_id = next(e["subject_id"] for e in again if e["action"] == "referral.created")
    subject_trail = await client.get("/v1/audit/export", params={"subject_id": subject_id}, headers=auditor)
    actions = [json.loads(line)["action"] for line in subject_trail.text.splitlines()]
    assert actions[:2] == ["consent.recorded", "referral.created"]
