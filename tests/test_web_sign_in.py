"""Signing in to the pages: the API's accounts and checks, server-side sessions, form tokens."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlmodel import col

from app.db import utcnow
from app.models.audit import AuditEvent
from app.models.identity import Role, User
from app.models.web_session import WebSession
from app.unit_of_work import committed
from tests.support.factories import make_agency, make_user
from tests.support.staff import link_token, make_staff
from tests.support.web_support import PASSWORD, browser, csrf_of, sign_in, signed_in_as


async def test_the_start_page_sends_visitors_to_sign_in(app: FastAPI) -> None:
    async with browser(app) as client:
        response = await client.get("/")
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in"
        page = await client.get("/sign-in")
    assert page.status_code == 200
    assert '<label class="govuk-label" for="username">' in page.text
    assert "Username" in page.text
    assert "Password" in page.text
    assert "Sign in" in page.text


async def test_a_wrong_password_shows_an_error_summary_and_is_audited(app: FastAPI) -> None:
    user = await make_user(await make_agency(), password=PASSWORD)
    async with browser(app) as client:
        response = await sign_in(client, user.username, "wrong password")
    assert response.status_code == 400
    assert "govuk-error-summary" in response.text
    assert "Enter a correct username and password" in response.text
    assert response.text.count("<title>Error:") == 1
    actions = await committed(lambda s: s.scalars(select(col(AuditEvent.action))))
    assert "auth.login_failed" in list(actions)


async def test_signing_in_starts_a_server_side_session_with_a_safe_cookie(app: FastAPI) -> None:
    agency = await make_agency(name="Caia Park Children's Centre")
    async with browser(app) as client:
        user = await signed_in_as(client, agency)
        inbox = await client.get("/")
        assert inbox.headers["location"] == "/inbox"
    cookie = next(c for c in client.cookies.jar if c.name == "__Host-rx_session")
    assert cookie.secure
    assert cookie.has_nonstandard_attr("HttpOnly")
    stored = await committed(lambda s: s.scalars(select(WebSession)))
    hashes = [row.id_hash for row in stored]
    assert len(hashes) == 1
    assert cookie.value not in hashes
    assert user.username


async def test_sign_out_ends_the_session_on_the_server(app: FastAPI) -> None:
    async with browser(app) as client:
        await signed_in_as(client, await make_agency())
        page = await client.get("/accessibility")
        kept = dict(client.cookies)
        signed_out = await client.post("/sign-out", data={"csrf_token": csrf_of(page)})
        assert signed_out.status_code == 303
        # The old cookie, replayed, signs no one in.
        for name, value in kept.items():
            client.cookies.set(name, value)
        again = await client.get("/inbox")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/sign-in")


async def test_a_deactivated_account_is_signed_out_at_once(app: FastAPI) -> None:
    async with browser(app) as client:
        user = await signed_in_as(client, await make_agency())
        await committed(
            lambda s: s.execute(update(User).where(col(User.id) == user.id).values(is_active=False))
        )
        response = await client.get("/inbox")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/inbox&reason=deactivated"
    assert not list(await committed(lambda s: s.scalars(select(WebSession))))


async def test_an_idle_session_ends_after_thirty_minutes(app: FastAPI) -> None:
    async with browser(app) as client:
        await signed_in_as(client, await make_agency())
        long_ago = utcnow() - timedelta(minutes=31)
        await committed(lambda s: s.execute(update(WebSession).values(last_seen_at=long_ago)))
        response = await client.get("/inbox")
        page = await client.get(response.headers["location"])
    assert "reason=idle" in response.headers["location"]
    assert "You were signed out because you did not do anything for 30 minutes." in page.text


async def test_a_session_ends_twelve_hours_after_sign_in_however_busy(app: FastAPI) -> None:
    async with browser(app) as client:
        await signed_in_as(client, await make_agency())
        await committed(lambda s: s.execute(update(WebSession).values(expires_at=utcnow())))
        response = await client.get("/inbox")
    assert "reason=expired" in response.headers["location"]


async def test_a_form_posted_without_its_token_is_refused(app: FastAPI) -> None:
    user = await make_user(await make_agency(), password=PASSWORD)
    async with browser(app) as client:
        await client.get("/sign-in")
        response = await client.post("/sign-in", data={"username": user.username, "password": PASSWORD})
        forged = await client.post(
            "/sign-in", data={"username": user.username, "password": PASSWORD, "csrf_token": "0" * 64}
        )
    assert response.status_code == 403
    assert forged.status_code == 403
    assert "Sorry, we could not accept that form" in response.text
    assert "__Host-rx_session" not in response.cookies


async def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(app: FastAPI) -> None:
    user = await make_user(await make_agency(), password=PASSWORD)
    async with browser(app) as client:
        page = await client.get("/sign-in?next=//evil.example/")
        assert 'name="next" value=""' in page.text
        page = await client.get("/sign-in?next=/directory")
        response = await client.post(
            "/sign-in",
            data={
                "username": user.username,
                "password": PASSWORD,
                "next": "/directory",
                "csrf_token": csrf_of(page),
            },
        )
    assert response.headers["location"] == "/directory"


async def test_pages_carry_strict_security_headers(app: FastAPI) -> None:
    async with browser(app) as client:
        page = await client.get("/sign-in")
        api = await client.get("/healthz")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text
    assert " style=" not in page.text
    assert "content-security-policy" not in api.headers


async def test_unknown_pages_are_page_not_found_and_the_api_keeps_problem_json(app: FastAPI) -> None:
    async with browser(app) as client:
        page = await client.get("/no-such-page")
        api = await client.get("/v1/no-such-thing")
    assert page.status_code == 404
    assert "Page not found" in page.text
    assert api.headers["content-type"].startswith("application/problem+json")


def _unused(_: httpx.Response) -> None:
    """Keeps the import used by type checkers."""


async def test_signing_in_again_replaces_the_previous_session(app: FastAPI) -> None:
    user = await make_user(await make_agency(), password=PASSWORD)
    async with browser(app) as client:
        await sign_in(client, user.username)
        await sign_in(client, user.username)
    sessions = list(await committed(lambda s: s.scalars(select(WebSession))))
    assert len(sessions) == 1


async def test_sign_in_is_locked_after_repeated_failures_as_the_password_grant_is(app: FastAPI) -> None:
    user = await make_user(await make_agency(), password=PASSWORD)
    async with browser(app) as client:
        for _ in range(10):
            await sign_in(client, user.username, "wrong password")
        locked = await sign_in(client, user.username)
    assert locked.status_code == 400
    assert "Enter a correct username and password" in locked.text
    actions = list(await committed(lambda s: s.scalars(select(col(AuditEvent.action)))))
    assert "auth.locked" in actions


async def test_text_with_control_characters_is_refused_with_a_page(app: FastAPI) -> None:
    async with browser(app) as client:
        page = await client.get("/sign-in")
        refused = await client.post(
            "/sign-in", data={"username": "bad\x00name", "password": "x", "csrf_token": csrf_of(page)}
        )
    assert refused.status_code == 422
    assert "Sorry, we could not accept what you entered" in refused.text


async def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    agency = await make_agency()
    admin = await make_staff(client, None, Role.PLATFORM_ADMIN)
    async with browser(app) as browser_client:
        user = await signed_in_as(browser_client, agency)
        issued = await client.post(f"/v1/users/{user.id}/set-password-link", headers=admin.headers)
        token = link_token(issued.json()["set_password_link"])
        spent = await client.post(
            "/v1/set-password", json={"token": token, "password": "a new long password"}
        )
        assert spent.status_code == 204, spent.text
        refused = await browser_client.get("/inbox")
        signed_in_again = await sign_in(browser_client, user.username, "a new long password")
        inbox = await browser_client.get("/inbox")
    assert refused.status_code == 303
    assert refused.headers["location"] == "/sign-in?next=/inbox&reason=revoked"
    assert signed_in_again.status_code == 303
    assert inbox.status_code == 200


async def test_a_session_does_not_outlive_deactivation_even_when_the_account_is_reactivated(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    agency = await make_agency()
    admin = await make_staff(client, agency, Role.AGENCY_ADMIN)
    async with browser(app) as browser_client:
        user = await signed_in_as(browser_client, agency)
        for active in (False, True):
            changed = await client.patch(
                f"/v1/users/{user.id}", json={"active": active}, headers=admin.headers
            )
            assert changed.status_code == 200, changed.text
        response = await browser_client.get("/inbox")
        page = await browser_client.get(response.headers["location"])
    assert response.headers["location"] == "/sign-in?next=/inbox&reason=revoked"
    assert "You were signed out because your password or your account was changed." in page.text
    assert not list(await committed(lambda s: s.scalars(select(WebSession))))


async def test_the_cookies_before_sign_in_are_host_only_and_secure_as_the_session_cookie_is(
    app: FastAPI,
) -> None:
    async with browser(app) as client:
        await client.get("/sign-in")
        await client.get("/set-password?token=" + "t" * 43)
    cookies = {cookie.name: cookie for cookie in client.cookies.jar}
    assert sorted(cookies) == ["__Host-rx_form", "__Host-rx_set_password"]
    for cookie in cookies.values():
        assert cookie.secure
        assert cookie.path == "/"
        assert not cookie.domain_specified
        assert cookie.has_nonstandard_attr("HttpOnly")
