"""The directory published as Open Referral UK: every answer meets the UK profile's own schemas
(required fields, enumerations, uuid, uri, date-time and email formats), with no token."""

import httpx
import pytest

from app.models.directory import Purpose
from app.openreferral import ids
from app.openreferral.publish import PREFIX
from app.web import i18n
from tests.support.openreferral import (
    Directory,
    make_directory,
    page_errors,
    profile_errors,
    profile_schema,
)


@pytest.fixture
async def published() -> Directory:
    return await make_directory()


async def get(client: httpx.AsyncClient, path: str, **params: object) -> httpx.Response:
    return await client.get(PREFIX + path, params={k: str(v) for k, v in params.items()})


async def test_the_root_names_the_version_the_profile_and_the_feeds_own_document(
    client: httpx.AsyncClient,
) -> None:
    root = await get(client, "/")
    document = await client.get(root.json()["openapi_url"].removeprefix("http://127.0.0.1:8000"))

    assert root.status_code == 200
    assert root.json()["version"] == "3.0"
    assert root.json()["profile"].startswith("https://")
    about = profile_schema("openapi30.json")["paths"]["/"]["get"]["responses"]["200"]
    assert set(root.json()) == set(about["content"]["application/json"]["schema"]["properties"])
    assert document.status_code == 200
    assert document.json()["servers"] == [{"url": f"http://127.0.0.1:8000{PREFIX}"}]
    assert "/services/{id}" in document.json()["paths"]
    assert "/v1/referrals" not in document.json()["paths"]


async def test_services_list_meets_the_profile_and_includes_those_not_taking_referrals(
    client: httpx.AsyncClient, published: Directory
) -> None:
    response = await get(client, "/services")

    assert response.status_code == 200, response.text
    page = response.json()
    assert page_errors(page, "service_list.json") == []
    assert [s["name"] for s in page["contents"]] == [
        "Advice line",
        "Housing help",
        "Money advice",
        "Work coach",
    ]
    housing = next(s for s in page["contents"] if s["name"] == "Housing help")
    assert housing["status"] == "active"
    assert housing["accepting_referrals"] is False
    assert page | {"contents": []} == {
        "total_items": 4,
        "total_pages": 1,
        "page_number": 1,
        "size": 4,
        "first_page": True,
        "last_page": True,
        "empty": False,
        "contents": [],
    }


async def test_pages_count_and_flag_first_and_last(client: httpx.AsyncClient, published: Directory) -> None:
    pages = [(await get(client, "/services", per_page=3, page=n)).json() for n in (1, 2, 3)]

    assert [(p["page_number"], p["size"], p["first_page"], p["last_page"], p["empty"]) for p in pages] == [
        (1, 3, True, False, False),
        (2, 1, False, True, False),
        (3, 0, False, True, True),
    ]
    assert {p["total_pages"] for p in pages} == {2}
    assert (await get(client, "/services", page=0)).status_code == 422


async def test_a_full_service_nests_everything_and_meets_the_profile(
    client: httpx.AsyncClient, published: Directory
) -> None:
    response = await get(client, f"/services/{published.money.id}")

    service = response.json()
    assert response.status_code == 200
    assert profile_errors(service, "service.json") == []
    assert service["organization"]["name"] == "North Wales Debt Advice"
    assert service["organization"]["translations"] == [
        {"language": "cy", "name": "Cyngor Dyled Gogledd Cymru"}
    ]
    assert service["translations"] == [
        {
            "language": "cy",
            "name": "Cyngor ariannol",
            "description": "Cyngor am ddim ar ddyledion a budd-daliadau.",
        }
    ]
    places = [sal["location"] for sal in service["service_at_locations"]]
    assert [p["name"] for p in places] == ["Wrexham Library", "Caia Park hub"]
    assert places[0]["addresses"][0] | {"id": None, "location_id": None} == {
        "id": None,
        "location_id": None,
        "address_1": "Rhosddu Road",
        "city": "Wrexham",
        "state_province": "Wrexham",
        "postal_code": "LL11 1AU",
        "country": "GB",
        "address_type": "physical",
    }
    # Without coordinates of its own, a location is published at its postcode's centroid.
    assert (places[1]["latitude"], places[1]["longitude"]) == (53.043, -2.968)
    assert [(lang["code"], lang["name"]) for lang in service["languages"]] == [
        ("en", "English"),
        ("cy", "Welsh"),
    ]
    assert [a["name"] for a in service["service_areas"]] == ["LL11", "LL12", "LL13"]
    assert [c["email"] for c in service["contacts"]] == ["money.team@example.org"]
    assert service["schedules"][0]["description"] == "Monday to Friday, 9am to 5pm"
    terms = [a["taxonomy_term"] for a in service["attributes"]]
    assert [t["code"] for t in terms] == ["benefits_advice", "debt_advice"]
    assert {t["taxonomy_id"] for t in terms} == {str(ids.PURPOSE_TAXONOMY_ID)}


