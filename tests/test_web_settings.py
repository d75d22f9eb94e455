"""Settings: a member of staff's own notification preferences and language, saved through the same
service as `PATCH /v1/me`, and the link every notification carries to change them."""

import re
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from markupsafe import escape
from sqlalchemy import select
from sqlmodel import col

from app.config import get_settings
from app.db import get_sessionmaker
from app.models.identity import Role, User
from app.models.notification import Notification
from app.web import i18n
from tests.support.factories import make_user, password_token
from tests.support.referral_helpers import create_referral, make_network
from tests.support.web_support import PASSWORD, api, browser, sign_in, signed_in_as, submit

EVERY_KIND = ("new_referral", "referral_update", "message", "overdue_digest", "follow_up_due")


def _checked(page: httpx.Response, name: str) -> str:
    found = re.search(rf'name="{name}" type="radio" value="([a-z_]+)" checked', page.text)
    assert found, f"nothing checked for {name}"
    return found.group(1)


async def _bearer(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    token = (await password_token(client, username, PASSWORD)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def _me(client: httpx.AsyncClient, username: str) -> dict[str, object]:
    response = await client.get("/v1/me", headers=await _bearer(client, username))
    user: dict[str, object] = response.json()["user"]
    return user


async def test_settings_show_each_choice_and_save_them_as_the_api_does(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        user = await signed_in_as(client, net.debt)
        page = await client.get("/settings")
        choices = dict.fromkeys(EVERY_KIND, "immediate") | {
            "message": "daily_digest",
            "overdue_digest": "off",
        }
        saved = await submit(client, "/settings", {**choices, "language": "cy"})
        after = await client.get(saved.headers["location"])
    async with api(app) as partner:
        me = await _me(partner, user.username)

    assert page.status_code == 200
    assert re.search(r'<h1 class="govuk-heading-l">\s*Settings\s*</h1>', page.text)
    assert '<a class="govuk-service-navigation__link" href="/settings"' in page.text
    assert [_checked(page, kind) for kind in EVERY_KIND] == ["immediate"] * 5
    assert _checked(page, "language") == "en"
    assert "password_link" not in page.text  # always sent: no choice to offer
    assert saved.status_code == 303
    assert escape(i18n.gettext_in("cy", "Settings saved")) in after.text  # now in the language chosen
    assert _checked(after, "message") == "daily_digest"
    assert _checked(after, "overdue_digest") == "off"
    assert _checked(after, "language") == "cy"
    assert '<label class="govuk-label govuk-radios__label" lang="cy" for="language-2">' in after.text
    assert me["language"] == "cy"
    assert me["notification_preferences"] == choices


async def test_a_choice_not_offered_is_a_govuk_error_and_nothing_is_saved(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        user = await signed_in_as(client, net.debt)
        choices = dict.fromkeys(EVERY_KIND, "immediate")
        wrong = await submit(client, "/settings", {**choices, "message": "hourly", "language": "fr"})

    assert wrong.status_code == 400
    assert "<title>Error: Settings" in wrong.text
    summary = wrong.text.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'href="([^"]+)"', summary) == ["#message", "#language"]
    assert "Select the language you want to use" in wrong.text
    async with get_sessionmaker()() as session:
        stored = await session.get(User, user.id)
    assert stored is not None
    assert (stored.notification_preferences, stored.language) == (None, "en")


async def test_accounts_of_no_agency_choose_only_their_language(app: FastAPI) -> None:
    auditor = await make_user(None, Role.AUDITOR, password=PASSWORD)
    async with browser(app) as client:
        await sign_in(client, auditor.username)
        page = await client.get("/settings")
        saved = await submit(client, "/settings", {"language": "cy"})

    assert "new_referral" not in page.text
    assert saved.status_code == 303
    async with get_sessionmaker()() as session:
        stored = await session.get(User, auditor.id)
    assert stored is not None
    assert stored.language == "cy"


async def test_signed_out_the_settings_page_asks_to_sign_in_first(app: FastAPI) -> None:
    async with browser(app) as client:
        page = await client.get("/settings")

    assert page.status_code == 303
    assert page.headers["location"] == "/sign-in?next=/settings"


async def test_the_language_is_part_of_the_users_api(client: httpx.AsyncClient) -> None:
    net = await make_network()
    caseworker = await make_user(net.debt, password=PASSWORD)
    admin = await make_user(net.debt, Role.AGENCY_ADMIN, password=PASSWORD)
    own, admins = await _bearer(client, caseworker.username), await _bearer(client, admin.username)

    shown = await client.get(f"/v1/users/{caseworker.id}", headers=admins)
    mine = await client.patch("/v1/me", json={"language": "cy"}, headers=own)
    unknown = await client.patch("/v1/me", json={"language": "fr"}, headers=own)
    cleared = await client.patch("/v1/me", json={"language": None}, headers=own)
    by_admin = await client.patch(f"/v1/users/{caseworker.id}", json={"language": "en"}, headers=admins)

    assert shown.json()["language"] == "en"
    assert mine.json()["language"] == "cy"
    assert unknown.status_code == 422
    assert cleared.status_code == 422
    assert by_admin.json()["language"] == "en"


async def test_every_notification_links_to_the_settings_page(app: FastAPI, client: httpx.AsyncClient) -> None:
    net = await make_network()
    await make_user(net.debt, password=PASSWORD, email="ann@debt.example")
    await create_referral(client, net)
    async with get_sessionmaker()() as session:
        bodies = list((await session.execute(select(col(Notification.body)))).scalars())

    links = {_settings_link(body) for body in bodies}
    assert links == {get_settings().public_base_url.rstrip("/") + "/settings"}
    async with browser(app) as staff:
        await signed_in_as(staff, net.debt)
        assert (await staff.get(urlsplit(links.pop()).path)).status_code == 200


def _settings_link(body: str) -> str:
    found = re.search(r"change what you are told in your settings: (\S+)", body)
    assert found, body
    return found.group(1)
