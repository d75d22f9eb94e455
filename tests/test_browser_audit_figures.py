"""In a browser: an auditor finds what a member of staff did and reads a referral's trail, and an
agency admin reads the agency's figures for a period. With JavaScript and without, at 320 px;
axe-core on every page and every state."""

from datetime import date

import pytest
from fastapi import FastAPI
from playwright.async_api import Page, expect

from app.models.identity import Role
from tests.support.browser_support import chromium, new_context, no_axe_violations, served, sign_in
from tests.support.factories import make_user
from tests.support.figures import journey_with_a_job
from tests.support.trail_story import TrailStory, make_trail
from tests.support.web_support import PASSWORD, api

pytestmark = pytest.mark.browser
DEBT = "North Wales Debt Advice"


async def no_sideways_scroll(page: Page) -> None:
    """Nothing on the page is wider than the window, so it never scrolls sideways."""
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]} px wide in a {widths[1]} px window"


async def checked(page: Page) -> None:
    await no_axe_violations(page)
    await no_sideways_scroll(page)


async def _fill_date(page: Page, legend: str, day: date) -> None:
    group = page.get_by_role("group", name=legend)
    await group.get_by_label("Day").fill(str(day.day))
    await group.get_by_label("Month").fill(str(day.month))
    await group.get_by_label("Year").fill(str(day.year))


async def _find_events(page: Page, story: TrailStory) -> None:
    """From the audit home page: errors first, then a name several share, then the one meant."""
    await page.goto("/audit")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Audit")
    await checked(page)
    await page.get_by_role("group", name="Date from").get_by_label("Day").fill("3")
    await page.get_by_role("button", name="Find events").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Date from must include a month and a year"
    )
    await checked(page)
    await page.get_by_role("link", name="Date from must include a month and a year").click()
    await expect(page.get_by_role("group", name="Date from").get_by_label("Month")).to_be_focused()
    await page.get_by_label("Name of the member of staff or partner system").fill("jones")
    await _fill_date(page, "Date from", date.today())
    await page.get_by_role("button", name="Find events").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Choose who you mean")
    await checked(page)
    await page.get_by_role("link", name=f"Sam Jones ({DEBT})").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Audit events")
    await expect(page.get_by_text(f"Sam Jones ({DEBT}) accepted the referral")).to_be_visible()
    assert "jones" not in page.url.lower()
    await checked(page)


async def _read_the_trail(page: Page, story: TrailStory) -> None:
    reference = story.referral["reference"]
    await page.get_by_role("link", name=f"Audit trail of referral {reference}").first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Referral {reference}")
    await expect(page.get_by_text(f"Sam Jones ({DEBT}) opened the referral 3 times")).to_be_visible()
    await checked(page)
    await page.get_by_role("link", name="Changes (").click()
    await expect(page.get_by_text(f"Sam Jones ({DEBT}) accepted the referral")).to_be_visible()
    await expect(page.get_by_text("opened the referral")).to_have_count(0)
    await checked(page)
    await page.get_by_role("link", name="Views (").click()
    await expect(page.get_by_text("accepted the referral")).to_have_count(0)
    await checked(page)
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download these events as a spreadsheet (CSV)").click()
    assert (await download.value).suggested_filename == f"audit-trail-{reference}.csv"


async def _read_the_figures(page: Page) -> None:
    await page.goto("/admin")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your agency's figures")
    await expect(page.get_by_role("heading", name="All referrals")).to_be_visible()
    await checked(page)
    await _fill_date(page, "Date from", date.today())
    await _fill_date(page, "Date to", date(2020, 1, 1))
    await page.get_by_role("button", name="Show figures").click()
    await expect(page.locator(".govuk-error-summary")).to_contain_text("Date to must be the same as or after")
    await checked(page)
    await _fill_date(page, "Date to", date.today())
    await page.get_by_role("button", name="Show figures").click()
    await expect(page.get_by_role("heading", name="Referrals made from")).to_be_visible()
    await page.get_by_text("Which outcomes count as hard and which as soft").click()
    await expect(page.get_by_role("heading", name="Soft outcomes")).to_be_visible()
    await expect(page.get_by_role("table", name="Checks on jobs your agency recorded")).to_be_visible()
    await checked(page)
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download these figures as a spreadsheet (CSV)").click()
    assert (await download.value).suggested_filename == "agency-figures.csv"


@pytest.mark.parametrize("javascript", [True, False])
async def test_an_auditor_and_an_agency_admin_at_320_px(app: FastAPI, javascript: bool) -> None:
    async with api(app) as partner:
        story = await make_trail(partner, views=3)
        journey = await journey_with_a_job(partner)
    auditor = await make_user(None, Role.AUDITOR, password=PASSWORD)
    admin = await make_user(journey.net.outsider, Role.AGENCY_ADMIN, password=PASSWORD)
    async with served(app) as base_url, chromium() as browser:
        context = await new_context(browser, base_url, javascript=javascript)
        page = await context.new_page()
        await page.set_viewport_size({"width": 320, "height": 640})
        await sign_in(page, auditor.username, PASSWORD)
        await _find_events(page, story)
        await _read_the_trail(page, story)
        other = await (await new_context(browser, base_url, javascript=javascript)).new_page()
        await other.set_viewport_size({"width": 320, "height": 640})
        await sign_in(other, admin.username, PASSWORD)
        await _read_the_figures(other)
