"""The warm-handover story, end to end through the HTTP API.

A children's centre refers a parent to debt advice; debt advice accepts, schedules a joint
appointment, records a debt plan and completes; the children's centre sees each step and the outcome.
"""

from datetime import date, datetime, timedelta

import httpx

from tests.support.referral_helpers import appointment, create_referral, make_network, move


async def test_children_centre_refers_a_parent_to_debt_advice_and_sees_the_outcome(
    client: httpx.AsyncClient,
) -> None:
    net = await make_network()

    # The children's centre sends the referral.
    created = await create_referral(client, net)
    rid = created["id"]
    assert created["status"] == "submitted"
    assert created["reference"].startswith("RX-")
    assert created["from_agency_id"] == str(net.centre.id)
    assert created["to_agency_id"] == str(net.debt.id)
    assert created["allowed_actions"] == ["cancelled"]
    assert created["first_viewed_at"] is None
    due = datetime.fromisoformat(created["due_by"]) - datetime.fromisoformat(created["created_at"])
    assert due == timedelta(days=5)

    # Debt advice finds it in its inbox and opens it; the first view is stamped.
    inbox = (await client.get("/v1/referrals", params={"box": "inbox"}, headers=net.debt_headers)).json()
    assert [r["id"] for r in inbox["items"]] == [rid]
    opened = await client.get(f"/v1/referrals/{rid}", headers=net.debt_headers)
    assert opened.headers["ETag"] == '"1"'
    assert opened.json()["first_viewed_at"] is not None
    assert opened.json()["allowed_actions"] == ["received", "accepted", "declined"]
    assert opened.json()["subject"]["given_name"] == "Natalie"

    # The referrer can see it has been read.
    seen = (await client.get(f"/v1/referrals/{rid}", headers=net.centre_headers)).json()
    assert seen["first_viewed_at"] == opened.json()["first_viewed_at"]

    # Accept, then schedule the joint appointment.
    accepted = await move(client, created, net.debt_headers, "accepted", note="We can help.")
    assert accepted.status_code == 200, accepted.text
    assert accepted.headers["ETag"] == '"2"'
    assert accepted.json()["decided_at"] is not None
    slot = appointment()
    scheduled = await move(client, created, net.debt_headers, "handover_scheduled", appointment=slot)
    assert scheduled.status_code == 200, scheduled.text
    view = (await client.get(f"/v1/referrals/{rid}", headers=net.centre_headers)).json()
    assert view["status"] == "handover_scheduled"
    assert view["appointment"]["location"] == slot["location"]

    # A message each way.
    await client.post(
        f"/v1/referrals/{rid}/messages",
        json={"body": "Natalie can bring her letters."},
        headers=net.centre_headers,
    )
    await client.post(
        f"/v1/referrals/{rid}/messages", json={"body": "Thanks, see you both then."}, headers=net.debt_headers
    )

    # Not completable until an outcome is recorded.
    early = await move(client, created, net.debt_headers, "completed")
    assert early.status_code == 409
    outcome = await client.post(
        f"/v1/referrals/{rid}/outcomes",
        headers=net.debt_headers,
        json={
            "type": "debt_plan_agreed",
            "occurred_on": date.today().isoformat(),
            "note": "Affordable plan agreed.",
        },
    )
    assert outcome.status_code == 201, outcome.text
    assert outcome.json()["kind"] == "hard"
    assert outcome.json()["recorded_by_agency_id"] == str(net.debt.id)
    completed = await move(client, created, net.debt_headers, "completed")
    assert completed.status_code == 200, completed.text
    assert completed.json()["closed_at"] is not None
    assert completed.json()["allowed_actions"] == []

    # The children's centre sees the completion, the outcome, the thread and every step.
    final = (await client.get(f"/v1/referrals/{rid}", headers=net.centre_headers)).json()
    assert final["status"] == "completed"
    outcomes = (await client.get(f"/v1/referrals/{rid}/outcomes", headers=net.centre_headers)).json()["items"]
    assert [(o["type"], o["kind"]) for o in outcomes] == [("debt_plan_agreed", "hard")]
    thread = (await client.get(f"/v1/referrals/{rid}/messages", headers=net.centre_headers)).json()["items"]
    assert [m["author"]["agency_id"] for m in thread] == [str(net.centre.id), str(net.debt.id)]
    history = (await client.get(f"/v1/referrals/{rid}/history", headers=net.centre_headers)).json()["items"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "submitted"),
        ("submitted", "accepted"),
        ("accepted", "handover_scheduled"),
        ("handover_scheduled", "completed"),
    ]
    assert history[1]["actor"]["agency_id"] == str(net.debt.id)
    assert history[1]["note"] == "We can help."
    sent = (await client.get("/v1/referrals", params={"box": "sent"}, headers=net.centre_headers)).json()
    assert [(r["id"], r["status"]) for r in sent["items"]] == [(rid, "completed")]

    # A job six months later can still be recorded against the completed referral.
    later = await client.post(
        f"/v1/referrals/{rid}/outcomes",
        headers=net.centre_headers,
        json={"type": "job_entry", "occurred_on": date.today().isoformat()},
    )
    assert later.status_code == 201
