"""Each agency's list of referrals awaiting its decision past their due time."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.db import utcnow
from app.models.directory import Agency, AgencyKind, Purpose
from app.models.identity import Role
from app.models.referral import Referral, ReferralStatus
from app.pagination import encode_cursor
from tests.support.factories import bearer, make_agency, make_service
from tests.support.referral_rows import insert_referral

S = ReferralStatus


@dataclass
class Overdue:
    centre: Agency
    debt: Agency
    expected: list[Referral]  # the debt agency's overdue list, most overdue first


@pytest.fixture
async def overdue() -> Overdue:
    centre = await make_agency(AgencyKind.CHILDRENS_CENTRE)
    debt = await make_agency(AgencyKind.DEBT_ADVICE)
    service = await make_service(debt, [Purpose.DEBT_ADVICE], response_target_days=5)
    centre_service = await make_service(centre, [Purpose.DEBT_ADVICE])
    now = utcnow()

    async def make(due_in: timedelta, status: S = S.SUBMITTED, **extra: Any) -> Referral:
        return await insert_referral(
            centre, service, created_at=now - timedelta(days=20), due_by=now + due_in, status=status, **extra
        )

    expected = [
        await make(-timedelta(days=10, hours=2)),
        await make(-timedelta(days=3, hours=1), S.RECEIVED),
        await make(-timedelta(hours=1)),
    ]
    await make(timedelta(days=1))  # not yet due
    await make(-timedelta(days=4), S.ACCEPTED, decided_at=now - timedelta(days=5))
    await make(-timedelta(days=4), S.CANCELLED)
    # Overdue for the centre, not the debt agency: the centre sent none of these itself.
    await insert_referral(debt, centre_service, created_at=now - timedelta(days=9))
    return Overdue(centre, debt, expected)


async def page(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await client.get("/v1/reports/overdue", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.AGENCY_ADMIN])
async def test_overdue_list_is_the_agencys_undecided_referrals_oldest_first(
    client: httpx.AsyncClient, overdue: Overdue, role: Role
) -> None:
    body = await page(client, bearer(overdue.debt, role))

    assert [item["id"] for item in body["items"]] == [str(r.id) for r in overdue.expected]
    assert [item["days_overdue"] for item in body["items"]] == [10, 3, 0]
    assert body["next_cursor"] is None
    first, referral = body["items"][0], overdue.expected[0]
    assert first == {
        "id": str(referral.id),
        "reference": referral.reference,
        "status": "submitted",
        "purpose": "debt_advice",
        "urgency": "routine",
        "from_agency_id": str(overdue.centre.id),
        "to_service_id": str(referral.to_service_id),
        "created_at": first["created_at"],
        "due_by": first["due_by"],
        "days_overdue": 10,
    }
    assert body["items"][1]["status"] == "received"


async def test_overdue_list_pages_with_a_cursor(client: httpx.AsyncClient, overdue: Overdue) -> None:
    headers, seen, cursor = bearer(overdue.debt), [], None
    while True:
        body = await page(client, headers, limit="2", **({"cursor": cursor} if cursor else {}))
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(r.id) for r in overdue.expected]


async def test_overdue_list_holds_no_personal_data(client: httpx.AsyncClient, overdue: Overdue) -> None:
    text = (await client.get("/v1/reports/overdue", headers=bearer(overdue.debt))).text
    for personal in ("Natalie", "Example", "LL13", "07700900123", "Rent arrears", "subject"):
        assert personal not in text


async def test_sender_sees_only_what_awaits_its_own_decision(
    client: httpx.AsyncClient, overdue: Overdue
) -> None:
    body = await page(client, bearer(overdue.centre))
    assert len(body["items"]) == 1
    assert body["items"][0]["from_agency_id"] == str(overdue.debt.id)


async def test_overdue_list_needs_referral_or_report_scope(
    client: httpx.AsyncClient, overdue: Overdue
) -> None:
    response = await client.get(
        "/v1/reports/overdue", headers=bearer(overdue.debt, scopes=["webhooks:manage"])
    )
    assert response.status_code == 403
    assert response.json()["any_of_scopes"] == ["reports:read", "referrals:read"]


@pytest.mark.usefixtures("overdue")
@pytest.mark.parametrize("role", [Role.PLATFORM_ADMIN, Role.AUDITOR])
async def test_platform_accounts_have_no_overdue_list(client: httpx.AsyncClient, role: Role) -> None:
    response = await client.get("/v1/reports/overdue", headers=bearer(None, role))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        encode_cursor("overdue", ["x", "y"]),
        encode_cursor("referrals", [datetime(2025, 1, 1, tzinfo=UTC), uuid.UUID(int=1)]),
    ],
)
async def test_a_forged_cursor_is_422(client: httpx.AsyncClient, overdue: Overdue, cursor: str) -> None:
    response = await client.get(
        "/v1/reports/overdue", params={"cursor": cursor}, headers=bearer(overdue.debt)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"
