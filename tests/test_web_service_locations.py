"""An agency admin says where a service is offered, on its admin page."""

import re

import httpx
from fastapi import FastAPI

from app.models.identity import Role
from tests.support.factories import bearer
from tests.support.referral_helpers import make_network
from tests.support.web_support import api, browser, signed_in_as, submit

BASICS: dict[str, str | list[str]] = {
    "name": "Money advice",
    "purposes": ["debt_advice"],
    "accepting_referrals": "yes",
    "response_target_days": "5",
}
EMPTY_BLOCK = {f"location_{f}-0": "" for f in ("name", "address_1", "address_2", "town", "postcode")}


def _summary_links(page: httpx.Response) -> list[str]:
    summary = page.text.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'href="([^"]+)"', summary)


def place(index: int, **fields: str) -> dict[str, str]:
    return {f"location_{name}-{index}": value for name, value in fields.items()}


LIBRARY = {"name": "Wrexham Library", "address_1": "Rhosddu Road", "town": "Wrexham", "postcode": "ll11 1au"}


async def test_an_admin_adds_a_place_and_an_external_id(app: FastAPI) -> None:
    net = await make_network()
    page = f"/admin/services/{net.debt_service.id}"
    form = {
        **BASICS,
        "locations_shown": "1",
        "location_count": "1",
        **place(0, **LIBRARY, latitude="53.0486", longitude="-2.9935"),
        "external_id": "council-42",
    }
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        before = await admin.get(page)
        saved = await submit(admin, page, form)
        after = await admin.get(page)
    async with api(app) as partner:
        service = (
            await partner.get(f"/v1/services/{net.debt_service.id}", headers=net.centre_headers)
        ).json()

    assert "Add a place" in before.text
    assert saved.status_code == 303, saved.text
    [location] = service["locations"]
    assert (location["name"], location["postcode"], location["latitude"]) == (
        "Wrexham Library",
        "LL11 1AU",
        53.0486,
    )
    assert service["external_id"] == "council-42"
    assert "Place 1" in after.text
    assert "Add a place" in after.text
    assert f'name="location_id-0" value="{location["id"]}"' in after.text


async def test_a_place_needs_its_address_and_a_real_postcode(app: FastAPI) -> None:
    net = await make_network()
    page = f"/admin/services/{net.debt_service.id}"
    form = {
        **BASICS,
        "locations_shown": "1",
        "location_count": "2",
        **place(0, name="Library", address_1="", town="Wrexham", postcode="LL13"),
        **place(1, **LIBRARY, latitude="53.0"),
    }
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        refused = await submit(admin, page, form)

    assert refused.status_code == 400
    assert _summary_links(refused) == ["#location_address_1-0", "#location_latitude-1"]
    assert "Enter the first line of the address" in refused.text
    assert 'value="Library"' in refused.text  # what was typed is shown again


async def test_a_place_is_removed_and_a_form_without_places_leaves_them(app: FastAPI) -> None:
    net = await make_network()
    page = f"/admin/services/{net.debt_service.id}"
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        await submit(
            admin, page, {**BASICS, "locations_shown": "1", "location_count": "1", **place(0, **LIBRARY)}
        )
        await submit(admin, page, {**BASICS, "name": "Money help"})
        async with api(app) as partner:
            kept = (
                await partner.get(f"/v1/services/{net.debt_service.id}", headers=net.centre_headers)
            ).json()
        location_id = kept["locations"][0]["id"]
        removing = {
            **BASICS,
            "locations_shown": "1",
            "location_count": "2",
            **place(0, **LIBRARY, id=location_id, remove="yes"),
            **EMPTY_BLOCK,
        }
        removed = await submit(admin, page, removing)
    async with api(app) as partner:
        after = (await partner.get(f"/v1/services/{net.debt_service.id}", headers=net.centre_headers)).json()

    assert kept["name"] == "Money help"
    assert len(kept["locations"]) == 1
    assert removed.status_code == 303
    assert after["locations"] == []


async def test_saving_the_page_keeps_a_places_link_to_the_directory_it_came_from(app: FastAPI) -> None:
    net = await make_network()
    page = f"/admin/services/{net.debt_service.id}"
    linked = {**LIBRARY, "external_id": "3a19ff88-4620-4d17-9830-ac1d859eb5d5"}
    async with api(app) as partner:
        admin_headers = bearer(net.debt, Role.AGENCY_ADMIN)
        made = await partner.patch(
            f"/v1/services/{net.debt_service.id}", json={"locations": [linked]}, headers=admin_headers
        )
        place_id = made.json()["locations"][0]["id"]
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        form = {
            **BASICS,
            "locations_shown": "1",
            "location_count": "1",
            **place(0, **(LIBRARY | {"town": "Wrecsam"}), id=place_id),
        }
        saved = await submit(admin, page, form)
    async with api(app) as partner:
        after = (await partner.get(f"/v1/services/{net.debt_service.id}", headers=net.centre_headers)).json()

    assert saved.status_code == 303
    assert [(p["id"], p["town"], p["external_id"]) for p in after["locations"]] == [
        (place_id, "Wrecsam", linked["external_id"])
    ]
