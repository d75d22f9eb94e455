"""The service in Welsh in a browser: signing in, switching language both ways on three pages, making
a referral, accepting it, recording an outcome and reading its history, with axe-core on each page.

The Welsh words are looked up in the Welsh catalogue by their English, so the test follows the
catalogue rather than repeating it."""

from datetime import date

import pytest
from fastapi import FastAPI
from playwright.async_api import Page, expect

from app.services import seed
from app.unit_of_work import committed
from app.web import i18n
from tests.support.browser_support import chromium, new_context, no_axe_violations, served

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif("cy" not in i18n.available_locales(), reason="`make install` compiles the catalogue"),
]
DEBT_SERVICE = "Cyngor ar ddyledion ac arian, Cyngor ar Ddyledion Gogledd Cymru"


def cy(english: str, **values: object) -> str:
    return i18n.gettext_in("cy", english, **values)


async def _in_welsh(page: Page) -> None:
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    await no_axe_violations(page)


async def sign_in_in_welsh(page: Page, username: str) -> None:
    await page.goto("/sign-in?lang=cy")
    await _in_welsh(page)
    await page.get_by_label(cy("Username")).fill(username)
    await page.get_by_label(cy("Password"), exact=True).fill(seed.demo_password(username))
    await page.get_by_role("button", name=cy("Sign in")).click()
    await expect(page.get_by_role("button", name=cy("Sign out"))).to_be_visible()
    await _in_welsh(page)


async def switch_both_ways(page: Page, path: str, heading: str) -> None:
    """On a page in Welsh: to English and back again, staying on the same page."""
    await page.goto(path)
    await expect(page.get_by_role("heading", level=1)).to_contain_text(cy(heading))
    await page.get_by_role("link", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    await no_axe_violations(page)
    await page.get_by_role("link", name="Cymraeg").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(cy(heading))
    await _in_welsh(page)


async def make_a_referral(page: Page) -> str:
    await page.goto("/referrals/new")
    await page.get_by_role("button", name=cy("Continue")).click()
    await page.get_by_label(cy("Words")).fill("dyledion")
    await page.get_by_role("button", name=cy("Search")).click()
    await page.get_by_label(DEBT_SERVICE).check()
    await page.get_by_role("button", name=cy("Continue")).click()
    await _in_welsh(page)
    await page.get_by_label(cy("First name")).fill("Siân")
    await page.get_by_label(cy("Last name")).fill("Example")
    for label, value in ((cy("Day"), "2"), (cy("Month"), "3"), (cy("Year"), "1994")):
        await page.get_by_label(label, exact=True).fill(value)
    await page.get_by_label(cy("No preference")).check()
    await page.get_by_label(cy("Welsh"), exact=True).check()
    await page.get_by_role("button", name=cy("Continue")).click()
    await _consent_and_details(page)
    await expect(page.locator(".govuk-panel__title")).to_have_text(cy("Referral sent"))
    await _in_welsh(page)
    return (await page.locator(".govuk-panel__body strong").inner_text()).strip()


async def _consent_and_details(page: Page) -> None:
    await expect(page.locator("[lang=cy] p").first).to_be_visible()  # the words to read, in Welsh
    await _in_welsh(page)
    await page.get_by_label(cy("Debt advice"), exact=True).check()
    await page.get_by_label(cy("The person themselves")).check()
    await page.get_by_label(cy("Verbally")).check()
    await page.get_by_label(cy("I read these words to the person and they agreed")).check()
    await page.get_by_role("button", name=cy("Continue")).click()
    await _in_welsh(page)
    await page.get_by_label(cy("Reason for the referral")).fill("Ôl-ddyledion rhent.")
    await page.get_by_label(cy("Routine")).check()
    await page.get_by_label(cy("Referral only")).check()
    await page.get_by_role("button", name=cy("Continue")).click()
    await _in_welsh(page)
    await page.get_by_role("button", name=cy("Send referral")).click()


async def accept_record_and_read(page: Page, reference: str) -> None:
    await page.goto("/inbox")
    await page.get_by_role("link", name=reference).click()
    await _in_welsh(page)
    await page.get_by_role("button", name=cy("Accept referral")).click()
    await page.get_by_role("button", name=cy("Accept referral")).click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text(cy("Referral accepted"))
    await page.get_by_role("button", name=cy("Record an outcome")).click()
    await _in_welsh(page)
    await page.get_by_label(cy("Debt plan agreed")).check()
    today = date.today()
    for label, value in ((cy("Day"), today.day), (cy("Month"), today.month), (cy("Year"), today.year)):
        await page.get_by_label(label, exact=True).fill(str(value))
    await page.get_by_role("button", name=cy("Record outcome")).click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text(cy("Outcome recorded"))
    await expect(page.get_by_role("heading", name=cy("History"))).to_be_visible()
    await expect(page.locator(".app-timeline")).to_contain_text(cy("Referral sent"))
    await _in_welsh(page)


async def test_the_service_in_welsh(app: FastAPI) -> None:
    await committed(lambda session: seed.seed_demo(session, sample_referrals=False))
    async with served(app) as base_url, chromium() as browser:
        referrer = await (await new_context(browser, base_url)).new_page()
        await sign_in_in_welsh(referrer, "cc.caseworker")
        reference = await make_a_referral(referrer)
        for path, heading in (("/inbox", "Inbox"), ("/directory", "Directory"), ("/sent", "Sent referrals")):
            await switch_both_ways(referrer, path, heading)
        receiver = await (await new_context(browser, base_url)).new_page()
        await sign_in_in_welsh(receiver, "debt.caseworker")
        await accept_record_and_read(receiver, reference)
