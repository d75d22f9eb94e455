"""Distance travelled: ratings recorded and read by the two parties only, audited, and reported."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.models.directory import Agency
from app.models.identity import Role, Scope
from app.models.measure import Scale
from app.models.referral import Referral, ReferralStatus
from app.models.subject import Subject
from tests.support.factories import bearer, make_service
from tests.support.measure_rows import audit_events, domain_events, insert_measures
from tests.support.referral_helpers import Network
from tests.support.referral_rows import insert_referral, insert_subject

S = ReferralStatus
TODAY = date.today()
ADMIN = bearer(None, Role.PLATFORM_ADMIN)


async def referral(net: Network, status: ReferralStatus = S.ACCEPTED) -> Referral:
    created = datetime.now(UTC) - timedelta(days=10)
    decided = created + timedelta(hours=3) if status not in (S.SUBMITTED, S.RECEIVED) else None
    return await insert_referral(
        net.centre, net.debt_service, created_at=created, status=status, decided_at=decided
    )


def rating(**overrides: Any) -> dict[str, Any]:
    return {"scale": "confidence", "score": 4, "taken_on": TODAY.isoformat()} | overrides


def path(referral: Referral) -> str:
    return f"/v1/referrals/{referral.id}/measures"


async def test_either_party_records_and_reads_ratings_oldest_first(
    client: httpx.AsyncClient, net: Network
) -> None:
    accepted = await referral(net)
    later = await client.post(path(accepted), json=rating(score=7), headers=net.debt_headers)
    earlier = rating(scale="wellbeing", score=3, taken_on=(TODAY - timedelta(days=2)).isoformat())
    first = await client.post(path(accepted), json=earlier, headers=net.centre_headers)

    assert (later.status_code, first.status_code) == (201, 201), later.text
    assert later.headers["Location"] == path(accepted)
    assert later.json()["recorded_by_agency_id"] == str(net.debt.id)
    assert later.json()["referral_id"] == str(accepted.id)
    for headers in (net.centre_headers, net.debt_headers):
        listed = (await client.get(path(accepted), headers=headers)).json()["items"]
        assert [(m["scale"], m["score"]) for m in listed] == [("wellbeing", 3), ("confidence", 7)]


@pytest.mark.parametrize("status", [S.ACCEPTED, S.HANDOVER_SCHEDULED, S.IN_PROGRESS, S.COMPLETED])
async def test_ratings_are_taken_once_accepted_and_after_completion(
    client: httpx.AsyncClient, net: Network, status: ReferralStatus
) -> None:
    response = await client.post(path(await referral(net, status)), json=rating(), headers=net.debt_headers)

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("status", [S.SUBMITTED, S.RECEIVED, S.DECLINED, S.CANCELLED, S.WITHDRAWN])
async def test_no_rating_before_acceptance_or_without_service(
    client: httpx.AsyncClient, net: Network, status: ReferralStatus
) -> None:
    response = await client.post(path(await referral(net, status)), json=rating(), headers=net.debt_headers)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"score": 0}, "score"),
        ({"score": 11}, "score"),
        ({"score": "high"}, "score"),
        ({"scale": "happiness"}, "scale"),
        ({"taken_on": (TODAY + timedelta(days=1)).isoformat()}, "taken_on"),
        ({"taken_on": None}, "taken_on"),
    ],
)
async def test_invalid_ratings_are_422_problems(
    client: httpx.AsyncClient, net: Network, overrides: dict[str, Any], field: str
) -> None:
    response = await client.post(
        path(await referral(net)), json=rating(**overrides), headers=net.debt_headers
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_a_non_party_gets_404_both_ways(client: httpx.AsyncClient, net: Network) -> None:
    accepted = await referral(net)
    await insert_measures(accepted, net.debt, [(Scale.CONFIDENCE, 5, TODAY)])

    for response in (
        await client.get(path(accepted), headers=net.outsider_headers),
        await client.post(path(accepted), json=rating(), headers=net.outsider_headers),
        await client.get(f"/v1/referrals/{uuid.uuid4()}/measures", headers=net.centre_headers),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert await audit_events("measure.listed") == []


async def test_scopes_to_record_and_to_read(client: httpx.AsyncClient, net: Network) -> None:
    accepted = await referral(net)
    reader = bearer(net.debt, scopes=[Scope.REFERRALS_READ.value])
    writer = bearer(net.debt, scopes=[Scope.REFERRALS_WRITE.value])

    assert (await client.post(path(accepted), json=rating(), headers=reader)).status_code == 403
    assert (await client.get(path(accepted), headers=writer)).status_code == 403


async def test_writes_and_reads_are_audited_and_the_event_names_ids_only(
    client: httpx.AsyncClient, net: Network
) -> None:
    accepted = await referral(net)
    created = (await client.post(path(accepted), json=rating(score=9), headers=net.debt_headers)).json()
    await client.get(path(accepted), headers=net.centre_headers)

    (written,) = await audit_events("measure.recorded")
    assert (written.entity_type, written.entity_id) == ("measure", created["id"])
    assert (written.referral_id, written.subject_id) == (accepted.id, accepted.subject_id)
    assert (written.actor_agency_id, written.details) == (net.debt.id, {"scale": "confidence"})
    (read,) = await audit_events("measure.listed")
    assert (read.referral_id, read.subject_id, read.actor_agency_id) == (
        accepted.id,
        accepted.subject_id,
        net.centre.id,
    )
    (event,) = await domain_events("measure.recorded")
    assert (event.referral_id, event.status) == (accepted.id, "accepted")
    assert (event.from_agency_id, event.to_agency_id) == (net.centre.id, net.debt.id)


async def test_idempotency_key_replays_the_first_rating(client: httpx.AsyncClient, net: Network) -> None:
    accepted = await referral(net)
    headers = {**net.debt_headers, "Idempotency-Key": "rating-1"}
    first = await client.post(path(accepted), json=rating(), headers=headers)
    again = await client.post(path(accepted), json=rating(), headers=headers)
    other = await client.post(path(accepted), json=rating(score=5), headers=headers)

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len((await client.get(path(accepted), headers=net.debt_headers)).json()["items"]) == 1
    assert len(await domain_events("measure.recorded")) == 1


async def test_subject_access_export_holds_the_ratings(client: httpx.AsyncClient, net: Network) -> None:
    accepted = await referral(net)
    await insert_measures(accepted, net.debt, [(Scale.WELLBEING, 8, TODAY), (Scale.CONFIDENCE, 2, TODAY)])

    response = await client.get(f"/v1/subjects/{accepted.subject_id}/export", headers=ADMIN)

    assert response.status_code == 200, response.text
    (exported,) = response.json()["referrals"]
    assert [(m["scale"], m["score"], m["recorded_by"]) for m in exported["measures"]] == [
        ("wellbeing", 8, "caseworker"),
        ("confidence", 2, "caseworker"),
    ]


# The report: per scale, people rated twice or more and their mean change, first to latest.

PERIOD = {"from": "2025-01-01", "to": "2025-02-01"}
C, W, J, M = Scale.CONFIDENCE, Scale.WELLBEING, Scale.JOB_READINESS, Scale.MONEY_MANAGEMENT


def jan(day: int) -> date:
    return date(2025, 1, day)


async def accepted_on(sender: Agency, net: Network, person: Subject, created: datetime) -> Referral:
    return await insert_referral(
        sender, net.debt_service, subject=person, created_at=created, status=S.IN_PROGRESS, decided_at=created
    )


async def rated_network(net: Network) -> None:
    """Four people's ratings; the fourth's referral was made before the period."""
    a, b, c, d = [await insert_subject(net.centre, name) for name in ("Ann", "Bea", "Cai", "Dee")]
    ra = await accepted_on(net.centre, net, a, datetime(2025, 1, 5, tzinfo=UTC))
    # Recorded out of order: first and latest go by the day taken, not the day recorded.
    await insert_measures(ra, net.debt, [(C, 8, jan(20)), (C, 3, jan(6)), (C, 5, jan(10))])
    await insert_measures(ra, net.debt, [(W, 5, jan(6)), (W, 6, jan(20))])
    rb = await accepted_on(net.centre, net, b, datetime(2025, 1, 7, tzinfo=UTC))
    # Two ratings on one day: the one recorded later is the latest.
    await insert_measures(rb, net.centre, [(C, 6, jan(8)), (C, 4, jan(8)), (W, 2, jan(8))])
    jobcentre_service = await make_service(net.debt, name="Budgeting course")
    rb2 = await insert_referral(
        net.outsider,
        jobcentre_service,
        subject=b,
        created_at=datetime(2025, 1, 15, tzinfo=UTC),
        status=S.ACCEPTED,
        decided_at=datetime(2025, 1, 15, tzinfo=UTC),
    )
    await insert_measures(rb2, net.debt, [(W, 6, jan(20))])
    rc = await accepted_on(net.centre, net, c, datetime(2025, 1, 9, tzinfo=UTC))
    await insert_measures(rc, net.debt, [(C, 7, jan(10))])
    rd = await accepted_on(net.centre, net, d, datetime(2024, 12, 20, tzinfo=UTC))
    await insert_measures(rd, net.debt, [(M, 2, jan(2)), (M, 9, jan(3))])


async def distance(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await client.get("/v1/reports/distance-travelled", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def figures(body: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        s["scale"]: (
            s["people_measured"],
            s["people"],
            s["mean_first_score"],
            s["mean_latest_score"],
            s["mean_change"],
        )
        for s in body["scales"]
    }


async def test_mean_change_from_first_to_latest_per_scale(client: httpx.AsyncClient, net: Network) -> None:
    await rated_network(net)
    body = await distance(client, ADMIN, **PERIOD)

    assert (body["from"], body["to"], body["agency_id"]) == (
        "2025-01-01T00:00:00Z",
        "2025-02-01T00:00:00Z",
        None,
    )
    assert figures(body) == {
        "confidence": (3, 2, 4.5, 6.0, 1.5),  # Ann 3 -> 8, Bea 6 -> 4; Cai rated once
        "job_readiness": (0, 0, None, None, None),
        "money_management": (0, 0, None, None, None),  # Dee's referral was made before the period
        "wellbeing": (2, 2, 3.5, 6.0, 2.5),  # Ann 5 -> 6, Bea 2 -> 6 over two referrals
    }
    everything = figures(await distance(client, ADMIN))
    assert everything["money_management"] == (1, 1, 2.0, 9.0, 7.0)


async def test_distance_travelled_is_scoped_to_the_agencys_referrals(
    client: httpx.AsyncClient, net: Network
) -> None:
    await rated_network(net)
    centre_admin = bearer(net.centre, Role.AGENCY_ADMIN)

    centre = await distance(client, centre_admin, **PERIOD)
    assert centre["agency_id"] == str(net.centre.id)
    assert figures(centre)["wellbeing"] == (2, 1, 5.0, 6.0, 1.0)  # not the referral the jobcentre made
    assert figures(centre)["confidence"] == (3, 2, 4.5, 6.0, 1.5)
    jobcentre = await distance(client, ADMIN, agency_id=str(net.outsider.id), **PERIOD)
    assert figures(jobcentre)["wellbeing"] == (1, 0, None, None, None)
    refused = await client.get(
        "/v1/reports/distance-travelled", params={"agency_id": str(net.debt.id)}, headers=centre_admin
    )
    assert refused.status_code == 403
    caseworker = await client.get("/v1/reports/distance-travelled", headers=net.centre_headers)
    assert caseworker.status_code == 403


async def test_the_report_names_no_one(client: httpx.AsyncClient, net: Network) -> None:
    await rated_network(net)
    text = (await client.get("/v1/reports/distance-travelled", headers=ADMIN)).text

    for name in ("Ann", "Bea", "Cai", "Dee", "subject", "referral"):
        assert name not in text
