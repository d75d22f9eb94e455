"""Creating referrals: consent, the receiving service, duplicates and idempotency keys."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db import get_sessionmaker
from app.models.directory import Purpose
from app.models.referral import Referral
from tests.support.factories import make_service
from tests.support.referral_helpers import (
    Network,
    consent_body,
    create_referral,
    move,
    platform_subject,
    referral_body,
    subject_body,
)


async def post(
    client: httpx.AsyncClient, net: Network, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post("/v1/referrals", json=body, headers={**net.centre_headers, **headers})


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


async def count_referrals() -> int:
    async with get_sessionmaker()() as session:
        return int((await session.execute(select(func.count()).select_from(Referral))).scalar_one())


YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).isoformat()
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consent": None}, "consent"),
        ({"consent": consent_body(expires_at=YESTERDAY)}, "consent.expires_at"),
        ({"consent": consent_body(purposes=["esol"])}, "consent.purposes"),
        ({"consent": consent_body(lawful_basis="public_task")}, "consent.sharing_agreement_ref"),
        ({"consent": consent_body(given_at=TOMORROW)}, "consent.given_at"),
        ({"consent": consent_body(data_categories=["circumstances"])}, "subject.phone"),
        ({"consent": consent_body(data_categories=["contact"])}, "subject.circumstances"),
        ({"consent": consent_body(given_at="2026-11-20T10:15:00")}, "consent.given_at"),
        ({"subject": None}, "subject"),
        ({"subject": subject_body(date_of_birth="2999-01-01")}, "subject.date_of_birth"),
        ({"consent_id": str(uuid.uuid4())}, "consent_id"),
    ],
)
async def test_refused_consent_names_the_field(
    client: httpx.AsyncClient, net: Network, change: dict[str, Any], field: str
) -> None:
    response = await post(client, net, referral_body(net.debt_service, **change))
    assert field in fields(response)
    assert await count_referrals() == 0


async def test_another_lawful_basis_with_a_sharing_agreement_is_accepted(
    client: httpx.AsyncClient, net: Network
) -> None:
    body = referral_body(
        net.debt_service,
        consent=consent_body(lawful_basis="public_task", sharing_agreement_ref="WASPI-2026-014"),
    )
    assert (await post(client, net, body)).status_code == 201


async def test_a_consent_can_be_reused_by_id_for_a_purpose_it_covers(
    client: httpx.AsyncClient, net: Network
) -> None:
    first = await create_referral(
        client, net, consent=consent_body(purposes=["debt_advice", "benefits_advice"])
    )
    benefits = await make_service(net.debt, [Purpose.BENEFITS_ADVICE])
    second = await post(
        client,
        net,
        referral_body(
            benefits, purpose="benefits_advice", consent=None, consent_id=first["consent_id"], subject=None
        ),
    )
    assert second.status_code == 201, second.text
    assert await platform_subject(second.json()) == await platform_subject(first)
    assert {k: second.json()["subject"][k] for k in ("given_name", "phone")} == {
        k: first["subject"][k] for k in ("given_name", "phone")
    }
    uncovered = await post(
        client,
        net,
        referral_body(
            await make_service(net.debt, [Purpose.HOUSING_SUPPORT]),
            purpose="housing_support",
            consent=None,
            consent_id=first["consent_id"],
            subject=None,
        ),
    )
    assert fields(uncovered) == ["consent_id"]


async def test_a_consent_cannot_be_reused_for_another_person(client: httpx.AsyncClient, net: Network) -> None:
    first = await create_referral(client, net)
    body = referral_body(
        net.debt_service,
        consent=None,
        consent_id=first["consent_id"],
        subject=subject_body(given_name="Someone", family_name="Else"),
    )
    assert fields(await post(client, net, body)) == ["consent_id"]


async def test_another_agency_cannot_reuse_a_consent(client: httpx.AsyncClient, net: Network) -> None:
    first = await create_referral(client, net)
    other = await make_service(net.centre, [Purpose.DEBT_ADVICE])
    body = referral_body(other, consent=None, consent_id=first["consent_id"], subject=None)
    response = await client.post("/v1/referrals", json=body, headers=net.outsider_headers)
    assert fields(response) == ["consent_id"]


async def test_inline_consent_and_consent_id_together_are_refused(
    client: httpx.AsyncClient, net: Network
) -> None:
    first = await create_referral(client, net)
    body = referral_body(net.debt_service, consent_id=first["consent_id"])
    assert fields(await post(client, net, body)) == ["consent_id"]


async def test_service_not_accepting_referrals_is_409_with_a_reason(
    client: httpx.AsyncClient, net: Network
) -> None:
    paused = await make_service(net.debt, [Purpose.DEBT_ADVICE], accepting_referrals=False)
    response = await post(client, net, referral_body(paused))
    assert response.status_code == 409
    assert response.json()["reason"] == "not_accepting_referrals"


async def test_purpose_the_service_does_not_offer_is_422(client: httpx.AsyncClient, net: Network) -> None:
    body = referral_body(net.debt_service, purpose="esol", consent=consent_body(purposes=["esol"]))
    assert fields(await post(client, net, body)) == ["purpose"]


async def test_unknown_service_and_own_agency_are_422(client: httpx.AsyncClient, net: Network) -> None:
    unknown = referral_body(net.debt_service, to_service_id=str(uuid.uuid4()))
    assert fields(await post(client, net, unknown)) == ["to_service_id"]
    own = await make_service(net.centre, [Purpose.DEBT_ADVICE])
    assert fields(await post(client, net, referral_body(own))) == ["to_service_id"]


async def test_bad_enums_and_missing_fields_are_named(client: httpx.AsyncClient, net: Network) -> None:
    body = referral_body(net.debt_service, urgency="whenever", handover_mode="carrier_pigeon")
    del body["reason"]
    assert set(fields(await post(client, net, body))) == {"urgency", "handover_mode", "reason"}


async def test_due_by_follows_the_service_response_target(client: httpx.AsyncClient, net: Network) -> None:
    slow = await make_service(net.debt, [Purpose.DEBT_ADVICE], response_target_days=14)
    created = (await post(client, net, referral_body(slow))).json()
    gap = datetime.fromisoformat(created["due_by"]) - datetime.fromisoformat(created["created_at"])
    assert gap == timedelta(days=14)


async def test_second_open_referral_for_the_same_person_is_409_naming_the_first(
    client: httpx.AsyncClient, net: Network
) -> None:
    first = await create_referral(client, net)
    again = referral_body(net.debt_service, subject=subject_body(given_name="NATALIE", phone="07700900999"))
    response = await post(client, net, again)
    assert response.status_code == 409
    assert response.json()["existing_referral_id"] == first["id"]

    assert fields(await post(client, net, {**again, "allow_duplicate": True})) == ["duplicate_reason"]
    allowed = await post(client, net, {**again, "allow_duplicate": True, "duplicate_reason": "Second debt"})
    assert allowed.status_code == 201


@pytest.mark.parametrize("named", [False, True], ids=["by consent only", "by consent and details"])
async def test_a_referral_under_a_stored_consent_is_checked_for_duplicates(
    client: httpx.AsyncClient, net: Network, named: bool
) -> None:
    first = await create_referral(client, net)
    subject = subject_body(family_name="EXAMPLE", phone="07700900999") if named else None
    again = referral_body(net.debt_service, consent=None, consent_id=first["consent_id"], subject=subject)
    response = await post(client, net, again)
    assert response.status_code == 409, response.text
    assert response.json()["existing_referral_id"] == first["id"]
    allowed = await post(client, net, {**again, "allow_duplicate": True, "duplicate_reason": "Second debt"})
    assert allowed.status_code == 201


async def test_a_closed_referral_does_not_block_a_new_one(client: httpx.AsyncClient, net: Network) -> None:
    first = await create_referral(client, net)
    declined = await move(client, first, net.debt_headers, "declined", reason_code="no_capacity")
    assert declined.status_code == 200
    assert (await post(client, net, referral_body(net.debt_service))).status_code == 201


async def test_idempotency_key_replays_the_first_response(client: httpx.AsyncClient, net: Network) -> None:
    body = referral_body(net.debt_service)
    first = await post(client, net, body, **{"Idempotency-Key": "create-natalie-1"})
    again = await post(client, net, body, **{"Idempotency-Key": "create-natalie-1"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await count_referrals() == 1


async def test_idempotency_key_with_another_body_is_422(client: httpx.AsyncClient, net: Network) -> None:
    await post(client, net, referral_body(net.debt_service), **{"Idempotency-Key": "k-1"})
    other = await post(
        client, net, referral_body(net.debt_service, reason="Different"), **{"Idempotency-Key": "k-1"}
    )
    assert fields(other) == ["Idempotency-Key"]


async def test_idempotency_keys_belong_to_one_caller(client: httpx.AsyncClient, net: Network) -> None:
    from app.models.identity import Role
    from tests.support.factories import bearer

    body = referral_body(net.debt_service)
    await post(client, net, body, **{"Idempotency-Key": "shared-key"})
    colleague = await client.post(
        "/v1/referrals",
        json=referral_body(net.debt_service, allow_duplicate=True, duplicate_reason="colleague"),
        headers={**bearer(net.centre, Role.CASEWORKER), "Idempotency-Key": "shared-key"},
    )
    assert colleague.status_code == 201
    assert await count_referrals() == 2


async def test_outcomes_wait_for_acceptance_and_are_typed(client: httpx.AsyncClient, net: Network) -> None:
    referral = await create_referral(client, net)
    url = f"/v1/referrals/{referral['id']}/outcomes"
    today = date.today().isoformat()
    early = await client.post(url, json={"type": "job_entry", "occurred_on": today}, headers=net.debt_headers)
    assert early.status_code == 409
    await move(client, referral, net.debt_headers, "accepted")
    soft = await client.post(
        url, json={"type": "confidence_improved", "occurred_on": today}, headers=net.debt_headers
    )
    assert soft.json()["kind"] == "soft"
    future = (date.today() + timedelta(days=3)).isoformat()
    ahead = await client.post(
        url, json={"type": "job_entry", "occurred_on": future}, headers=net.debt_headers
    )
    assert fields(ahead) == ["occurred_on"]
    bogus = await client.post(
        url, json={"type": "lottery_win", "occurred_on": today}, headers=net.debt_headers
    )
    assert fields(bogus) == ["type"]


async def test_a_retried_outcome_is_recorded_once(client: httpx.AsyncClient, net: Network) -> None:
    referral = await create_referral(client, net)
    await move(client, referral, net.debt_headers, "accepted")
    url = f"/v1/referrals/{referral['id']}/outcomes"
    body = {"type": "debt_plan_agreed", "occurred_on": date.today().isoformat()}
    headers = {**net.debt_headers, "Idempotency-Key": "outcome-1"}

    first = await client.post(url, json=body, headers=headers)
    retry = await client.post(url, json=body, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    listed = (await client.get(url, headers=net.debt_headers)).json()["items"]
    assert len(listed) == 1
    view = (await client.get(f"/v1/referrals/{referral['id']}", headers=net.debt_headers)).json()
    assert view["outcome_count"] == 1


async def test_an_overlong_idempotency_key_is_422(client: httpx.AsyncClient, net: Network) -> None:
    response = await post(client, net, referral_body(net.debt_service), **{"Idempotency-Key": "k" * 300})
    assert fields(response) == ["Idempotency-Key"]
