"""axe-core on the pages beyond the handover story: directory, figures, audit, static pages."""

import pytest
from fastapi import FastAPI
from playwright.async_api import Page, expect

from app.models.identity import Role
from tests.support.browser_support import chromium, new_context, no_axe_violations, served, sign_in
from tests.support.factories import make_user
from tests.support.journeys import make_journey
from tests.support.referral_helpers import create_referral, make_network
from tests.support.web_support import PASSWORD, api

pytestmark = pytest.mark.browser


async def _visit(page: Page, path: str, heading: str) -> None:
    await page.goto(path)
    await expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    await no_axe_violations(page)


async def test_the_other_pages_have_no_axe_violations(app: FastAPI) -> None:
    net = await make_network()
    async with api(app) as partner:
        referral = await create_referral(partner, net)
    admin = await make_user(net.debt, Role.AGENCY_ADMIN, password=PASSWORD)
    auditor = await make_user(None, Role.AUDITOR, password=PASSWORD)
    async with served(app) as base_url, chromium() as browser:
        page = await (await new_context(browser, base_url)).new_page()
        await sign_in(page, admin.username, PASSWORD)
        await _visit(page, "/admin", "Your agency's figures")
        await _visit(page, "/directory?q=money", "Directory")
        await _visit(page, "/sent", "Sent referrals")
        await _visit(page, "/inbox?view=overdue", "Inbox")
        await _visit(page, "/accessibility", "Accessibility statement")
        await _visit(page, "/cookies", "Cookies")
        await _visit(page, "/audit", "You cannot use this page")
        await _visit(page, "/admin/staff", "Staff")
        await _visit(page, "/admin/staff/new", "Add a member of staff")
        await page.get_by_role("button", name="Add member of staff").click()
        await expect(page.locator(".govuk-error-summary")).to_be_visible()
        await no_axe_violations(page)
        await _visit(page, f"/admin/staff/{admin.id}", "Change a member of staff")
        await _visit(page, "/admin/services", "Services")
        await _visit(page, f"/admin/services/{net.debt_service.id}", "Change a service")
        await _visit(page, "/admin/notifications", "Notification log")
        await _visit(page, "/set-password", "Set your password")
        other = await (await new_context(browser, base_url)).new_page()
        await sign_in(other, auditor.username, PASSWORD)
        await _visit(other, "/audit", "Audit")
        await other.get_by_label("Referral reference").fill("RX-AAAAA-AAAAA")
        await other.get_by_role("button", name="Show its trail").click()
        await expect(other.locator(".govuk-error-summary")).to_be_visible()
        await no_axe_violations(other)
        await other.get_by_role("button", name="Check the audit log").click()
        await expect(other.get_by_text("Verified")).to_be_visible()
        await no_axe_violations(other)
        await _visit(other, f"/audit/referrals/{referral['id']}", referral["reference"])


@pytest.mark.parametrize("javascript", [True, False])
async def test_a_referral_with_its_journey_has_no_axe_violations(app: FastAPI, javascript: bool) -> None:
    net = await make_network()
    async with api(app) as partner:
        journey = await make_journey(partner, net)
    adviser = await make_user(net.outsider, Role.CASEWORKER, password=PASSWORD)
    async with served(app) as base_url, chromium() as browser:
        page = await (await new_context(browser, base_url, javascript=javascript)).new_page()
        await sign_in(page, adviser.username, PASSWORD)
        await _visit(page, f"/referrals/{journey.first['id']}", journey.first["reference"])
        await expect(page.get_by_role("heading", name="Journey")).to_be_visible()
        await page.get_by_role("link", name=journey.onward["reference"]).click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text(journey.onward["reference"])
        await no_axe_violations(page)