async def test_a_service_is_the_same_record_every_time(
    client: httpx.AsyncClient, published: Directory
) -> None:
    first = await get(client, f"/services/{published.money.id}")
    again = await get(client, f"/services/{published.money.id}")

    assert first.json() == again.json()


async def test_unknown_and_malformed_ids_are_not_found_as_problems(
    client: httpx.AsyncClient, published: Directory
) -> None:
    paths = ["/services/nope", f"/services/{published.debt.id}", "/organizations/nope", "/taxonomies/x"]
    paths += ["/taxonomy_terms/x", "/service_at_locations/x", f"/service_at_locations/{published.money.id}"]
    for path in paths:
        response = await get(client, path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["access-control-allow-origin"] == "*"


async def test_services_at_locations_meet_the_profile(
    client: httpx.AsyncClient, published: Directory
) -> None:
    listed = (await get(client, "/service_at_locations")).json()
    one = await get(client, f"/service_at_locations/{listed['contents'][0]['id']}")

    assert page_errors(listed, "service_at_location_list.json") == []
    assert [(s["service"]["name"], s["location"]["name"]) for s in listed["contents"]] == [
        ("Housing help", "Mold office"),
        ("Money advice", "Wrexham Library"),
        ("Money advice", "Caia Park hub"),
        ("Work coach", "Chester Jobcentre"),
    ]
    assert profile_errors(one.json(), "service_at_location.json") == []
    assert one.json() == listed["contents"][0]


async def test_organizations_meet_the_profile(client: httpx.AsyncClient, published: Directory) -> None:
    listed = (await get(client, "/organizations")).json()
    one = (await get(client, f"/organizations/{published.debt.id}")).json()

    assert page_errors(listed, "organization_list.json") == []
    assert [o["name"] for o in listed["contents"]] == ["Chester Jobcentre Plus", "North Wales Debt Advice"]
    assert profile_errors(one, "organization.json") == []
    assert [s["name"] for s in one["services"]] == ["Advice line", "Housing help", "Money advice"]
    assert one["description"] == "Debt advice in Wrexham"


async def test_purposes_are_a_taxonomy_of_their_own(client: httpx.AsyncClient) -> None:
    taxonomies = (await get(client, "/taxonomies")).json()
    taxonomy = (await get(client, f"/taxonomies/{ids.PURPOSE_TAXONOMY_ID}")).json()
    terms = (await get(client, "/taxonomy_terms", per_page=100)).json()
    term = (await get(client, f"/taxonomy_terms/{ids.purpose_term_id(Purpose.ESOL)}")).json()

    assert page_errors(taxonomies, "taxonomy.json") == []
    assert profile_errors(taxonomy, "taxonomy.json") == []
    assert page_errors(terms, "taxonomy_term.json") == []
    assert profile_errors(term, "taxonomy_term.json") == []
    assert terms["total_items"] == len(Purpose) == len(taxonomy["taxonomy_terms"])
    assert (term["code"], term["name"]) == ("esol", "English for speakers of other languages")


async def test_services_are_found_by_purpose_words_and_postcode(
    client: httpx.AsyncClient, published: Directory
) -> None:
    debt_term = ids.purpose_term_id(Purpose.DEBT_ADVICE)

    by_term = await get(client, "/services", taxonomy_term_id=debt_term)
    by_taxonomy = await get(client, "/services", taxonomy_id=ids.PURPOSE_TAXONOMY_ID)
    unknown_term = await get(client, "/services", taxonomy_term_id="not-a-term")
    in_welsh = await get(client, "/services", search="ariannol")
    covering = await get(client, "/services", postcode="LL11 2BB")

    def names(response: httpx.Response) -> list[str]:
        return [s["name"] for s in response.json()["contents"]]

    assert names(by_term) == ["Advice line", "Money advice"]
    assert by_taxonomy.json()["total_items"] == 4
    assert unknown_term.json()["empty"] is True
    assert names(in_welsh) == ["Money advice"]
    # Money advice serves LL11; the others name no areas, so serve everywhere.
    assert names(covering) == ["Advice line", "Housing help", "Money advice", "Work coach"]
    assert names(await get(client, "/services", postcode="CH7 1AB")) == [
        "Advice line",
        "Housing help",
        "Work coach",
    ]


async def test_proximity_finds_services_near_a_postcode_nearest_first(
    client: httpx.AsyncClient, published: Directory
) -> None:
    near = await get(client, "/services", postcode="LL13 9AA", proximity=2000)
    wider = await get(client, "/services", postcode="LL13 9AA", proximity=20000)
    places = await get(client, "/service_at_locations", postcode="LL13 9AA", proximity=2000)

    assert near.status_code == 200, near.text
    assert [s["name"] for s in near.json()["contents"]] == ["Money advice"]
    assert wider.json()["contents"][0]["name"] == "Money advice"
    assert {s["name"] for s in wider.json()["contents"]} == {"Money advice", "Housing help", "Work coach"}
    assert page_errors(places.json(), "service_at_location_list.json") == []
    # Caia Park (0.9 km, at its postcode's centroid) before the library (1.3 km).
    assert [s["location"]["name"] for s in places.json()["contents"]] == ["Caia Park hub", "Wrexham Library"]


async def test_a_proximity_search_needs_a_known_postcode(
    client: httpx.AsyncClient, published: Directory
) -> None:
    unknown = await get(client, "/services", postcode="SA1 1AA", proximity=1000)
    alone = await get(client, "/services", proximity=1000)
    malformed = await get(client, "/services", postcode="LL13 9AA", proximity="far")

    for response in (unknown, alone, malformed):
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
    assert unknown.json()["errors"][0]["field"] == "postcode"
    assert alone.json()["errors"][0]["field"] == "proximity"


async def test_the_feed_needs_no_token_and_any_site_may_read_it(client: httpx.AsyncClient) -> None:
    answer = await get(client, "/services")
    preflight = await client.options(
        PREFIX + "/services",
        headers={"Origin": "https://example.org", "Access-Control-Request-Headers": "x-requested-with"},
    )

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["cache-control"] == "public, max-age=300"
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "GET, OPTIONS"
    assert preflight.headers["access-control-allow-headers"] == "x-requested-with"


def test_the_profile_checks_catch_what_the_profile_forbids() -> None:
    record = {"id": "not-a-uuid", "name": "Money advice", "status": "open", "last_modified": "yesterday"}

    problems = profile_errors(record, "service_list.json")

    assert len(problems) == 3
    assert profile_errors({"id": "0c7bd54e-5e0b-4d36-9a0c-5f3c1b0f6e21"}, "service.json") != []


async def test_the_feed_document_offers_the_profiles_paths_and_parameters(client: httpx.AsyncClient) -> None:
    ours = (await get(client, "/openapi.json")).json()
    profile = profile_schema("openapi30.json")

    assert set(profile["paths"]) <= set(ours["paths"])
    for path in ("/services", "/service_at_locations"):
        named = {p["name"] for p in ours["paths"][path]["get"]["parameters"]}
        assert {
            "search",
            "page",
            "per_page",
            "taxonomy_term_id",
            "taxonomy_id",
            "postcode",
            "proximity",
        } <= named


async def test_public_directory_false_takes_the_feed_down(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import get_settings
    from app.main import create_app

    monkeypatch.setenv("PUBLIC_DIRECTORY", "false")
    get_settings.cache_clear()
    try:
        app = create_app()
    finally:
        monkeypatch.delenv("PUBLIC_DIRECTORY")
        get_settings.cache_clear()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await get(client, "/services")

    assert response.status_code == 404
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.skipif(
    "cy" not in i18n.available_locales(), reason="the Welsh catalogue is compiled by `make install`"
)
async def test_purposes_carry_their_welsh_names(client: httpx.AsyncClient) -> None:
    term = (await get(client, f"/taxonomy_terms/{ids.purpose_term_id(Purpose.DEBT_ADVICE)}")).json()

    welsh = i18n.translations("cy").gettext("Debt advice")
    assert welsh != "Debt advice"
    assert term["translations"] == [{"language": "cy", "name": welsh}]
    assert profile_errors(term, "taxonomy_term.json") == []
