"""The warm handover in a browser: a children's centre refers a parent to debt advice, the debt
adviser accepts, arranges a joint appointment, records what happened and closes the referral,
and the centre sees the outcome. With JavaScript and without; axe-core on every page."""

import uuid
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, Page, expect

from app.services import seed
from app.unit_of_work import committed
from tests.support.browser_support import (
    arrow_to,
    chromium,
    new_context,
    no_axe_violations,
    no_personal_data,
    served,
    sign_in,
    tab_to,
)

pytestmark = pytest.mark.browser

REFERRER, RECEIVER = "cc.caseworker", "debt.caseworker"
SERVICE = "Debt and money advice, North Wales Debt Advice"


async def _choose_service(page: Page) -> None:
    await page.get_by_role("link", name="Make a referral").first.click()
    await expect(page.get_by_role("heading", name="Make a referral")).to_be_visible()
    await no_axe_violations(page)
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("Words").fill("debt")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_label(SERVICE)).to_be_visible()
    await no_axe_violations(page)
    await page.get_by_label(SERVICE).check()
    await page.get_by_role("button", name="Continue").click()


async def _person(page: Page) -> None:
    await page.get_by_role("button", name="Continue").click()  # nothing filled in: GOV.UK errors
    await expect(page.locator(".govuk-error-summary")).to_be_visible()
    await no_axe_violations(page)
    await page.get_by_label("First name").fill("Natalie")
    await page.get_by_label("Last name").fill("Example")
    await page.get_by_label("Day").fill("2")
    await page.get_by_label("Month").fill("3")
    await page.get_by_label("Year").fill("1994")
    await page.get_by_label("Postcode").fill("LL13 9AA")
    await page.get_by_label("Phone number").fill("07700900123")
    await page.get_by_label("Phone", exact=True).check()
    await page.get_by_label("Universal Credit").check()
    await page.get_by_label("Debt", exact=True).check()
    await page.get_by_role("button", name="Continue").click()


async def _consent_and_details(page: Page) -> None:
    await expect(page.get_by_role("heading", name="Consent", exact=True)).to_be_visible()
    await no_axe_violations(page)
    await page.get_by_label("Debt advice", exact=True).check()
    await page.get_by_label("Contact details (phone, email, postcode)").check()
    await page.get_by_label("Circumstances (lone parent, benefits, barriers)").check()
    await page.get_by_label("The person themselves").check()
    await page.get_by_label("Verbally").check()
    await page.get_by_label("I read these words to the person and they agreed").check()
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", name="Referral details")).to_be_visible()
    await no_axe_violations(page)
    await page.get_by_label("Reason for the referral").fill("Rent arrears and a catalogue debt.")
    await page.get_by_label("Soon").check()
    await page.get_by_label("Joint appointment").check()
    await page.get_by_role("button", name="Continue").click()


async def make_referral(page: Page) -> str:
    """Make a referral from the centre; returns the reference the confirmation shows."""
    await _choose_service(page)
    await _person(page)
    await _consent_and_details(page)
    await expect(
        page.get_by_role("heading", name="Check your answers before sending the referral")
    ).to_be_visible()
    await no_axe_violations(page)
    await page.get_by_role("button", name="Send referral").click()
    await expect(page.locator(".govuk-panel__title")).to_have_text("Referral sent")
    await no_axe_violations(page)
    reference = (await page.locator(".govuk-panel__body strong").inner_text()).strip()
    no_personal_data(await page.title(), page.url, "Natalie", "Example")
    return reference


async def open_from_inbox(page: Page, reference: str) -> None:
    await page.goto("/inbox")
    await expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    await expect(page.get_by_role("link", name="New (1)")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=reference))
    await expect(row).to_contain_text("Nobody")
    await no_axe_violations(page)
    await page.get_by_role("link", name=reference).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    await no_axe_violations(page)
    no_personal_data(await page.title(), page.url, "Natalie", "Example")


async def _fill_date(page: Page, day: date) -> None:
    await page.get_by_label("Day").fill(str(day.day))
    await page.get_by_label("Month").fill(str(day.month))
    await page.get_by_label("Year").fill(str(day.year))


