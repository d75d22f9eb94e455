"""Withdrawing consent through one agency withdraws every referral under it, and tells that agency
nothing about the referrals it is not party to."""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.models.directory import AgencyKind, Purpose
from app.models.identity import Role
from tests.support.factories import bearer, make_agency, make_service
from tests.support.referral_helpers import Network, consent_body, create_referral, make_network

PURPOSES = ["debt_advice", "housing_support", "benefits_advice"]


@dataclass
class TwoReferrals:
    net: Network
    housing_headers: dict[str, str]
    to_debt: dict[str, Any]
    to_housing: dict[str, Any]

    @property
    def consent_id(self) -> str:
        return str(self.to_debt["consent_id"])


@pytest.fixture
async def two(client: httpx.AsyncClient) -> TwoReferrals:
    """The centre refers one person, under one consent, to debt advice and to a housing agency."""
    net = await make_network()
    housing = await make_agency(AgencyKind.HOUSING, name="Wrexham Housing Options")
    service = await make_service(housing, [Purpose.HOUSING_SUPPORT])
    to_debt = await create_referral(client, net, consent=consent_body(purposes=PURPOSES))
    response = await client.post(
        "/v1/referrals",
        headers=net.centre_headers,
        json={
            "to_service_id": str(service.id),
            "purpose": "housing_support",
            "reason": "Facing eviction",
            "consent_id": to_debt["consent_id"],
        },
    )
    assert response.status_code == 201, response.text
    return TwoReferrals(net, bearer(housing, Role.CASEWORKER), to_debt, response.json())


async def withdraw(client: httpx.AsyncClient, two: TwoReferrals, headers: dict[str, str]) -> httpx.Response:
    return await client.post(
        f"/v1/consents/{two.consent_id}/withdraw",
        json={"reason": "Rang debt advice: does not want the housing team involved"},
        headers=headers,
    )


async def history(client: httpx.AsyncClient, referral: dict[str, Any], headers: dict[str, str]) -> Any:
    response = await client.get(f"/v1/referrals/{referral['id']}/history", headers=headers)
    return response.json()["items"]


async def test_the_caller_is_told_only_of_its_own_referrals(
    client: httpx.AsyncClient, two: TwoReferrals
) -> None:
    response = await withdraw(client, two, two.net.debt_headers)

    assert response.status_code == 200, response.text
    assert response.json()["withdrawn_referral_ids"] == [two.to_debt["id"]]
    assert two.to_housing["id"] not in response.text
    assert two.to_housing["to_agency_id"] not in response.text
    assert "housing_support" not in response.text


async def test_every_open_referral_is_still_withdrawn(client: httpx.AsyncClient, two: TwoReferrals) -> None:
    await withdraw(client, two, two.net.debt_headers)

    for referral, headers in ((two.to_debt, two.net.debt_headers), (two.to_housing, two.housing_headers)):
        view = await client.get(f"/v1/referrals/{referral['id']}", headers=headers)
        assert view.json()["status"] == "withdrawn"


async def test_other_agencies_see_the_person_withdraw_through_the_service(
    client: httpx.AsyncClient, two: TwoReferrals
) -> None:
    await withdraw(client, two, two.net.debt_headers)

    for headers in (two.housing_headers, two.net.centre_headers):
        last = (await history(client, two.to_housing, headers))[-1]
        assert last["to_status"] == "withdrawn"
        assert last["reason_code"] == "consent_withdrawn"
        assert last["actor"] == {"kind": "subject", "id": None, "agency_id": None}
    # On the caller's own referral, both parties see who took the call.
    own = (await history(client, two.to_debt, two.net.centre_headers))[-1]
    assert own["actor"]["agency_id"] == str(two.net.debt.id)


async def test_a_receiving_agency_sees_only_what_its_referrals_rely_on(
    client: httpx.AsyncClient, two: TwoReferrals
) -> None:
    await withdraw(client, two, two.net.debt_headers)
    url = f"/v1/consents/{two.consent_id}"

    housing = (await client.get(url, headers=two.housing_headers)).json()
    debt = (await client.get(url, headers=two.net.debt_headers)).json()
    centre = (await client.get(url, headers=two.net.centre_headers)).json()

    assert (housing["status"], housing["purposes"], housing["withdrawal_reason"]) == (
        "withdrawn",
        ["housing_support"],
        None,
    )
    # The reason is debt advice's own words: shown to it, not to the agency that recorded the consent.
    assert debt["purposes"] == ["debt_advice"]
    assert debt["withdrawal_reason"].startswith("Rang debt advice")
    assert centre["purposes"] == PURPOSES
    assert (centre["status"], centre["withdrawal_reason"]) == ("withdrawn", None)
    assert centre["withdrawn_at"] is not None


async def test_a_consent_in_force_shows_a_receiver_its_own_purposes(
    client: httpx.AsyncClient, two: TwoReferrals
) -> None:
    response = await client.get(f"/v1/consents/{two.consent_id}", headers=two.net.debt_headers)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["purposes"]) == ("in_force", ["debt_advice"])
