"""Services' locations and ids in other directories, kept by agency admins through /v1."""

import httpx

from app.models.directory import Purpose
from app.models.identity import Role
from tests.support.factories import bearer, make_agency, make_service

LIBRARY = {"name": "Wrexham Library", "address_1": "Rhosddu Road", "town": "Wrexham", "postcode": "ll11 1au"}
HUB = {
    "name": "Caia Park hub",
    "address_1": "Prince Charles Road",
    "address_2": "Caia Park",
    "town": "Wrexham",
    "postcode": "LL13 8TH",
    "latitude": 53.043,
    "longitude": -2.968,
}


async def test_an_admin_adds_a_service_with_locations_and_an_external_id(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    admin = bearer(agency, Role.AGENCY_ADMIN)
    body = {
        "agency_id": str(agency.id),
        "name": "Money advice",
        "purposes": ["debt_advice"],
        "external_id": "ac148810-d857-441c-9679-408f346de14b",
        "locations": [LIBRARY, HUB],
    }

    created = await client.post("/v1/services", json=body, headers=admin)

    assert created.status_code == 201, created.text
    service = created.json()
    assert service["external_id"] == "ac148810-d857-441c-9679-408f346de14b"
    places = service["locations"]
    assert [(p["name"], p["postcode"]) for p in places] == [
        ("Wrexham Library", "LL11 1AU"),
        ("Caia Park hub", "LL13 8TH"),
    ]
    assert (places[0]["latitude"], places[1]["latitude"]) == (None, 53.043)
    assert places[1]["address_2"] == "Caia Park"
    fetched = await client.get(f"/v1/services/{service['id']}", headers=bearer(agency))
    assert fetched.json()["locations"] == places


async def test_changing_locations_keeps_those_named_by_id(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    admin = bearer(agency, Role.AGENCY_ADMIN)
    service = await make_service(agency)
    first = await client.patch(
        f"/v1/services/{service.id}", json={"locations": [LIBRARY, HUB]}, headers=admin
    )
    library, hub = first.json()["locations"]

    moved = {**hub, "id": hub["id"], "postcode": "LL13 7YP", "latitude": None, "longitude": None}
    changed = await client.patch(
        f"/v1/services/{service.id}",
        json={"locations": [moved, {**LIBRARY, "name": "New library"}]},
        headers=admin,
    )
    untouched = await client.patch(f"/v1/services/{service.id}", json={"name": "Money help"}, headers=admin)

    assert changed.status_code == 200, changed.text
    after = changed.json()["locations"]
    assert after[0]["id"] == hub["id"]
    assert after[0]["postcode"] == "LL13 7YP"
    assert after[1]["id"] not in {library["id"], hub["id"]}  # no id: a new location
    assert untouched.json()["locations"] == after
    cleared = await client.patch(f"/v1/services/{service.id}", json={"locations": []}, headers=admin)
    assert cleared.json()["locations"] == []


async def test_bad_locations_name_each_field(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    service = await make_service(agency)
    bad = [{**LIBRARY, "postcode": "LL13"}, {**HUB, "longitude": None}, {**LIBRARY, "town": ""}]

    response = await client.patch(
        f"/v1/services/{service.id}", json={"locations": bad}, headers=bearer(agency, Role.AGENCY_ADMIN)
    )

    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"locations.0.postcode", "locations.1", "locations.2.town"}


async def test_an_external_id_belongs_to_one_service_and_can_be_cleared(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    admin = bearer(agency, Role.AGENCY_ADMIN)
    one, two = await make_service(agency, [Purpose.DEBT_ADVICE]), await make_service(agency, [Purpose.OTHER])
    await client.patch(f"/v1/services/{one.id}", json={"external_id": "council-42"}, headers=admin)

    taken = await client.patch(f"/v1/services/{two.id}", json={"external_id": "council-42"}, headers=admin)
    cleared = await client.patch(f"/v1/services/{one.id}", json={"external_id": None}, headers=admin)
    reused = await client.patch(f"/v1/services/{two.id}", json={"external_id": "council-42"}, headers=admin)

    assert taken.status_code == 422
    assert taken.json()["errors"] == [
        {"field": "external_id", "message": "is already the id of another service"}
    ]
    assert cleared.json()["external_id"] is None
    assert reused.json()["external_id"] == "council-42"


async def test_another_agencys_admin_cannot_move_its_services(client: httpx.AsyncClient) -> None:
    agency, other = await make_agency(), await make_agency()
    service = await make_service(agency)

    response = await client.patch(
        f"/v1/services/{service.id}", json={"locations": [LIBRARY]}, headers=bearer(other, Role.AGENCY_ADMIN)
    )

    assert response.status_code == 404


async def test_a_place_keeps_its_import_id_unless_told_otherwise(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    admin = bearer(agency, Role.AGENCY_ADMIN)
    service = await make_service(agency)
    linked = {**LIBRARY, "external_id": "3a19ff88-4620-4d17-9830-ac1d859eb5d5"}
    first = (
        await client.patch(f"/v1/services/{service.id}", json={"locations": [linked]}, headers=admin)
    ).json()
    place = first["locations"][0]

    renamed = await client.patch(
        f"/v1/services/{service.id}",
        json={"locations": [{**LIBRARY, "id": place["id"], "name": "Central Library"}]},
        headers=admin,
    )
    unlinked = await client.patch(
        f"/v1/services/{service.id}",
        json={"locations": [{**LIBRARY, "id": place["id"], "external_id": None}]},
        headers=admin,
    )

    assert renamed.json()["locations"][0]["external_id"] == linked["external_id"]
    assert renamed.json()["locations"][0]["name"] == "Central Library"
    assert unlinked.json()["locations"][0]["external_id"] is None
