"""Every move through the state machine, by each party: allowed, refused by the machine (409),
or refused because it is the other party's move (403)."""

import itertools

import httpx
import pytest

from app.models.referral import ReferralStatus
from tests.support.referral_helpers import Network, appointment, create_referral, force_status

# The design's table, written out independently of the implementation.
MACHINE = {
    "submitted": {"received", "accepted", "declined", "cancelled", "withdrawn"},
    "received": {"accepted", "declined", "cancelled", "withdrawn"},
    "accepted": {"handover_scheduled", "in_progress", "completed", "cancelled", "withdrawn"},
    "handover_scheduled": {"in_progress", "completed", "cancelled", "withdrawn"},
    "in_progress": {"completed", "withdrawn"},
    "declined": set(),
    "completed": set(),
    "cancelled": set(),
    "withdrawn": set(),
}
RECEIVER_SETS = {"received", "accepted", "declined", "handover_scheduled", "in_progress", "completed"}
SENDER_SETS = {"cancelled"}
DETAILS: dict[str, dict[str, object]] = {
    "declined": {"reason_code": "no_capacity"},
    "cancelled": {"reason_code": "no_longer_needed"},
    "handover_scheduled": {"appointment": appointment()},
}
STATES = list(MACHINE)


def expected(start: str, target: str, party: str) -> int:
    if target not in MACHINE[start]:
        return 409
    return 200 if target in (RECEIVER_SETS if party == "receiver" else SENDER_SETS) else 403


@pytest.mark.parametrize(("start", "party"), list(itertools.product(STATES, ["receiver", "sender"])))
async def test_every_move_from_every_state(
    client: httpx.AsyncClient, net: Network, start: str, party: str
) -> None:
    headers = net.debt_headers if party == "receiver" else net.centre_headers
    for target in STATES:
        referral = await create_referral(client, net, allow_duplicate=True, duplicate_reason="state test")
        # An outcome exists, so `completed` is judged by the machine alone here.
        await force_status(referral["id"], ReferralStatus(start), outcome_count=1)
        response = await client.post(
            f"/v1/referrals/{referral['id']}/transitions",
            json={"to": target, **DETAILS.get(target, {})},
            headers={**headers, "If-Match": '"1"'},
        )
        assert response.status_code == expected(start, target, party), (start, target, party, response.text)
        if response.status_code != 200:
            assert response.headers["content-type"] == "application/problem+json"
            allowed = set(MACHINE[start]) & (RECEIVER_SETS if party == "receiver" else SENDER_SETS)
            assert set(response.json()["allowed_actions"]) == allowed
        else:
            assert response.json()["status"] == target
            assert response.json()["version"] == 2


async def test_allowed_actions_follow_the_state_and_the_party(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await create_referral(client, net)
    url = f"/v1/referrals/{referral['id']}"
    for status in STATES:
        await force_status(referral["id"], ReferralStatus(status), outcome_count=0)
        receiver = (await client.get(url, headers=net.debt_headers)).json()["allowed_actions"]
        sender = (await client.get(url, headers=net.centre_headers)).json()["allowed_actions"]
        assert set(receiver) == (MACHINE[status] & RECEIVER_SETS) - {"completed"}, status
        assert set(sender) == MACHINE[status] & SENDER_SETS, status


async def test_read_only_token_is_offered_no_actions(client: httpx.AsyncClient, net: Network) -> None:
    from tests.support.factories import bearer

    referral = await create_referral(client, net)
    read_only = bearer(net.debt, scopes=["referrals:read"])
    view = (await client.get(f"/v1/referrals/{referral['id']}", headers=read_only)).json()
    assert view["allowed_actions"] == []
    refused = await client.post(
        f"/v1/referrals/{referral['id']}/transitions",
        json={"to": "accepted"},
        headers={**read_only, "If-Match": '"1"'},
    )
    assert refused.status_code == 403
