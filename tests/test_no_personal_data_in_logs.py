"""No log line, at any level, carries personal data: the warm-handover story and a set of failing
requests run with every logger at DEBUG, and the captured lines are searched for the person."""

import logging
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.db import get_engine
from tests import test_warm_handover
from tests.support.factories import make_agency, make_user, password_token
from tests.support.referral_helpers import Network, create_referral, make_network, referral_body, subject_body

# The person of the story, as the request bodies give their details and as they are stored.
PERSONAL = ["Natalie", "Example", "07700900123", "1994-03-02", "1994, 3, 2", "LL13 9AA", "LL13"]


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every record at DEBUG, the libraries' own loggers included."""
    with caplog.at_level(logging.DEBUG):
        yield caplog


def leaked(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in caplog.records]
    return [line[:300] for line in lines if any(p in line for p in PERSONAL)]


async def failing_requests(client: httpx.AsyncClient, net: Network) -> None:
    """Requests that are refused, each carrying the person's details."""
    await create_referral(client, net)
    for field in ("given_name", "phone", "postcode"):
        body = referral_body(net.debt_service, subject=subject_body(**{field: "Natalie\x00Example"}))
        await client.post("/v1/referrals", json=body, headers=net.centre_headers)
    duplicate = await client.post(
        "/v1/referrals", json=referral_body(net.debt_service), headers=net.centre_headers
    )
    assert duplicate.status_code == 409
    bad_date = referral_body(net.debt_service, subject=subject_body(date_of_birth="1994-02-30"))
    await client.post("/v1/referrals", json=bad_date, headers=net.centre_headers)
    await client.post("/v1/referrals", json=referral_body(net.debt_service), headers=net.outsider_headers)
    await client.post(
        "/v1/referrals",
        content=b'{"subject": {"given_name": "Natalie", "phone": "07700900123"',
        headers={**net.centre_headers, "Content-Type": "application/json"},
    )
    await password_token(client, "Natalie Example", "LL13 9AA")
    await client.get("/v1/agencies", params={"local_authority": "Wrexham\x00"}, headers=net.centre_headers)


async def test_the_story_and_failing_requests_log_no_personal_data(
    client: httpx.AsyncClient, everything_logged: pytest.LogCaptureFixture
) -> None:
    await test_warm_handover.test_children_centre_refers_a_parent_to_debt_advice_and_sees_the_outcome(client)
    await failing_requests(client, await make_network())
    await make_user(await make_agency(), username="natalie.example")

    assert everything_logged.records, "nothing was captured: the test would prove nothing"
    assert leaked(everything_logged) == []


async def test_database_errors_do_not_carry_the_statements_parameters() -> None:
    with pytest.raises(DBAPIError) as raised:
        async with get_engine().connect() as connection:
            await connection.execute(
                text("INSERT INTO subjects (given_name, family_name) VALUES (:given, :family)"),
                {"given": "Natalie", "family": "Example"},
            )

    assert "Natalie" not in str(raised.value)
    assert "Example" not in str(raised.value)
