"""The staff pages and emails in Welsh: chosen, remembered, used for the person, and complete."""

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.pofile import read_po
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.identity import NotificationKind, Role, User
from app.models.notification import Notification
from app.unit_of_work import committed
from app.web import i18n
from tests.support.factories import make_service, make_user
from tests.support.referral_helpers import Network, create_referral, make_network, move, subject_body
from tests.support.web_support import PASSWORD, api, browser, sign_in, signed_in_as, submit

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(
    "cy" not in i18n.available_locales(), reason="the Welsh catalogue is compiled by `make install`"
)


async def test_lang_switches_the_page_and_a_cookie_remembers_it_before_sign_in(app: FastAPI) -> None:
    async with browser(app) as client:
        welsh = await client.get("/sign-in?lang=cy")
        again = await client.get("/sign-in")
        english = await client.get("/sign-in?lang=en")
    assert '<html lang="cy"' in welsh.text
    assert welsh.cookies.get("rx_lang") == "cy"
    assert '<html lang="cy"' in again.text
    assert 'href="/sign-in?lang=en" lang="en" hreflang="en">English</a>' in welsh.text
    assert '<html lang="en"' in english.text
    assert 'hreflang="cy">Cymraeg</a>' in english.text


async def test_a_signed_in_users_choice_is_kept_on_their_account(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as first:
        user = await signed_in_as(first, net.debt)
        await first.get("/inbox?lang=cy")
    async with browser(app) as elsewhere:  # another browser, no cookie: the account says Welsh
        await sign_in(elsewhere, user.username)
        inbox = await elsewhere.get("/inbox")
    assert '<html lang="cy"' in inbox.text
    assert (await _user(user.id)).language == "cy"


async def _user(user_id: uuid.UUID) -> User:
    async def work(session: AsyncSession) -> User:
        found = await session.get(User, user_id)
        assert found is not None
        return found

    return await committed(work)


async def test_dates_are_written_in_welsh(app: FastAPI) -> None:
    net = await make_network()
    async with api(app) as partner:
        referral = await create_referral(partner, net)
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        page = await client.get(f"/referrals/{referral['id']}?lang=cy")
    assert "2 Mawrth 1994" in page.text


PERSON_IN_WELSH: dict[str, str | list[str]] = {
    "given_name": "Siân",
    "family_name": "Example",
    "dob-day": "2",
    "dob-month": "3",
    "dob-year": "1994",
    "preferred_contact": "none",
    "language": "cy",
    "needs_interpreter": "no",
}


async def test_the_consent_words_are_in_the_persons_language_and_the_active_offer_shows(app: FastAPI) -> None:
    net = await make_network()
    english_only = await make_service(net.debt, name="Money advice in English")
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        await submit(client, "/referrals/new/service", {"service_id": str(english_only.id)})
        await submit(client, "/referrals/new/person", PERSON_IN_WELSH)
        consent = await client.get("/referrals/new/consent")
    words = consent.text.split('<div lang="cy">')[1].split("</div>")[0]
    assert "Hoffwn" in words or "atgyfeirio" in words  # Welsh, whatever the page's language
    assert "in Welsh, their language" in consent.text
    assert '<html lang="en"' in consent.text


def _english_sentences() -> set[str]:
    """The catalogue's English sentences that read differently in Welsh (3 words or more, no values)."""
    with (ROOT / "app/web/locale/cy/LC_MESSAGES/messages.po").open("rb") as po:
        welsh = read_po(po, locale="cy")
    return {
        m.id
        for m in welsh
        if isinstance(m.id, str) and "%(" not in m.id and len(m.id.split()) >= 3 and m.string != m.id
    }


async def _pages_in_welsh(app: FastAPI, net: Network, referral: dict[str, Any]) -> dict[str, str]:
    async with browser(app) as client:
        await signed_in_as(client, net.debt, Role.AGENCY_ADMIN)
        paths = [
            "/inbox",
            "/sent",
            f"/referrals/{referral['id']}",
            f"/referrals/{referral['id']}/decline",
            "/referrals/new",
            "/referrals/new/service",
            "/referrals/new/person",
            "/directory",
            "/settings",
            "/follow-ups",
            "/admin",
            "/cookies",
            "/accessibility",
        ]
        return {path: (await client.get(f"{path}?lang=cy")).text for path in paths}


async def test_no_english_sentence_is_left_on_a_welsh_page(app: FastAPI) -> None:
    net = await make_network()
    async with api(app) as partner:
        referral = await create_referral(partner, net)
    english = _english_sentences()
    left = {
        path: sorted(s for s in english if s in re.sub(r"\s+", " ", page))
        for path, page in (await _pages_in_welsh(app, net, referral)).items()
    }
    assert {path: found for path, found in left.items() if found} == {}


async def _told(kind: NotificationKind) -> list[Notification]:
    async def work(session: Any) -> list[Notification]:
        query = select(Notification).where(col(Notification.kind) == kind)
        return list((await session.execute(query)).scalars())

    return await committed(work)


@pytest.mark.parametrize("language", ["cy", "en"])
async def test_an_email_is_written_in_its_recipients_language(
    client: httpx.AsyncClient, net: Network, language: str
) -> None:
    sender = await make_user(net.centre, Role.CASEWORKER, password=PASSWORD, email="sender@example.org")
    await _set_language(sender.id, language)
    referral = await create_referral(client, net, subject=subject_body())
    await _make_sender(referral["id"], sender.id)
    assert (await move(client, referral, net.debt_headers, "accepted")).status_code == 200

    (told,) = await _told(NotificationKind.REFERRAL_UPDATE)
    assert told.language == language
    welsh = "Derbyniwyd" in told.body or "derbyn" in told.body.lower()
    assert welsh == (language == "cy")


async def test_a_teams_shared_address_is_written_to_in_welsh_and_english(
    client: httpx.AsyncClient, net: Network
) -> None:
    await _team_address(net.debt_service.id, "debt-team@example.org")
    await create_referral(client, net)

    (told,) = await _told(NotificationKind.NEW_REFERRAL)
    assert told.language is None
    assert "New referral from" in told.body
    welsh_part = told.body.split("-" * 40)[0]
    assert "New referral from" not in welsh_part


async def _set_language(user_id: uuid.UUID, language: str) -> None:
    async def work(session: Any) -> None:
        user = await session.get(User, user_id)
        user.language = language

    await committed(work)


async def _make_sender(referral_id: str, user_id: uuid.UUID) -> None:
    from app.models.audit import ActorKind
    from app.models.referral import Referral

    async def work(session: Any) -> None:
        referral = await session.get(Referral, uuid.UUID(referral_id))
        referral.from_actor_kind, referral.from_actor_id = ActorKind.USER, str(user_id)

    await committed(work)


async def _team_address(service_id: uuid.UUID, email: str) -> None:
    from app.models.directory import Service

    async def work(session: Any) -> None:
        service = await session.get(Service, service_id)
        service.contact_email = email

    await committed(work)