async def work_the_referral(page: Page) -> None:
    """Take it, accept, schedule the joint appointment, record the outcome, complete."""
    await page.get_by_role("button", name="Assign to me").click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Referral assigned to you"
    )
    await page.get_by_role("button", name="Accept referral").click()
    await expect(page.get_by_role("heading", name="Accept this referral?")).to_be_visible()
    await no_axe_violations(page)
    await page.get_by_role("button", name="Accept referral").click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Referral accepted")
    await no_axe_violations(page)
    await page.get_by_role("button", name="Schedule handover").click()
    await expect(page.get_by_role("heading", name="Schedule the handover")).to_be_visible()
    await page.get_by_role("button", name="Schedule handover").click()  # empty: GOV.UK errors
    await expect(page.locator(".govuk-error-summary")).to_be_visible()
    await no_axe_violations(page)
    await _fill_date(page, date.today() + timedelta(days=3))
    await page.get_by_label("Time").fill("10:30am")
    await page.get_by_label("Where").fill("Caia Park Children's Centre, room 2")
    await page.get_by_label("With whom").fill("Debt adviser and family worker")
    await page.get_by_role("button", name="Schedule handover").click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Handover scheduled")
    await page.get_by_role("button", name="Record an outcome").click()
    await expect(page.get_by_role("heading", name="Record an outcome")).to_be_visible()
    await no_axe_violations(page)
    await page.get_by_label("Debt plan agreed").check()
    await _fill_date(page, date.today())
    await page.get_by_label("Note").fill("Payment plan agreed with the catalogue company.")
    await page.get_by_role("button", name="Record outcome").click()
    await page.get_by_role("button", name="Complete referral").click()
    await expect(page.get_by_role("heading", name="Complete this referral?")).to_be_visible()
    await page.get_by_role("button", name="Complete referral").click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Referral completed")
    await no_axe_violations(page)


async def referrer_sees_the_outcome(page: Page, reference: str) -> None:
    await page.goto("/sent?view=closed")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=reference))
    await expect(row).to_contain_text("Debt plan agreed")
    await expect(row).to_contain_text("Completed")
    await no_axe_violations(page)


async def error_pages(page: Page) -> None:
    """The pages a user meets when something is wrong are accessible too."""
    await page.goto(f"/referrals/{uuid.uuid4()}")
    await expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    await no_axe_violations(page)


async def _story(browser: Browser, base_url: str, *, javascript: bool) -> None:
    referrer = await (await new_context(browser, base_url, javascript=javascript)).new_page()
    receiver = await (await new_context(browser, base_url, javascript=javascript)).new_page()
    await referrer.goto("/sign-in")
    await no_axe_violations(referrer)
    await referrer.get_by_label("Username").fill(REFERRER)
    await referrer.get_by_label("Password", exact=True).fill("not the password")
    await referrer.get_by_role("button", name="Sign in").click()
    await expect(referrer.locator(".govuk-error-summary")).to_contain_text(
        "Enter a correct username and password"
    )
    await no_axe_violations(referrer)
    await sign_in(referrer, REFERRER)
    reference = await make_referral(referrer)
    await sign_in(receiver, RECEIVER)
    await open_from_inbox(receiver, reference)
    await work_the_referral(receiver)
    await receiver.goto("/inbox?view=mine")
    await expect(receiver.get_by_role("link", name="Assigned to me (0)")).to_be_visible()  # closed now
    await referrer_sees_the_outcome(referrer, reference)
    await error_pages(referrer)


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
async def test_the_warm_handover_story_in_two_browsers(app: FastAPI, javascript: bool) -> None:
    await committed(lambda s: seed.seed_demo(s, sample_referrals=False))  # a quiet network
    async with served(app) as base_url, chromium() as browser:
        await _story(browser, base_url, javascript=javascript)


async def test_the_receiver_works_a_referral_with_the_keyboard_alone(app: FastAPI) -> None:
    await committed(lambda s: seed.seed_demo(s, sample_referrals=False))  # a quiet network
    async with served(app) as base_url, chromium() as browser:
        referrer = await (await new_context(browser, base_url)).new_page()
        await sign_in(referrer, REFERRER)
        reference = await make_referral(referrer)
        page = await (await new_context(browser, base_url)).new_page()
        await page.goto("/sign-in")
        await tab_to(page, page.get_by_label("Username"))
        await page.keyboard.type(RECEIVER)
        await page.keyboard.press("Tab")
        await page.keyboard.type(seed.demo_password(RECEIVER))
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
        await tab_to(page, page.get_by_role("link", name=reference))
        await page.keyboard.press("Enter")
        await tab_to(page, page.get_by_role("button", name="Accept referral"))
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="Accept this referral?")).to_be_visible()
        await tab_to(page, page.get_by_role("button", name="Accept referral"))
        await page.keyboard.press("Enter")
        await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Referral accepted")
        await tab_to(page, page.get_by_role("button", name="Record an outcome"))
        await page.keyboard.press("Enter")
        await tab_to(page, page.get_by_label("Debt plan agreed"))  # first: the usual outcome of debt advice
        await arrow_to(page, page.get_by_label("Engaged with the service"))
        await page.keyboard.press("Tab")  # out of the radio group, to the date
        today = date.today()
        for part in (today.day, today.month, today.year):
            await page.keyboard.type(str(part))
            await page.keyboard.press("Tab")
        await tab_to(page, page.get_by_role("button", name="Record outcome"))
        await page.keyboard.press("Enter")
        await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Outcome recorded")
