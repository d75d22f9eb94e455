"""The service's own brand: it is not on GOV.UK, so it serves and shows none of GOV.UK's marks."""

import pytest
from fastapi import FastAPI

from tests.support.factories import make_agency
from tests.support.web_support import browser, signed_in_as

# GOV.UK Frontend's fonts (GDS Transport), crown and crest images, and the precompiled styles that
# load GDS Transport: none of them is served, whichever way the address is put.
NOT_SERVED = [
    "/assets/fonts/light-94a07e06a1-v2.woff2",
    "/assets/assets/fonts/bold-b542beb274-v2.woff2",
    "/assets/images/govuk-crest.svg",
    "/assets/images/favicon.ico",
    "/assets/govuk-frontend.min.css",
    "/assets/../package.json",
]


@pytest.mark.parametrize("path", NOT_SERVED)
async def test_govuk_frontend_own_fonts_images_and_styles_are_not_served(app: FastAPI, path: str) -> None:
    async with browser(app) as client:
        response = await client.get(path)
    assert response.status_code == 404


async def test_the_styles_are_compiled_with_system_fonts_and_the_script_is_served(app: FastAPI) -> None:
    async with browser(app) as client:
        styles = await client.get("/assets/service.css")
        script = await client.get("/assets/govuk-frontend.min.js")
        icon = await client.get("/static/favicon.svg")
    assert styles.status_code == 200, "run `make install` to compile the styles"
    assert "GDS Transport" not in styles.text
    assert "@font-face" not in styles.text
    assert 'font-family:"Helvetica Neue",helvetica,arial,sans-serif' in styles.text
    assert script.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")


async def test_pages_have_the_service_own_header_and_footer(app: FastAPI) -> None:
    async with browser(app) as client:
        signed_out = await client.get("/sign-in")
        await signed_in_as(client, await make_agency())
        signed_in = await client.get("/directory")
    for page in (signed_out, signed_in):
        assert '<a href="/" class="govuk-generic-header__homepage-link">' in page.text
        assert "Referral exchange" in page.text.split('class="govuk-generic-header__logo"')[1][:200]
        for mark in (
            "govuk-header__logotype",
            "govuk-footer__crown",
            "govuk-logo",
            "<svg",
            "/assets/images/",
        ):
            assert mark not in page.text, mark
        assert "Crown copyright" not in page.text
        assert "Open Government Licence" not in page.text
        assert 'href="/assets/service.css"' in page.text
