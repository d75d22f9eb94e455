"""The inbox and sent lists in a browser: searching by name and reference, filtering, sorting,
assigning a referral to an absent colleague; with and without JavaScript, at 320 px wide, and
axe-core on every page."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.async_api import Locator, Page, expect
from sqlalchemy import update
from sqlmodel import col

from app.db import get_sessionmaker
from app.models.identity import Role, User
from app.web.absence import back_at
from tests.support.browser_support import chromium, new_context, no_axe_violations, served, sign_in, tab_to
from tests.support.factories import make_user
from tests.support.referral_helpers import Network, make_network
from tests.support.web_support import PASSWORD
from tests.support.worklists import refer_people

pytestmark = pytest.mark.browser


@dataclass
class Team:
    """A debt-advice team with referrals waiting (by family name), and a colleague away."""

    net: Network
    adviser: User
    colleague: User
    references: dict[str, str]
    last_day: date = field(default_factory=lambda: date.today() + timedelta(days=12))


async def _team(app: FastAPI) -> Team:
    net = await make_network()
    references: dict[str, str] = {}
    for urgency, (given, family), needs in (
        ("routine", ("Natalie", "Example"), {}),
        ("urgent", ("Gareth", "Jones"), {"language": "cy", "needs_interpreter": True}),
        ("soon", ("Aisha", "Khan"), {}),
    ):
        [references[family]] = await refer_people(app, net, (given, family), urgency=urgency, subject=needs)
    adviser = await make_user(net.debt, Role.CASEWORKER, password=PASSWORD)
    colleague = await make_user(net.debt, Role.CASEWORKER, password=PASSWORD, username="bethan")
    team = Team(net, adviser, colleague, references)
    async with get_sessionmaker()() as session, session.begin():
        await session.execute(
            update(User).where(col(User.id) == colleague.id).values(away_until=back_at(team.last_day))
        )
    return team


def _uk(day: date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


async def _search(page: Page, typed: str, **filters: str) -> None:
    """Type a search (and choose filters) as a user would, and send it."""
    await page.get_by_label("Search by reference or name").fill(typed)
    if filters:
        details = page.locator("details.app-filters__details")
        if not await details.get_attribute("open"):
            await page.get_by_text("Filter by status").click()
        for label, option in filters.items():
            await page.get_by_label(label, exact=True).select_option(label=option)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Search", exact=True).click()


async def _rows(page: Page) -> list[str]:
    return [text.strip() for text in await page.locator("tbody tr td:first-child a").all_inner_texts()]


async def _find_and_sort(page: Page, team: Team) -> None:
    """Item 1: search by name and by reference, filter, sort; axe on each list as it stands."""
    await page.goto("/inbox")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    await no_axe_violations(page)
    await _search(page, "example")  # the test person: never in the address or the title
    await expect(page.get_by_role("region", name="Search results")).to_be_visible()
    await expect(page.get_by_role("link", name="All open (3)")).to_be_visible()
    assert await _rows(page) == [team.references["Example"]]
    await no_axe_violations(page)
    reference = team.references["Jones"].lower().replace("rx-", "")
    await _search(page, reference)
    assert await _rows(page) == [team.references["Jones"]]
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=team.references["Jones"]))
    await expect(row).to_contain_text("Interpreter needed")
    await expect(row).to_contain_text("Welsh language")
    await _search(page, "", Urgency="Soon")
    assert await _rows(page) == [team.references["Khan"]]
    await no_axe_violations(page)
    await page.get_by_role("link", name="Clear search and filters").click()
    await page.get_by_role("link", name="Urgency").click()
    await expect(page.locator("th[aria-sort=descending]")).to_contain_text("Urgency")
    assert await _rows(page) == [team.references[f] for f in ("Jones", "Khan", "Example")]
    await page.get_by_role("link", name="Urgency").click()
    await expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Urgency")
    await no_axe_violations(page)


async def _assign_to_colleague(page: Page, team: Team) -> None:
    """Item 2: give a referral to a colleague who is away, and see until when."""
    await page.get_by_role("link", name=team.references["Khan"]).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(team.references["Khan"])
    away = f"Bethan (away until {_uk(team.last_day)})"
    await page.get_by_label("Assign to", exact=True).select_option(label=away)
    await page.get_by_role("button", name="Assign", exact=True).click()
    await expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Referral assigned")
    await expect(page.locator(".govuk-summary-list").first).to_contain_text(
        f"Away until {_uk(team.last_day)}"
    )
    await no_axe_violations(page)
    await page.goto("/inbox?view=cover")
    await expect(page.get_by_role("link", name="Needs cover (1)")).to_be_visible()
    await _search(page, "", **{"Assigned to": "Bethan"})
    assert await _rows(page) == [team.references["Khan"]]
    await no_axe_violations(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["with-javascript", "without-javascript"])
async def test_an_adviser_finds_sorts_and_hands_over_referrals(app: FastAPI, javascript: bool) -> None:
    team = await _team(app)
    sender = await make_user(team.net.centre, Role.CASEWORKER, password=PASSWORD)
    async with served(app) as base_url, chromium() as browser:
        page = await (await new_context(browser, base_url, javascript=javascript)).new_page()
        await sign_in(page, team.adviser.username, PASSWORD)
        await _find_and_sort(page, team)
        await _assign_to_colleague(page, team)
        referrer = await (await new_context(browser, base_url, javascript=javascript)).new_page()
        await sign_in(referrer, sender.username, PASSWORD)
        await referrer.goto("/sent")
        await expect(referrer.get_by_role("heading", level=1)).to_have_text("Sent referrals")
        await _search(referrer, "Khan", Status="New", Purpose="Debt advice")
        assert await _rows(referrer) == [team.references["Khan"]]
        await expect(referrer.get_by_text("Bethan")).to_have_count(0)  # the receiving team's business
        await no_axe_violations(referrer)


async def _fits(page: Page, path: str) -> None:
    await page.goto(path)
    await no_axe_violations(page)
    widths: Any = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{path} scrolls sideways: {widths}"


async def _scrolled(page: Page, region: Locator) -> None:
    """The region has scrolled sideways (smooth scrolling takes a moment)."""
    for _ in range(40):
        if await region.evaluate("r => r.scrollLeft") > 0:
            return
        await page.wait_for_timeout(50)
    raise AssertionError("the arrow key did not scroll the table's region")


async def test_the_lists_never_scroll_sideways_at_320_pixels(app: FastAPI) -> None:
    team = await _team(app)
    async with served(app) as base_url, chromium() as browser:
        page = await (await new_context(browser, base_url)).new_page()
        await page.set_viewport_size({"width": 320, "height": 800})
        await sign_in(page, team.adviser.username, PASSWORD)
        for path in (
            "/inbox?view=open&sort=-urgency",
            "/inbox?view=open&urgency=urgent",
            "/sent",
            "/inbox?view=closed",
        ):
            await _fits(page, path)
        await page.goto("/inbox?view=open")
        await _search(page, "jones", Status="New", **{"Assigned to": "Nobody"})
        await _fits(page, page.url.removeprefix(base_url))
        region = page.get_by_role("region", name="Search results")
        await expect(region).to_have_attribute("tabindex", "0")
        await tab_to(page, region)
        await page.keyboard.press("ArrowRight")  # the table scrolls inside its region
        await _scrolled(page, region)
        await page.get_by_role("link", name=team.references["Jones"]).click()
        await _fits(page, page.url.removeprefix(base_url))
