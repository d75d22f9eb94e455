"""Signposting: recorded and listed by the caller's agency only, reported apart from referrals."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.models.directory import Purpose
from app.models.identity import Role, Scope
from tests.support.factories import bearer, make_service
from tests.support.measure_rows import audit_events, insert_signpost
from tests.support.referral_helpers import Network
from tests.support.referral_rows import insert_referral

TODAY = date.today()
ADMIN = bearer(None, Role.PLATFORM_ADMIN)


def signpost_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service_name": "Wrexham food bank",
        "purpose": "benefits_advice",
        "occurred_on": TODAY.isoformat(),
        "note": "Open Tuesdays and Fridays; bring a voucher.",
    }
    return body | overrides


async def record(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v1/signposts", json=signpost_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_record_a_signpost_to_a_directory_service(client: httpx.AsyncClient, net: Network) -> None:
    body = signpost_body(service_name=None, service_id=str(net.debt_service.id), purpose="debt_advice")
    response = await client.post("/v1/signposts", json=body, headers=net.centre_headers)

    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == f"/v1/signposts/{created['id']}"
    assert (created["service_id"], created["service_name"]) == (str(net.debt_service.id), None)
    assert created["agency_id"] == str(net.centre.id)
    assert created["occurred_on"] == TODAY.isoformat()
    shown = await client.get(response.headers["Location"], headers=net.centre_headers)
    assert shown.json() == created


async def test_recording_is_audited_with_ids_and_codes_only(client: httpx.AsyncClient, net: Network) -> None:
    created = await record(client, net.centre_headers)

    (event,) = await audit_events("signpost.recorded")
    assert (event.entity_type, event.entity_id) == ("signpost", created["id"])
    assert event.actor_agency_id == net.centre.id
    assert (event.referral_id, event.subject_id) == (None, None)
    assert event.details == {"purpose": "benefits_advice", "service_id": None}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"service_name": None}, "body"),
        ({"service_id": str(uuid.uuid4())}, "body"),
        ({"service_name": "   "}, "service_name"),
        ({"occurred_on": (TODAY + timedelta(days=1)).isoformat()}, "occurred_on"),
        ({"purpose": "astrology"}, "purpose"),
        ({"note": "x" * 501}, "note"),
    ],
)
async def test_invalid_signposts_are_422_problems(
    client: httpx.AsyncClient, net: Network, overrides: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/signposts", json=signpost_body(**overrides), headers=net.centre_headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_an_unknown_directory_service_is_422(client: httpx.AsyncClient, net: Network) -> None:
    body = signpost_body(service_name=None, service_id=str(uuid.uuid4()))
    response = await client.post("/v1/signposts", json=body, headers=net.centre_headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "service_id"


async def test_idempotency_key_replays_the_first_signpost(client: httpx.AsyncClient, net: Network) -> None:
    headers = {**net.centre_headers, "Idempotency-Key": "signpost-1"}
    first = await client.post("/v1/signposts", json=signpost_body(), headers=headers)
    again = await client.post("/v1/signposts", json=signpost_body(), headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    listed = await client.get("/v1/signposts", headers=net.centre_headers)
    assert len(listed.json()["items"]) == 1


async def test_platform_accounts_cannot_signpost(client: httpx.AsyncClient, net: Network) -> None:
    scopes = [Scope.REFERRALS_WRITE.value, Scope.REFERRALS_READ.value]
    platform = bearer(None, Role.PLATFORM_ADMIN, scopes=scopes)

    assert (await client.post("/v1/signposts", json=signpost_body(), headers=platform)).status_code == 403
    assert (await client.get("/v1/signposts", headers=platform)).status_code == 403


async def test_scopes_to_record_and_to_list(client: httpx.AsyncClient, net: Network) -> None:
    reader = bearer(net.centre, scopes=[Scope.REFERRALS_READ.value])
    writer = bearer(net.centre, scopes=[Scope.REFERRALS_WRITE.value])

    assert (await client.post("/v1/signposts", json=signpost_body(), headers=reader)).status_code == 403
    assert (await client.get("/v1/signposts", headers=writer)).status_code == 403
    await record(client, writer)
    assert len((await client.get("/v1/signposts", headers=reader)).json()["items"]) == 1


async def test_list_is_newest_first_filtered_and_paged(client: httpx.AsyncClient, net: Network) -> None:
    days = [TODAY - timedelta(days=n) for n in (5, 1, 3, 2, 4)]
    for n, day in enumerate(days):
        purpose = Purpose.DEBT_ADVICE if n % 2 else Purpose.BENEFITS_ADVICE
        await insert_signpost(net.centre, day, purpose, service_name=f"Service {n}")

    first = (await client.get("/v1/signposts", params={"limit": 3}, headers=net.centre_headers)).json()
    rest = await client.get(
        "/v1/signposts", params={"limit": 3, "cursor": first["next_cursor"]}, headers=net.centre_headers
    )
    shown = [s["occurred_on"] for s in first["items"] + rest.json()["items"]]
    assert shown == [d.isoformat() for d in sorted(days, reverse=True)]
    assert rest.json()["next_cursor"] is None

    window = {"from": days[4].isoformat(), "to": days[1].isoformat(), "purpose": "benefits_advice"}
    filtered = (await client.get("/v1/signposts", params=window, headers=net.centre_headers)).json()
    assert [s["service_name"] for s in filtered["items"]] == ["Service 2", "Service 4"]


async def test_list_refuses_bad_filters(client: httpx.AsyncClient, net: Network) -> None:
    for params in ({"from": "2026-02-01", "to": "2026-01-01"}, {"purpos": "debt_advice"}):
        response = await client.get("/v1/signposts", params=params, headers=net.centre_headers)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"


async def test_another_agency_cannot_see_your_signposts(client: httpx.AsyncClient, net: Network) -> None:
    created = await record(client, net.centre_headers)

    theirs = await client.get("/v1/signposts", headers=net.outsider_headers)
    assert theirs.json()["items"] == []
    one = await client.get(f"/v1/signposts/{created['id']}", headers=net.outsider_headers)
    assert one.status_code == 404
    assert one.headers["content-type"] == "application/problem+json"


# The report: signposts on days in the period, counted apart from referrals.

PERIOD = {"from": "2025-01-01", "to": "2025-02-01"}


async def signpost_report(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> dict[str, Any]:
    response = await client.get("/v1/reports/signposts", params={**PERIOD, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def reported_network(net: Network) -> None:
    """Signposts by the centre and the debt agency in January 2025 and either side; two referrals."""
    food_bank = await make_service(net.outsider, [Purpose.BENEFITS_ADVICE], name="Jobs club")
    jan = [date(2025, 1, d) for d in (1, 9, 31)]
    for day in jan:
        await insert_signpost(net.centre, day, Purpose.DEBT_ADVICE, service_id=net.debt_service.id)
    await insert_signpost(net.centre, jan[1], Purpose.BENEFITS_ADVICE, service_name="Food bank")
    await insert_signpost(net.centre, jan[1], Purpose.BENEFITS_ADVICE, service_id=food_bank.id)
    await insert_signpost(net.debt, jan[2], Purpose.BENEFITS_ADVICE, service_name="Food bank")
    for outside in (date(2024, 12, 31), date(2025, 2, 1)):
        await insert_signpost(net.centre, outside, Purpose.DEBT_ADVICE, service_name="Outside")
    for created in (2, 3):
        await insert_referral(net.centre, net.debt_service, created_at=datetime(2025, 1, created, tzinfo=UTC))


async def test_report_counts_signposts_apart_from_referrals(client: httpx.AsyncClient, net: Network) -> None:
    await reported_network(net)
    body = await signpost_report(client, ADMIN)

    assert (body["from"], body["to"], body["agency_id"]) == (
        "2025-01-01T00:00:00Z",
        "2025-02-01T00:00:00Z",
        None,
    )
    assert body["signposts"] == 6
    assert body["by_purpose"] == [  # most first, then by code
        {"purpose": "benefits_advice", "signposts": 3},
        {"purpose": "debt_advice", "signposts": 3},
    ]
    services = {(s["service_id"] is not None, s["service_name"]): s["signposts"] for s in body["by_service"]}
    assert services == {(True, "Money advice"): 3, (False, "Food bank"): 2, (True, "Jobs club"): 1}
    summary = await client.get("/v1/reports/summary", params=PERIOD, headers=ADMIN)
    assert summary.json()["groups"][0]["referrals"] == 2


async def test_report_is_scoped_to_the_agency(client: httpx.AsyncClient, net: Network) -> None:
    await reported_network(net)
    debt_admin = bearer(net.debt, Role.AGENCY_ADMIN)

    own = await signpost_report(client, debt_admin)
    assert (own["agency_id"], own["signposts"]) == (str(net.debt.id), 1)
    assert own["by_service"] == [{"service_id": None, "service_name": "Food bank", "signposts": 1}]
    named = await signpost_report(client, ADMIN, agency_id=str(net.centre.id))
    assert named["signposts"] == 5
    other = await client.get(
        "/v1/reports/signposts", params={"agency_id": str(net.centre.id)}, headers=debt_admin
    )
    assert other.status_code == 403
    unknown = await client.get(
        "/v1/reports/signposts", params={"agency_id": str(uuid.uuid4())}, headers=ADMIN
    )
    assert unknown.status_code == 404


async def test_a_period_starting_mid_day_counts_from_the_next_day(
    client: httpx.AsyncClient, net: Network
) -> None:
    await reported_network(net)
    body = await signpost_report(client, ADMIN, **{"from": "2025-01-09T12:00:00Z"})

    assert body["signposts"] == 2  # the 31st: one by each agency


async def test_report_needs_reports_read(client: httpx.AsyncClient, net: Network) -> None:
    response = await client.get("/v1/reports/signposts", headers=net.centre_headers)

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
