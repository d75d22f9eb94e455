"""The end of an idle session in a browser, as its user meets it: with JavaScript a warning on the
page that keeps them where they are; without, what they typed waits for them to sign in again."""

from datetime import timedelta

import pytest
from fastapi import FastAPI
from playwright.async_api import Page, expect
from sqlalchemy import update

from app.db import utcnow
from app.models.identity import Role
from app.models.web_session import WebSession
from app.unit_of_work import committed
from tests.support.browser_support import chromium, new_context, no_axe_violations, served, sign_in
from tests.support.factories import make_user
from tests.support.referral_helpers import create_referral, make_network
from tests.support.web_support import PASSWORD, api

pytestmark = pytest.mark.browser

TYPED = "Natalie would rather we rang after 3pm, when the children are back from school."


async def _last_seen(ago: timedelta) -> None:
    """Move the server's idea of the user's last request back (the browser's clock is moved apart)."""
    moment = utcnow() - ago
    await committed(lambda s: s.execute(update(WebSession).values(last_seen_at=moment)))


async def _referral_page(app: FastAPI, page: Page) -> str:
    net = await make_network()
    async with api(app) as partner:
        referral = await create_referral(partner, net)
    user = await make_user(net.debt, Role.CASEWORKER, password=PASSWORD)
    await sign_in(page, user.username, PASSWORD)
    await page.goto(f"/referrals/{referral['id']}")
    await page.get_by_label("Message").fill(TYPED)
    return user.username


async def _warned(page: Page) -> None:
    """28 minutes on: the warning opens over the page with the focus in it."""
    await _last_seen(timedelta(minutes=28, seconds=10))
    await page.clock.fast_forward("28:00")
    dialog = page.get_by_role("dialog", name="You will be signed out soon")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("heading")).to_be_focused()
    await expect(dialog).to_contain_text("We will sign you out in 2 minutes.")


async def _focus_stays_in(page: Page) -> None:
    dialog = page.get_by_role("dialog")
    for _ in range(5):
        await page.keyboard.press("Tab")
        assert await dialog.evaluate("d => d.contains(document.activeElement)")
    await page.keyboard.press("Shift+Tab")
    assert await dialog.evaluate("d => d.contains(document.activeElement)")


async def _still_here(page: Page) -> None:
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await expect(page.get_by_label("Message")).to_have_value(TYPED)
    await expect(page.get_by_label("Message")).to_be_focused()


async def test_the_warning_keeps_the_user_on_the_page_with_what_they_typed(app: FastAPI) -> None:
    async with served(app) as base_url, chromium() as browser:
        page = await (await new_context(browser, base_url)).new_page()
        await page.clock.install()
        await _referral_page(app, page)
        url = page.url
        await _warned(page)
        await no_axe_violations(page)
        await _focus_stays_in(page)
        await page.clock.run_for(60_000)
        await expect(page.get_by_role("dialog")).to_contain_text("We will sign you out in 1 minute.")
        await page.get_by_role("button", name="Stay signed in").click()
        await _still_here(page)
        await _warned(page)
        await page.keyboard.press("Escape")
        await _still_here(page)
        assert page.url == url
        await page.get_by_role("button", name="Send message").click()
        await expect(page.locator(".app-message").last).to_contain_text(TYPED)


async def test_the_warning_signs_out_at_the_deadline(app: FastAPI) -> None:
    async with served(app) as base_url, chromium() as browser:
        page = await (await new_context(browser, base_url)).new_page()
        await page.clock.install()
        await _referral_page(app, page)
        path = page.url.removeprefix(base_url)
        await _warned(page)
        await _last_seen(timedelta(minutes=31))
        await page.clock.run_for(121_000)
        await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        await expect(page.get_by_text("You were signed out because you did not do anything")).to_be_visible()
        assert page.url.endswith(f"/sign-in?reason=idle&next={path}")
        await no_axe_violations(page)


@pytest.mark.parametrize("width", [1024, 320])
async def test_without_javascript_typed_text_survives_signing_in_again(app: FastAPI, width: int) -> None:
    async with served(app) as base_url, chromium() as browser:
        page = await (await new_context(browser, base_url, javascript=False)).new_page()
        await page.set_viewport_size({"width": width, "height": 800})
        username = await _referral_page(app, page)
        url = page.url
        await _last_seen(timedelta(minutes=31))
        await page.get_by_role("button", name="Send message").click()
        await expect(page.get_by_text("What you had typed has been kept")).to_be_visible()
        await no_axe_violations(page)
        await page.get_by_label("Username").fill(username)
        await page.get_by_label("Password", exact=True).fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        assert page.url == url
        await expect(page.get_by_text("You were signed out before your form was sent")).to_be_visible()
        await expect(page.get_by_label("Message")).to_have_value(TYPED)
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        await no_axe_violations(page)
        await page.get_by_role("button", name="Send message").click()
        await expect(page.locator(".app-message").last).to_contain_text(TYPED)
