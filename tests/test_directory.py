"""The agency and service directory: open to read, written only by platform admins."""

import httpx
import pytest

from app.models.directory import AgencyKind, Purpose
from app.models.identity import Role, Scope
from tests.support.factories import bearer, make_agency, make_client, make_service

ADMIN = bearer(None, Role.PLATFORM_ADMIN)


def agency_body(name: str = "Wrexham Jobcentre Plus") -> dict[str, object]:
    return {
        "name": name,
        "kind": "jobcentre_plus",
        "local_authority": "Wrexham",
        "contact_email": "team@example.org",
    }


async def test_admin_creates_and_reads_an_agency(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/agencies", json=agency_body(), headers=ADMIN)

    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == f"/v1/agencies/{created['id']}"
    fetched = await client.get(f"/v1/agencies/{created['id']}", headers=bearer(await make_agency()))
    assert fetched.json() == created
    assert created["kind"] == "jobcentre_plus"


async def test_caseworker_cannot_write_the_directory(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    caseworker = bearer(agency, Role.CASEWORKER)

    agencies = await client.post("/v1/agencies", json=agency_body(), headers=caseworker)
    services = await client.post(
        "/v1/services",
        headers=caseworker,
        json={"agency_id": str(agency.id), "name": "Advice", "purposes": ["debt_advice"]},
    )

    for response in (agencies, services):
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["required_scopes"] == ["directory:write"]


async def test_partner_client_without_the_scope_cannot_write(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    api_client = await make_client(agency, [Scope.REFERRALS_READ, Scope.REFERRALS_WRITE], secret="s")
    token = (
        await client.post(
            "/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": api_client.client_id,
                "client_secret": "s",
            },
        )
    ).json()

    response = await client.post(
        "/v1/agencies", json=agency_body(), headers={"Authorization": f"Bearer {token['access_token']}"}
    )

    assert response.status_code == 403


async def test_invalid_agency_names_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/agencies", headers=ADMIN, json={"name": "", "kind": "bakery", "local_authority": "Wrexham"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"name", "kind"}


async def test_malformed_json_is_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/agencies", headers={**ADMIN, "Content-Type": "application/json"}, content=b'{"name": '
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_agency_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/agencies/00000000-0000-0000-0000-000000000000", headers=ADMIN)
    assert response.status_code == 404
    assert response.json()["status"] == 404


async def test_admin_creates_a_service(client: httpx.AsyncClient) -> None:
    agency = await make_agency(AgencyKind.DEBT_ADVICE)
    body = {
        "agency_id": str(agency.id),
        "name": "Money advice",
        "description": "Debt help",
        "purposes": ["debt_advice", "benefits_advice"],
        "eligibility": "Wrexham residents",
        "languages": ["en", "cy"],
        "area_served": ["LL11", "LL13"],
        "accepting_referrals": True,
        "response_target_days": 5,
    }

    response = await client.post("/v1/services", json=body, headers=ADMIN)

    assert response.status_code == 201, response.text
    created = response.json()
    assert {k: created[k] for k in body} == {**body, "purposes": ["benefits_advice", "debt_advice"]}
    fetched = await client.get(f"/v1/services/{created['id']}", headers=bearer(agency))
    assert fetched.json() == created


async def test_service_for_an_unknown_agency_names_agency_id(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/services",
        headers=ADMIN,
        json={"agency_id": "00000000-0000-0000-0000-000000000000", "name": "X", "purposes": ["esol"]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "agency_id"


@pytest.mark.parametrize("bad", [{"purposes": []}, {"purposes": ["astrology"]}, {"response_target_days": 0}])
async def test_service_validation(client: httpx.AsyncClient, bad: dict[str, object]) -> None:
    agency = await make_agency()
    body = {"agency_id": str(agency.id), "name": "X", "purposes": ["esol"], **bad}
    response = await client.post("/v1/services", headers=ADMIN, json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].split(".")[0] == next(iter(bad))


async def test_services_filter_by_purpose_agency_and_accepting(client: httpx.AsyncClient) -> None:
    debt, jcp = await make_agency(AgencyKind.DEBT_ADVICE), await make_agency(AgencyKind.JOBCENTRE_PLUS)
    advice = await make_service(debt, [Purpose.DEBT_ADVICE, Purpose.BENEFITS_ADVICE], name="Advice")
    paused = await make_service(debt, [Purpose.DEBT_ADVICE], name="Paused", accepting_referrals=False)
    coach = await make_service(jcp, [Purpose.BETTER_OFF_CALCULATION, Purpose.BENEFITS_ADVICE], name="Coach")
    headers = bearer(jcp)

    async def names(**params: str) -> list[str]:
        response = await client.get("/v1/services", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [s["name"] for s in response.json()["items"]]

    assert await names() == ["Advice", "Coach", "Paused"]
    assert await names(purpose="debt_advice") == ["Advice", "Paused"]
    assert await names(purpose="benefits_advice", agency_id=str(jcp.id)) == ["Coach"]
    assert await names(purpose="debt_advice", accepting_referrals="true") == ["Advice"]
    assert await names(accepting_referrals="false") == ["Paused"]
    assert {advice.id, paused.id, coach.id}


async def test_agency_list_pages_with_a_cursor(client: httpx.AsyncClient) -> None:
    for i in range(5):
        await make_agency(AgencyKind.HOUSING, name=f"Housing {i}")
    await make_agency(AgencyKind.CHILDCARE, name="Nursery")
    headers, seen, cursor = bearer(None, Role.PLATFORM_ADMIN), [], None

    while True:
        params = {"limit": "2", "kind": "housing", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/agencies", params=params, headers=headers)).json()
        seen += [a["name"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [f"Housing {i}" for i in range(5)]


async def test_a_forged_cursor_is_a_422_naming_cursor(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/agencies", params={"cursor": "not-a-cursor"}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"
