"""In the browser: a caseworker works through their agency's follow-ups and sets their own settings,
and an agency admin adds a colleague, sends a new link, filters the notification log and changes a
service. axe-core checks every page; the follow-ups pages are used 320 pixels wide."""

from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from playwright.async_api import Page, ViewportSize, expect

from app.models.identity import Role
from app.web import i18n
from tests.support.browser_support import chromium, new_context, no_axe_violations, served, sign_in
from tests.support.factories import make_user
from tests.support.follow_up_pages import FollowUps, make_follow_ups, one
from tests.support.referral_helpers import Network, make_network
from tests.support.web_support import PASSWORD, api

pytestmark = pytest.mark.browser
NARROW: ViewportSize = {"width": 320, "height": 720}


async def _made(app: FastAPI) -> tuple[Network, FollowUps]:
    net = await make_network()
    async with api(app) as partner:
        return net, await make_follow_ups(partner, net)


async def no_sideways_scroll(page: Page) -> None:
    """Nothing on the page is wider than the window: it never scrolls sideways."""
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]}px wide in a {widths[1]}px window"


async def _checked(page: Page, heading: str) -> None:
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    await no_axe_violations(page)


async def _errors_shown(page: Page) -> None:
    await expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert (await page.title()).startswith("Error:")
    await no_axe_violations(page)


async def _fill_date(page: Page, day: date) -> None:
    await page.get_by_label("Day").fill(str(day.day))
    await page.get_by_label("Month").fill(str(day.month))
    await page.get_by_label("Year").fill(str(day.year))


async def test_follow_ups_settings_and_admin_tools(app: FastAPI) -> None:
    net, made = await _made(app)
    caseworker = await make_user(net.debt, password=PASSWORD, email="cai@debt.example")
    admin = await make_user(net.debt, Role.AGENCY_ADMIN, password=PASSWORD)
    async with served(app) as base_url, chromium() as browser:
        page = await (await new_context(browser, base_url)).new_page()
        await page.set_viewport_size(NARROW)
        await sign_in(page, caseworker.username, PASSWORD)
        await _work_the_follow_ups(page, made)
        await _choose_settings(page)
        other = await (await new_context(browser, base_url)).new_page()
        await sign_in(other, admin.username, PASSWORD)
        await _admin_tools(other)
    assert (await one(made.week_13.id)).done_at is not None
    assert (await one(made.week_26.id)).snooze_note == "Starting a new contract"


async def _work_the_follow_ups(page: Page, made: FollowUps) -> None:
    await page.get_by_role("button", name="Menu").click()
    await page.get_by_role("link", name="Follow-ups").click()
    await _checked(page, "Follow-ups")
    await no_sideways_scroll(page)
    reference = made.job_referral["reference"]
    await expect(
        page.get_by_role("table", name="Due now").get_by_role("link", name=reference, exact=True)
    ).to_be_visible()

    await page.get_by_role("table", name="Due now").get_by_role("link", name="Record result").click()
    await _checked(page, "Record result")
    await no_sideways_scroll(page)
    await page.get_by_role("button", name="Record result").click()
    await _errors_shown(page)
    await page.get_by_role("link", name="Select what you found").click()
    await page.get_by_label("Yes, they are still in work after 13 weeks").check()
    await page.get_by_role("button", name="Record result").click()
    await expect(page.get_by_text("Result recorded")).to_be_visible()
    await no_axe_violations(page)
    await no_sideways_scroll(page)

    await page.get_by_role("table", name="Coming up").get_by_role("link", name="Snooze").click()
    await _checked(page, "Snooze a follow-up")
    await no_sideways_scroll(page)
    await _fill_date(page, date.today() + timedelta(days=30))
    await page.get_by_label("Note").fill("Starting a new contract")
    await page.get_by_role("button", name="Snooze").click()
    await expect(page.get_by_text("Follow-up snoozed")).to_be_visible()
    await expect(page.get_by_text("Starting a new contract")).to_be_visible()
    await no_axe_violations(page)

    await page.get_by_role("table", name="Coming up").get_by_role("link", name=reference, exact=True).click()
    await expect(page.get_by_role("heading", name="Follow-ups")).to_be_visible()
    await expect(page.get_by_text("Done: Outcome recorded")).to_be_visible()
    await no_axe_violations(page)
    await page.get_by_role("link", name="Record result").click()
    await _checked(page, "Record result")


