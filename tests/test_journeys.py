"""Referrals made onward from one another form a journey: one person, seen party by party."""

from datetime import date, timedelta
from typing import Any

import httpx

from app.models.identity import Role
from tests.support.factories import bearer
from tests.support.journeys import jcp_service, make_journey, onward_body, post, to_jcp
from tests.support.referral_helpers import (
    Network,
    consent_body,
    move,
    platform_subject,
    referral_body,
    subject_body,
)


async def get(client: httpx.AsyncClient, referral: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"/v1/referrals/{referral['id']}", headers=headers)
    assert response.status_code == 200, response.text
    shown: dict[str, Any] = response.json()
    return shown


def ids(journey: list[dict[str, Any]]) -> list[str]:
    return [linked["id"] for linked in journey]


async def test_an_onward_referral_reuses_the_person_and_the_consent(
    client: httpx.AsyncClient, net: Network
) -> None:
    journey = await make_journey(client, net)

    assert await platform_subject(journey.onward) == await platform_subject(journey.first)
    # Each referral has its own record of the person: the id names no one across agencies.
    assert journey.onward["subject"]["id"] != journey.first["subject"]["id"]
    assert journey.onward["consent_id"] == journey.first["consent_id"]
    assert journey.onward["subject"]["given_name"] == "Natalie"
    assert journey.onward["parent_referral_id"] == journey.first["id"]


async def test_each_agency_sees_only_the_referrals_of_the_journey_it_is_party_to(
    client: httpx.AsyncClient, net: Network
) -> None:
    journey = await make_journey(client, net)
    first, onward = journey.first, journey.onward

    centre = await get(client, first, net.centre_headers)
    jcp = await get(client, first, net.outsider_headers)
    debt = await get(client, onward, net.debt_headers)

    assert ids(centre["journey"]) == [first["id"]]
    assert ids(jcp["journey"]) == [first["id"], onward["id"]]
    assert ids(debt["journey"]) == [onward["id"]]
    # The receiver is not told which referral this one came from: it is not party to it.
    assert debt["parent_referral_id"] is None
    assert (await get(client, onward, net.outsider_headers))["parent_referral_id"] == first["id"]
    assert first["reference"] not in str(debt)
    assert str(net.centre.id) not in str(debt)


async def test_only_the_receiver_of_a_referral_can_refer_on_from_it(
    client: httpx.AsyncClient, net: Network
) -> None:
    service = await jcp_service(net)
    first = await post(client, to_jcp(service), net.centre_headers)
    # The sender, an outsider and a referral that does not exist all get the same answer.
    attempts = [
        (onward_body(net, first, subject=subject_body(), consent=consent_body()), net.centre_headers),
        (
            onward_body(net, first, to_service_id=str(service.id), purpose="job_search_support"),
            net.debt_headers,
        ),
        (onward_body(net, {"id": "00000000-0000-4000-8000-000000000000"}), net.outsider_headers),
    ]
    answers = [await client.post("/v1/referrals", json=body, headers=headers) for body, headers in attempts]

    assert [a.status_code for a in answers] == [422, 422, 422]
    assert len({a.json()["detail"] for a in answers}) == 1


async def test_a_parent_consent_that_does_not_cover_the_purpose_needs_a_new_one(
    client: httpx.AsyncClient, net: Network
) -> None:
    service = await jcp_service(net)
    narrow = to_jcp(service, consent=consent_body(purposes=["job_search_support"]))
    first = await post(client, narrow, net.centre_headers)

    refused = await client.post("/v1/referrals", json=onward_body(net, first), headers=net.outsider_headers)
    given = await post(client, onward_body(net, first, consent=consent_body()), net.outsider_headers)

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "consent"
    assert await platform_subject(given) == await platform_subject(first)
    assert given["consent_id"] != first["consent_id"]


async def test_the_same_agency_naming_someone_again_finds_the_same_person(
    client: httpx.AsyncClient, net: Network
) -> None:
    service = await jcp_service(net)
    first = await post(client, to_jcp(service), net.centre_headers)
    again = await post(
        client,
        referral_body(net.debt_service, subject=subject_body(given_name=" natalie ", postcode="ll139aa")),
        net.centre_headers,
    )
    elsewhere = await post(
        client, to_jcp(service, subject=subject_body(postcode="CH5 1AA")), net.debt_headers
    )

    assert await platform_subject(again) == await platform_subject(first)
    # Another agency naming the same person gets a person of its own: matching across agencies
    # would tell it that the children's centre knows her.
    assert await platform_subject(elsewhere) != await platform_subject(first)
    assert again["consent_id"] != first["consent_id"]


async def test_a_job_recorded_by_two_agencies_counts_once_platform_wide_and_once_each_for_them(
    client: httpx.AsyncClient, net: Network
) -> None:
    journey = await make_journey(client, net)
    assert (await move(client, journey.onward, net.debt_headers, "accepted")).status_code == 200
    job = {"type": "job_entry", "occurred_on": "2026-11-02"}
    for referral, headers in ((journey.first, net.outsider_headers), (journey.onward, net.debt_headers)):
        recorded = await client.post(f"/v1/referrals/{referral['id']}/outcomes", json=job, headers=headers)
        assert recorded.status_code == 201, recorded.text

    platform = await summary(client, bearer(None, Role.AUDITOR))
    jcp = await summary(client, bearer(net.outsider, Role.AGENCY_ADMIN))

    assert platform["outcome_rule"] == "once_per_person_per_journey"
    assert (platform["groups"][0]["journeys"], platform["groups"][0]["referrals"]) == (1, 2)
    assert jobs(platform) == {"count": 1, "referrals": 2, "journeys": 1}
    assert jcp["outcome_rule"] == "once_per_referral"
    assert jobs(jcp) == {"count": 2, "referrals": 2, "journeys": None}
    # Jobcentre Plus is party to both referrals, so it counts the journey they make; debt advice
    # counts the one referral it received as a journey of its own.
    assert jcp["groups"][0]["journeys"] == 1
    assert (await summary(client, bearer(net.debt, Role.AGENCY_ADMIN)))["groups"][0]["journeys"] == 1


async def summary(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/v1/reports/summary", headers=headers)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def jobs(report: dict[str, Any]) -> dict[str, Any]:
    tally = next(t for t in report["groups"][0]["outcomes"] if t["type"] == "job_entry")
    return {name: tally[name] for name in ("count", "referrals", "journeys")}


async def test_journeys_are_counted_alike_over_all_time_for_a_period_and_per_group(
    client: httpx.AsyncClient, net: Network
) -> None:
    await make_journey(client, net)
    auditor = bearer(None, Role.AUDITOR)

    async def journeys(**params: str) -> dict[str, int]:
        response = await client.get("/v1/reports/summary", params=params, headers=auditor)
        assert response.status_code == 200, response.text
        return {group["key"]: group["journeys"] for group in response.json()["groups"]}

    since_yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert await journeys() == {None: 1}
    assert await journeys(**{"from": since_yesterday}) == {None: 1}
    assert await journeys(group_by="purpose") == {"debt_advice": 1, "job_search_support": 1}
