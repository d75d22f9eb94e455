"""Every list refuses a cursor it did not issue, before reading anything inside it."""

import base64
import json

import httpx
import pytest

from app.models.identity import Role, Scope
from app.pagination import encode_cursor
from tests.support.factories import bearer, make_agency

ALL_SCOPES = [s.value for s in Scope]


def _unsigned(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# What an attacker would craft: values of the wrong type or size, with no signature, with a
# signature from another list, and with a broken signature.
FORGED = [
    _unsigned([1e30]),
    _unsigned([True]),
    _unsigned(["2030-01-01T00:00:00+00:00", 5]),
    _unsigned(["2030-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000001"]),
    encode_cursor("agencies", ["A", "00000000-0000-0000-0000-000000000001"]) + "x",
    encode_cursor("some-other-list", [1]),
    "not-a-cursor",
    ".",
    "",
]

LISTS = [
    ("/v1/events", "after", {}),
    ("/v1/audit/events", "cursor", {}),
    ("/v1/referrals", "cursor", {"box": "inbox"}),
    ("/v1/referrals", "cursor", {"box": "sent"}),
    ("/v1/agencies", "cursor", {}),
    ("/v1/services", "cursor", {}),
    ("/v1/reports/overdue", "cursor", {}),
    ("/v1/webhooks", "cursor", {}),
]


@pytest.mark.parametrize(("path", "name", "params"), LISTS)
@pytest.mark.parametrize("cursor", FORGED)
async def test_a_cursor_this_list_did_not_issue_is_422(
    client: httpx.AsyncClient, path: str, name: str, params: dict[str, str], cursor: str
) -> None:
    agency = await make_agency()
    headers = bearer(agency, Role.AGENCY_ADMIN, scopes=ALL_SCOPES)

    response = await client.get(path, params={**params, name: cursor}, headers=headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_a_cursor_from_one_list_is_refused_by_another(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    for n in range(3):
        await make_agency(name=f"Agency {n}")
    headers = bearer(agency, Role.AGENCY_ADMIN, scopes=ALL_SCOPES)
    first = (await client.get("/v1/agencies", params={"limit": 1}, headers=headers)).json()

    same = await client.get("/v1/agencies", params={"cursor": first["next_cursor"]}, headers=headers)
    other = await client.get("/v1/services", params={"cursor": first["next_cursor"]}, headers=headers)

    assert same.status_code == 200
    assert other.status_code == 422
