"""The service's own header and footer in a browser: it is not on GOV.UK, so no crown, no GOV.UK
logotype, no Crown copyright and no GDS Transport (a typeface licensed for GOV.UK alone)."""

import pytest
from fastapi import FastAPI
from playwright.async_api import Page, expect

from app.models.identity import Role
from tests.support.browser_support import chromium, new_context, no_axe_violations, served, sign_in
from tests.support.factories import make_user
from tests.support.referral_helpers import create_referral, make_network
from tests.support.web_support import PASSWORD, api

pytestmark = pytest.mark.browser

# Every element GOV.UK Frontend draws the crown, the crest, the logotype or the licence with.
GOVUK_MARKS = (
    ".govuk-logo, .govuk-header__logotype, .govuk-footer__crown, .govuk-footer__copyright-logo, "
    + (".govuk-footer__licence-logo, .govuk-header")
)
FONTS = """() => {
    const faces = [...document.styleSheets].flatMap((sheet) => [...sheet.cssRules])
        .filter((rule) => rule instanceof CSSFontFaceRule).map((rule) => rule.style.fontFamily);
    const text = "body, h1, p, a, button, input:not([type=hidden]), label, th, td";
    const used = [...document.querySelectorAll(text)].map((element) => getComputedStyle(element).fontFamily);
    return {faces, used: [...new Set(used)]};
}"""


async def _is_the_service_own(page: Page) -> None:
    """The page shows the service's name, none of GOV.UK's marks, and only system fonts."""
    header = page.locator(".govuk-generic-header")
    await expect(header.get_by_role("link", name="Referral exchange")).to_be_visible()
    assert await page.locator(GOVUK_MARKS).count() == 0, page.url
    assert await page.locator("header svg, footer svg").count() == 0, "no crown, crest or logotype drawn"
    assert "crown copyright" not in (await page.content()).lower()
    assert "GOV.UK" not in " ".join(await page.locator("header, footer").all_inner_texts())
    fonts = await page.evaluate(FONTS)
    assert fonts["faces"] == [], fonts
    for family in fonts["used"]:
        assert "GDS Transport" not in family, family
        assert family.endswith("sans-serif"), family
    await expect(
        page.get_by_role("contentinfo").get_by_role("link", name="Accessibility statement")
    ).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False])
async def test_every_page_is_the_service_own_not_gov_uk(app: FastAPI, javascript: bool) -> None:
    net = await make_network()
    async with api(app) as partner:
        referral = await create_referral(partner, net)
    user = await make_user(net.debt, Role.AGENCY_ADMIN, password=PASSWORD)
    fetched: list[str] = []
    async with served(app) as base_url, chromium() as browser:
        page = await (await new_context(browser, base_url, javascript=javascript)).new_page()
        page.on("request", lambda request: fetched.append(request.url))
        for path in ("/sign-in", "/accessibility", "/cookies", "/no-such-page"):
            await page.goto(path)
            await _is_the_service_own(page)
        await sign_in(page, user.username, PASSWORD)
        for path in ("/inbox", "/sent", f"/referrals/{referral['id']}", "/directory", "/admin"):
            await page.goto(path)
            await _is_the_service_own(page)
            await no_axe_violations(page)
    assert not [url for url in fetched if "/fonts/" in url or "/images/" in url], fetched


async def test_the_header_and_footer_fit_a_small_screen(app: FastAPI) -> None:
    net = await make_network()
    user = await make_user(net.debt, Role.CASEWORKER, password=PASSWORD)
    async with served(app) as base_url, chromium() as browser:
        context = await new_context(browser, base_url)
        page = await context.new_page()
        await page.set_viewport_size({"width": 320, "height": 640})
        await page.goto("/sign-in")
        await _is_the_service_own(page)
        await sign_in(page, user.username, PASSWORD)
        for path in ("/accessibility", "/cookies"):
            await page.goto(path)
            assert await page.evaluate("document.documentElement.scrollWidth") <= 320, path
        await page.get_by_role("button", name="Menu").click()
        await expect(page.get_by_role("link", name="Directory")).to_be_visible()
        await no_axe_violations(page)
