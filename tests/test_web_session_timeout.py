"""The end of an idle session: a warning on the page itself, and nothing typed lost without one.

With JavaScript the page asks how long is left and renews the session (the browser tests drive
that dialog); without it, a form sent after the session ran out is kept and filled in again once
the same user signs in again.
"""

import re
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, text, update
from sqlmodel import col

from app.db import utcnow
from app.models.identity import Role
from app.models.message import Message
from app.models.web_session import KeptForm, WebSession
from app.unit_of_work import committed
from tests.support.factories import make_agency, make_user
from tests.support.referral_helpers import create_referral, make_network
from tests.support.web_support import PASSWORD, api, browser, csrf_of, sign_in, signed_in_as, submit

TYPED = "Natalie can come in on Tuesday; her phone is 07700 900123."


def path_of(sign_in_page: httpx.Response) -> str:
    """The page the sign-in form goes back to."""
    found = re.search(r'name="next" value="([^"]*)"', sign_in_page.text)
    assert found
    return found.group(1)


async def _idle_for(minutes: int) -> None:
    moment = utcnow() - timedelta(minutes=minutes)
    await committed(lambda s: s.execute(update(WebSession).values(last_seen_at=moment)))


async def test_asking_how_long_is_left_does_not_keep_the_session_alive(app: FastAPI) -> None:
    async with browser(app) as client:
        await signed_in_as(client, await make_agency())
        await _idle_for(29)
        status = await client.get("/session/status")
        seen = await committed(lambda s: s.scalar(select(col(WebSession.last_seen_at))))
        await _idle_for(31)
        ended = await client.get("/session/status")
    assert status.headers["cache-control"] == "no-store"
    assert 50 <= status.json()["seconds_left"] <= 60
    assert seen is not None
    assert seen <= utcnow() - timedelta(minutes=28)
    assert ended.json() == {"seconds_left": 0}


async def test_staying_signed_in_renews_the_session_for_a_full_spell(app: FastAPI) -> None:
    async with browser(app) as client:
        await signed_in_as(client, await make_agency())
        page = await client.get("/directory")
        await _idle_for(29)
        headers = {"Accept": "application/json"}
        stay = await client.post("/session/continue", data={"csrf_token": csrf_of(page)}, headers=headers)
        plain = await client.post("/session/continue", data={"csrf_token": csrf_of(page), "next": "/sent"})
    assert stay.status_code == 200
    assert 29 * 60 < stay.json()["seconds_left"] <= 30 * 60
    assert plain.headers["location"] == "/sent"


async def test_signed_in_pages_carry_the_warning_and_never_move_away_on_their_own(app: FastAPI) -> None:
    async with browser(app) as client:
        await signed_in_as(client, await make_agency())
        page = await client.get("/inbox?view=closed")
        public = await client.get("/sign-in")
    assert "refresh" not in page.headers
    found = re.search(r'data-seconds-left="(\d+)" data-warn-seconds="(\d+)"', page.text)
    assert found
    assert 29 * 60 < int(found.group(1)) <= 30 * 60
    assert found.group(2) == "120"
    assert 'data-signed-out="/sign-in?reason=idle&amp;next=/inbox"' in page.text
    assert 'src="/static/timeout-warning.mjs"' in page.text
    assert "timeout-warning" not in public.text


async def _referral_page(app: FastAPI, client: httpx.AsyncClient) -> tuple[str, httpx.Response]:
    net = await make_network()
    async with api(app) as partner:
        referral = await create_referral(partner, net)
    user = await make_user(net.debt, Role.CASEWORKER, password=PASSWORD)
    await sign_in(client, user.username)
    page = await client.get(f"/referrals/{referral['id']}")
    return user.username, page


async def _send_message_too_late(client: httpx.AsyncClient, page: httpx.Response) -> httpx.Response:
    await _idle_for(31)
    assert f'name="sent_from" value="{page.url.path}"' in page.text
    data = {"csrf_token": csrf_of(page), "sent_from": page.url.path + "?q=Natalie", "message": TYPED}
    return await client.post(f"{page.url.path}/messages", data=data)


