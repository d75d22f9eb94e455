"""Agencies keep their own services up to date, and the directory is searched by words, language and area."""

from typing import Any

import httpx

from app.models.directory import Agency, Purpose
from app.models.identity import Role
from tests.support.factories import make_agency, make_service
from tests.support.staff import make_staff


async def services(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[str]:
    response = await client.get("/v1/services", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [s["name"] for s in response.json()["items"]]


async def test_an_agency_admin_edits_their_own_services_only(client: httpx.AsyncClient) -> None:
    mine, theirs = await make_agency(), await make_agency()
    own, other = (
        await make_service(mine, name="Money advice"),
        await make_service(theirs, name="Housing help"),
    )
    admin = await make_staff(client, mine, Role.AGENCY_ADMIN)
    caseworker = await make_staff(client, mine)
    change: dict[str, Any] = {
        "accepting_referrals": False,
        "contact_email": "team@debt.example",
        "opening_hours": "Mon-Thu 9:00-16:30",
        "languages": ["en", "CY"],
        "area_served": ["LL13", "ll11"],
        "eligibility": "Adults living in Wrexham",
    }

    changed = await client.patch(f"/v1/services/{own.id}", json=change, headers=admin.headers)

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["accepting_referrals"] is False
    assert body["languages"] == ["en", "cy"]
    assert body["area_served"] == ["LL11", "LL13"]
    assert body["contact_email"] == "team@debt.example"
    assert (
        await client.patch(f"/v1/services/{other.id}", json=change, headers=admin.headers)
    ).status_code == 404
    assert (
        await client.patch(f"/v1/services/{own.id}", json=change, headers=caseworker.headers)
    ).status_code == 403
    bad = await client.patch(
        f"/v1/services/{own.id}", json={"area_served": ["Wrexham"]}, headers=admin.headers
    )
    assert bad.status_code == 422


async def test_an_agency_admin_adds_services_to_their_own_agency_but_no_agencies(
    client: httpx.AsyncClient,
) -> None:
    mine, theirs = await make_agency(), await make_agency()
    admin = await make_staff(client, mine, Role.AGENCY_ADMIN)

    def body(agency: Agency) -> dict[str, Any]:
        return {"agency_id": str(agency.id), "name": "Drop-in", "purposes": ["debt_advice"]}

    assert (await client.post("/v1/services", json=body(mine), headers=admin.headers)).status_code == 201
    assert (await client.post("/v1/services", json=body(theirs), headers=admin.headers)).status_code == 404
    agency = {"name": "Mine too", "kind": "other", "local_authority": "Wrexham"}
    assert (await client.post("/v1/agencies", json=agency, headers=admin.headers)).status_code == 403


async def test_words_match_whatever_their_case_or_accents(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    await make_service(agency, name="Café Crèche sessions")
    await make_service(agency, name="Money advice")
    headers = (await make_staff(client, agency)).headers

    assert await services(client, headers, q="cafe CRECHE") == ["Café Crèche sessions"]
    assert await services(client, headers, q="CAFÉ") == ["Café Crèche sessions"]
    assert await services(client, headers, q="%") == []
    assert await services(client, headers, q="café money") == []


async def test_language_and_postcode_filters(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    admin = await make_staff(client, agency, Role.AGENCY_ADMIN)
    areas = {"District": ["LL13"], "Area": ["LL"], "Everywhere": [], "Cardiff": ["CF10"]}
    for name, area in areas.items():
        service = await make_service(agency, [Purpose.DEBT_ADVICE], name=name)
        languages = ["en", "cy"] if name == "Area" else ["en"]
        patch = {"area_served": area, "languages": languages}
        assert (
            await client.patch(f"/v1/services/{service.id}", json=patch, headers=admin.headers)
        ).status_code == 200

    assert await services(client, admin.headers, postcode="ll13 9aa") == ["Area", "District", "Everywhere"]
    assert await services(client, admin.headers, postcode="LL13") == ["Area", "District", "Everywhere"]
    assert await services(client, admin.headers, postcode="CF10 1AA") == ["Cardiff", "Everywhere"]
    assert await services(client, admin.headers, language="CY") == ["Area"]
    bad = await client.get("/v1/services", params={"postcode": "12345"}, headers=admin.headers)
    assert bad.status_code == 422


async def test_unknown_query_parameters_are_refused(client: httpx.AsyncClient) -> None:
    headers = (await make_staff(client, await make_agency())).headers

    response = await client.get(
        "/v1/services", params={"purpos": "debt_advice", "limit": "5"}, headers=headers
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "purpos", "in": "query", "message": "is not a parameter of this endpoint"}
    ]
