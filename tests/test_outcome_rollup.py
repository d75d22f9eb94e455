"""Each referral's outcome rollup, kept as outcomes are recorded, agrees with the outcomes table."""

import uuid
from datetime import date, timedelta

import httpx

from app.db import get_sessionmaker
from app.models.outcome import OUTCOME_BITS, OutcomeType
from app.models.referral import Referral
from app.services.outcomes import rollup_statement
from app.unit_of_work import committed
from tests.support.referral_helpers import create_referral, make_network, move


async def rollup_of(referral_id: str) -> tuple[int, date | None]:
    async with get_sessionmaker()() as session:
        referral = await session.get(Referral, uuid.UUID(referral_id))
        assert referral is not None
        return referral.outcome_types, referral.first_outcome_on


async def test_recorded_outcomes_roll_up_by_type_and_earliest_date(client: httpx.AsyncClient) -> None:
    net = await make_network()
    referral = await create_referral(client, net)
    await move(client, referral, net.debt_headers, "accepted")
    url = f"/v1/referrals/{referral['id']}/outcomes"
    today, earlier = date.today(), date.today() - timedelta(days=10)
    for outcome_type, day, headers in (
        ("debt_plan_agreed", today, net.debt_headers),
        ("debt_plan_agreed", today, net.centre_headers),  # the same type again, by the other agency
        ("job_entry", earlier, net.centre_headers),
    ):
        response = await client.post(
            url, json={"type": outcome_type, "occurred_on": day.isoformat()}, headers=headers
        )
        assert response.status_code == 201, response.text

    expected = OUTCOME_BITS[OutcomeType.DEBT_PLAN_AGREED] | OUTCOME_BITS[OutcomeType.JOB_ENTRY]
    assert await rollup_of(referral["id"]) == (expected, earlier)

    async def recompute(session):  # type: ignore[no-untyped-def]
        await session.execute(rollup_statement())

    await committed(recompute)
    assert await rollup_of(referral["id"]) == (expected, earlier)


async def test_concurrent_outcomes_are_all_rolled_up(client: httpx.AsyncClient) -> None:
    import asyncio

    net = await make_network()
    referral = await create_referral(client, net)
    await move(client, referral, net.debt_headers, "accepted")
    url = f"/v1/referrals/{referral['id']}/outcomes"
    kinds = ["job_entry", "training_started", "childcare_arranged", "confidence_improved"]
    responses = await asyncio.gather(
        *(
            client.post(
                url, json={"type": k, "occurred_on": date.today().isoformat()}, headers=net.debt_headers
            )
            for k in kinds
        )
    )
    assert [r.status_code for r in responses] == [201] * 4
    types, _ = await rollup_of(referral["id"])
    assert types == sum(OUTCOME_BITS[OutcomeType(k)] for k in kinds)