async def test_a_form_sent_after_the_session_ran_out_is_filled_in_again_after_signing_in(
    app: FastAPI,
) -> None:
    async with browser(app) as client:
        username, page = await _referral_page(app, client)
        refused = await _send_message_too_late(client, page)
        sign_in_page = await client.get(refused.headers["location"])
        again = await submit(
            client,
            refused.headers["location"],
            {"username": username, "password": PASSWORD, "next": path_of(sign_in_page)},
            action="/sign-in",
        )
        back = await client.get(again.headers["location"])
        later = await client.get(page.url.path)
    path = page.url.path
    assert refused.status_code == 303
    assert refused.headers["location"] == f"/sign-in?next={path}&reason=idle"
    assert "What you had typed has been kept" in sign_in_page.text
    assert again.headers["location"] == path
    assert TYPED.replace("'", "&#39;") in back.text
    assert "You were signed out before your form was sent, so it was not sent." in back.text
    assert TYPED not in later.text, "filled in once, not every time"
    assert not await committed(lambda s: s.scalar(select(func.count()).select_from(Message)))
    assert not await committed(lambda s: s.scalar(select(func.count()).select_from(KeptForm)))


async def test_what_was_typed_is_kept_encrypted_and_out_of_every_address(app: FastAPI) -> None:
    async with browser(app) as client:
        _username, page = await _referral_page(app, client)
        refused = await _send_message_too_late(client, page)
    kept = await committed(lambda s: s.scalar(select(KeptForm)))
    stored = await committed(lambda s: s.scalar(text("SELECT content FROM kept_forms")))
    assert kept is not None
    assert TYPED in kept.content
    assert "Natalie" not in str(stored)
    assert "Natalie" not in refused.headers["location"]
    assert "Natalie" not in str(client.cookies)


async def test_another_user_signing_in_on_the_browser_never_sees_what_was_kept(app: FastAPI) -> None:
    async with browser(app) as client:
        _username, page = await _referral_page(app, client)
        await _send_message_too_late(client, page)
        colleague = await make_user(await make_agency(), Role.CASEWORKER, password=PASSWORD)
        await sign_in(client, colleague.username)
        cookies = [cookie.name for cookie in client.cookies.jar]
    assert not await committed(lambda s: s.scalar(select(func.count()).select_from(KeptForm)))
    assert "__Host-rx_kept" not in cookies


async def test_a_session_ended_for_a_cause_keeps_nothing(app: FastAPI) -> None:
    async with browser(app) as client:
        _username, page = await _referral_page(app, client)
        await committed(lambda s: s.execute(update(WebSession).values(token_version=-1)))
        refused = await client.post(
            f"{page.url.path}/messages",
            data={"csrf_token": csrf_of(page), "sent_from": page.url.path, "message": TYPED},
        )
    assert refused.headers["location"] == "/sign-in?next=/&reason=revoked"
    assert not await committed(lambda s: s.scalar(select(func.count()).select_from(KeptForm)))


async def test_the_referral_being_made_follows_its_user_to_the_next_sign_in(app: FastAPI) -> None:
    draft = {"service": {"service_id": "chosen"}, "person": {"given_name": "Natalie"}}
    user = await make_user(await make_agency(), Role.CASEWORKER, password=PASSWORD)
    async with browser(app) as client:
        await sign_in(client, user.username)
        await committed(lambda s: s.execute(update(WebSession).values(draft=draft)))
        await _idle_for(31)
        refused = await client.get("/referrals/new")
        await sign_in(client, user.username)
    kept = await committed(lambda s: s.scalar(select(col(WebSession.draft))))
    assert refused.headers["location"] == "/sign-in?next=/referrals/new&reason=idle"
    assert kept == draft


async def test_a_form_that_says_it_came_from_another_site_goes_back_home(app: FastAPI) -> None:
    async with browser(app) as client:
        _username, page = await _referral_page(app, client)
        await _idle_for(31)
        data = {"csrf_token": csrf_of(page), "sent_from": "//evil.example/inbox", "message": TYPED}
        refused = await client.post(f"{page.url.path}/messages", data=data)
    assert refused.headers["location"] == "/sign-in?next=/&reason=idle"


async def test_a_kept_form_never_claimed_is_dropped_when_it_expires(app: FastAPI) -> None:
    async with browser(app) as client:
        username, page = await _referral_page(app, client)
        await _send_message_too_late(client, page)
        await committed(lambda s: s.execute(update(KeptForm).values(expires_at=utcnow())))
        client.cookies.clear()
        await sign_in(client, username)
    assert not await committed(lambda s: s.scalar(select(func.count()).select_from(KeptForm)))
