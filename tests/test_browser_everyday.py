"""The everyday path in a browser: a referral sharing less than everything, with optional details left
blank, on a 320 px screen; referred onward without JavaScript, the person and consent carried over;
the receiver confirms, moves the appointment and records the person withdrawing consent. axe-core on
every page met."""

from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from playwright.async_api import Page, expect

from app.services import seed
from app.unit_of_work import committed
from tests.support.browser_support import (
    chromium,
    fits_the_width,
    new_context,
    no_axe_violations,
    served,
    sign_in,
)

pytestmark = pytest.mark.browser

JCP_SERVICE = "Work coach and better-off calculations, Wrexham Jobcentre Plus"
DEBT_SERVICE = "Debt and money advice, North Wales Debt Advice"


async def _checked(page: Page) -> None:
    await no_axe_violations(page)
    await fits_the_width(page)


async def _choose(page: Page, words: str, service: str) -> None:
    await page.get_by_label("Words").fill(words)
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("button", name="Continue").click()  # nothing chosen: the GOV.UK error pattern
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the service")
    assert (await page.title()).startswith("Error:")
    await _checked(page)
    await page.get_by_label(service).check()
    await page.get_by_role("button", name="Continue").click()


async def _person_without_contact_details(page: Page) -> None:
    await page.get_by_label("First name").fill("Natalie")
    await page.get_by_label("Last name").fill("Example")
    await page.get_by_label("Day").fill("2")
    await page.get_by_label("Month").fill("3")
    await page.get_by_label("Year").fill("1994")
    await page.get_by_label("No preference").check()
    await page.get_by_label("Universal Credit").check()  # typed, but the person will not share it
    await page.get_by_role("button", name="Continue").click()


async def _consent_to_contact_only(page: Page) -> None:
    await expect(page.get_by_role("heading", name="Consent", exact=True)).to_be_visible()
    await _checked(page)
    await page.get_by_label("Job search support", exact=True).check()
    await page.get_by_label("Benefits advice", exact=True).check()
    await page.get_by_label("Contact details (phone, email, postcode)").check()
    await page.get_by_label("The person themselves").check()
    await page.get_by_label("Verbally").check()
    await page.get_by_label("I read these words to the person and they agreed").check()
    await page.get_by_role("button", name="Continue").click()


async def _details(page: Page, purpose: str, *, onward: bool = False) -> None:
    await expect(page.get_by_role("heading", name="Referral details")).to_be_visible()
    await _checked(page)
    await page.get_by_label(purpose, exact=True).check()
    await page.get_by_label("Reason for the referral").fill("Wants to be better off in work.")
    await page.get_by_label("Routine").check()
    await page.get_by_label("Referral only").check()
    if onward:
        group = page.get_by_role("group", name="Do you want them back when the work is done?")
        await group.get_by_label("Yes").check()
    await page.get_by_role("button", name="Continue").click()


async def _send(page: Page) -> str:
    await expect(
        page.get_by_role("heading", name="Check your answers before sending the referral")
    ).to_be_visible()
    await _checked(page)
    await page.get_by_role("button", name="Send referral").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Referral sent")
    await _checked(page)
    return (await page.locator(".govuk-panel__body strong").inner_text()).strip()


async def refer_sharing_less(page: Page) -> str:
    """On a phone-sized screen, refer with phone and postcode left blank and circumstances not shared."""
    await page.get_by_role("button", name="Menu").click()  # the navigation folds away on a narrow screen
    await page.get_by_role("link", name="Make a referral").first.click()
    await page.get_by_role("button", name="Continue").click()
    await _choose(page, "work coach", JCP_SERVICE)
    await _person_without_contact_details(page)
    await _consent_to_contact_only(page)
    await _details(page, "Job search support")
    await expect(page.get_by_text("Not shared: the person did not agree to share them")).to_be_visible()
    await expect(page.get_by_text("2 March 1994")).to_be_visible()
    await expect(page.get_by_text("Universal Credit")).to_have_count(0)
    return await _send(page)


async def _open(page: Page, reference: str) -> None:
    await page.goto("/inbox?view=open")
    await page.get_by_role("link", name=reference).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    await _checked(page)


async def _confirm(page: Page, action: str, question: str, done: str) -> None:
    await page.get_by_role("button", name=action).click()
    await expect(page.get_by_role("heading", name=question)).to_be_visible()
    await _checked(page)
    await page.get_by_role("button", name=action).click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text(done)


async def refer_onward(page: Page, reference: str) -> str:
    """Without JavaScript: accept, then refer the person on to debt advice and ask for them back."""
    await _open(page, reference)
    await _confirm(page, "Accept referral", "Accept this referral?", "Referral accepted")
    await page.get_by_role("button", name="Refer onward").click()
    await expect(page.get_by_text(f"onward from referral {reference}")).to_be_visible()
    await _checked(page)
    await page.get_by_role("button", name="Continue").click()
    await _choose(page, "debt", DEBT_SERVICE)
    await _details(page, "Benefits advice", onward=True)
    await expect(page.get_by_text(f"The consent given for referral {reference}")).to_be_visible()
    onward = await _send(page)
    await _open(page, reference)
    journey = page.locator("h2:has-text('Journey') + p + ul")
    await expect(journey).to_contain_text(onward)
    return onward


async def _move_the_appointment(page: Page) -> None:
    await page.get_by_role("button", name="Schedule handover").click()
    when = date.today() + timedelta(days=3)
    for label, value in (("Day", when.day), ("Month", when.month), ("Year", when.year)):
        await page.get_by_label(label).fill(str(value))
    await page.get_by_label("Time").fill("10:30am")
    await page.get_by_label("Where").fill("Caia Park Children's Centre")
    await page.get_by_label("With whom").fill("Money adviser")
    await page.get_by_role("button", name="Schedule handover").click()
    await page.get_by_role("button", name="Change appointment").click()
    await expect(page.get_by_label("Where")).to_have_value("Caia Park Children's Centre")
    await _checked(page)
    await page.get_by_label("Where").fill("Rhosddu Community Hall")
    await page.get_by_role("button", name="Change appointment").click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Appointment changed")


async def receive_and_close(page: Page, reference: str) -> None:
    """Debt advice accepts, moves the appointment, then hears the person withdraw their consent."""
    await _open(page, reference)
    await expect(page.get_by_text("Decision due by")).to_be_visible()
    await _confirm(page, "Accept referral", "Accept this referral?", "Referral accepted")
    await expect(page.get_by_text("Decision due by")).to_have_count(0)
    await _move_the_appointment(page)
    await page.get_by_role("link", name="Record consent withdrawn").click()
    await _checked(page)
    await page.get_by_role("button", name="Record consent withdrawn").click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Consent withdrawn")
    await _checked(page)


async def test_the_everyday_path_narrow_screen_no_javascript_and_onward(app: FastAPI) -> None:
    await committed(seed.seed_demo)
    async with served(app) as base_url, chromium() as browser:
        centre = await (await new_context(browser, base_url, width=320)).new_page()
        await sign_in(centre, "cc.caseworker")
        reference = await refer_sharing_less(centre)
        jcp = await (await new_context(browser, base_url, javascript=False)).new_page()
        await sign_in(jcp, "jcp.caseworker")
        onward = await refer_onward(jcp, reference)
        debt = await (await new_context(browser, base_url, width=320)).new_page()
        await sign_in(debt, "debt.caseworker")
        await receive_and_close(debt, onward)
