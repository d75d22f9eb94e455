"""Browser tests: the app served on loopback in the test's event loop, Chromium, and axe-core."""

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from axe_playwright_python.async_playwright import Axe
from fastapi import FastAPI
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    async_playwright,
    expect,
)

from app.services.seed import demo_password

DEBIAN_CHROMIUM = "/usr/bin/chromium"
# The person every browser test refers: their name must never reach a title bar or an address.
TEST_PERSON = ("Natalie", "Example")
_axe = Axe()


def chromium_path() -> str | None:
    """Debian's Chromium when installed; otherwise Playwright's own browser, if it has one."""
    return DEBIAN_CHROMIUM if shutil.which(DEBIAN_CHROMIUM) else None


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app on a free loopback port for as long as the block runs; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110  (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium, or the test is skipped (failed under CI) when there is none."""
    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        except Exception as exc:  # no browser on this machine
            if os.environ.get("CI"):
                raise
            pytest.skip(f"no Chromium to drive: {exc}")
        try:
            yield browser
        finally:
            _mirrors.clear()
            _refused.clear()
            await browser.close()


# axe-core is a script, so a page shown with JavaScript off is checked in a mirror: a page with
# scripts on (for axe) but the site's own scripts blocked, given the same HTML at the same origin.
_mirrors: dict[BrowserContext, Page] = {}


# What the browser refused under the Content-Security-Policy, per context (there should be nothing).
_refused: dict[BrowserContext, list[str]] = {}


def _watch_policy(context: BrowserContext) -> None:
    refused = _refused.setdefault(context, [])

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    context.on("console", on_console)


async def new_context(
    browser: Browser, base_url: str, *, javascript: bool = True, width: int | None = None
) -> BrowserContext:
    # Playwright's default viewport unless a width is asked for (None would mean no viewport at all).
    sized: Kwargs = {"viewport": {"width": width, "height": 900}} if width else {}
    context = await browser.new_context(base_url=base_url, java_script_enabled=javascript, **sized)
    context.set_default_timeout(10_000)
    _watch_policy(context)
    if not javascript:
        mirror = await browser.new_context(base_url=base_url)
        await mirror.route("**/*.js", lambda route: route.abort())
        await mirror.route("**/*.mjs", lambda route: route.abort())
        _mirrors[context] = await mirror.new_page()
        await _mirrors[context].goto("/cookies")
    return context


async def no_axe_violations(page: Page) -> None:
    """axe-core finds nothing wrong with the page, the CSP refused nothing, and neither its title
    nor its address names the person."""
    await page.wait_for_load_state("load")
    assert not _refused.get(page.context), _refused[page.context]
    no_personal_data(await page.title(), page.url, *TEST_PERSON)
    checked = _mirrors.get(page.context, page)
    if checked is not page:
        await checked.set_content(await page.content(), wait_until="load")
    results = await _axe.run(checked)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


async def fits_the_width(page: Page) -> None:
    """Nothing makes the page scroll sideways (a wide table scrolls inside its own region)."""
    sideways = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert sideways <= 0, f"{page.url} scrolls sideways by {sideways}px"


async def sign_in(page: Page, username: str, password: str | None = None) -> None:
    await page.goto("/sign-in")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password", exact=True).fill(password or demo_password(username))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def tab_to(page: Page, target: Locator, limit: int = 120) -> None:
    """Press Tab until the target has the focus, as a keyboard user would reach it."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"could not reach {target} with the Tab key")


async def arrow_to(page: Page, target: Locator, limit: int = 30) -> None:
    """In a radio group that has the focus, press the down arrow until the target is chosen."""
    for _ in range(limit):
        if await target.is_checked():
            return
        await page.keyboard.press("ArrowDown")
    raise AssertionError(f"could not choose {target} with the arrow keys")


def no_personal_data(page_title: str, url: str, *names: str) -> None:
    """Neither the title bar nor the address shows who the referral is about."""
    for name in names:
        assert name not in page_title, page_title
        assert name.lower() not in url.lower(), url


Kwargs = dict[str, Any]