async def _choose_settings(page: Page) -> None:
    await page.get_by_role("button", name="Menu").click()
    await page.get_by_role("link", name="Settings").click()
    await _checked(page, "Settings")
    await no_sideways_scroll(page)
    messages = page.get_by_role("group", name="New messages on referrals")
    await messages.get_by_label("Once a day, in a digest").check()
    await page.get_by_label("Cymraeg").check()
    await page.get_by_role("button", name="Save settings").click()
    # The page is now in the language chosen.
    await expect(page.get_by_text(i18n.gettext_in("cy", "Settings saved"))).to_be_visible()
    messages = page.get_by_role("group", name=i18n.gettext_in("cy", "New messages on referrals"))
    await expect(messages.get_by_label(i18n.gettext_in("cy", "Once a day, in a digest"))).to_be_checked()
    await expect(page.get_by_label("Cymraeg")).to_be_checked()
    await no_axe_violations(page)
    await page.get_by_role("link", name="English").click()  # and back, for the rest of the walk
    await expect(page.get_by_role("heading", name="Settings")).to_be_visible()


async def _admin_tools(page: Page) -> None:
    await page.goto("/admin/staff/new")
    await page.get_by_label("Username").fill("ffion.adviser")
    await page.get_by_label("Full name").fill("Ffion Adviser")
    await page.get_by_label("Work email address").fill("ffion@debt.example")
    await page.get_by_label("Caseworker").check()
    await page.get_by_role("button", name="Add member of staff").click()
    await expect(page.get_by_text("We are emailing them a link to set their password")).to_be_visible()
    await no_axe_violations(page)

    await page.goto("/admin/staff")
    await page.get_by_role("link", name="Change Ffion Adviser").click()
    await page.get_by_role("button", name="Send a new link").click()
    await _checked(page, "New link issued")

    await page.goto("/admin/notifications")
    await page.get_by_label("Kind").select_option(label="Links to set a password")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page.get_by_role("cell", name="ffion@debt.example").first).to_be_visible()
    await no_axe_violations(page)
    await page.get_by_label("Day").fill("32")
    await page.get_by_role("button", name="Apply filters").click()
    await _errors_shown(page)

    await page.goto("/admin/services")
    await page.get_by_role("link", name="Change Money advice").click()
    await page.get_by_label("Name", exact=True).fill("Money and housing advice")
    await page.get_by_label("Housing support").check()
    await page.get_by_role("button", name="Save service").click()
    await expect(page.get_by_role("cell", name="Money and housing advice", exact=True)).to_be_visible()
    await no_axe_violations(page)


async def test_a_follow_up_is_snoozed_without_javascript(app: FastAPI) -> None:
    net, made = await _made(app)
    caseworker = await make_user(net.debt, password=PASSWORD)
    async with served(app) as base_url, chromium() as browser:
        page = await (await new_context(browser, base_url, javascript=False)).new_page()
        await page.set_viewport_size(NARROW)
        await sign_in(page, caseworker.username, PASSWORD)
        await page.get_by_role("link", name="Follow-ups").click()
        await _checked(page, "Follow-ups")
        await no_sideways_scroll(page)
        await page.get_by_role("table", name="Due now").get_by_role("link", name="Snooze").click()
        await _checked(page, "Snooze a follow-up")
        await page.get_by_role("button", name="Snooze").click()
        await _errors_shown(page)
        await no_sideways_scroll(page)
        await _fill_date(page, date.today() + timedelta(days=7))
        await page.get_by_role("button", name="Snooze").click()
        await expect(page.get_by_text("Follow-up snoozed")).to_be_visible()
        await no_axe_violations(page)
    assert (await one(made.week_13.id)).due_on == date.today() + timedelta(days=7)
