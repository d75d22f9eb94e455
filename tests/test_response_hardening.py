"""Response headers that keep tokens and personal data out of caches and other sites; what
production turns off."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.config import get_settings
from app.main import create_app
from app.models.identity import Role
from tests.support.factories import bearer, make_agency, make_user, password_token
from tests.support.referral_helpers import create_referral, make_network, platform_subject

TOKEN = "metrics-" + "0123456789abcdef" * 3


def assert_hardened(response: httpx.Response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff", response.request.url
    assert response.headers["Referrer-Policy"] == "no-referrer", response.request.url
    assert response.headers["Cache-Control"] == "no-store", response.request.url


async def test_tokens_and_personal_data_are_not_stored_and_nothing_is_sniffed(
    client: httpx.AsyncClient,
) -> None:
    net = await make_network()
    referral = await create_referral(client, net)
    user = await make_user(await make_agency(), password="pa55word!")
    responses = [
        await password_token(client, user.username, "pa55word!"),
        await password_token(client, user.username, "wrong"),
        await client.get(f"/v1/referrals/{referral['id']}", headers=net.debt_headers),
        await client.get("/v1/referrals", params={"box": "sent"}, headers=net.centre_headers),
        await client.get(f"/v1/consents/{referral['consent_id']}", headers=net.centre_headers),
        await client.get(
            f"/v1/subjects/{await platform_subject(referral)}/export", headers=bearer(None, Role.AUDITOR)
        ),
        await client.get(f"/v1/referrals/{referral['id']}", headers=net.outsider_headers),
        await client.post("/v1/referrals", json={}, headers=net.centre_headers),
        await client.get("/v1/me"),
        await client.post("/v1/referrals", content=b"x" * 70_000, headers=net.centre_headers),
        await client.get("/healthz"),
        await client.get("/no/such/page"),
    ]
    assert [r.status_code for r in responses] == [200, 400, 200, 200, 200, 200, 404, 422, 401, 413, 200, 404]
    for response in responses:
        assert_hardened(response)


@pytest.fixture
async def failing_client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("an unexpected failure")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_an_unexpected_error_is_hardened_too(failing_client: httpx.AsyncClient) -> None:
    response = await failing_client.get("/boom")
    assert response.status_code == 500
    assert_hardened(response)


def production(monkeypatch: pytest.MonkeyPatch, **settings: object) -> FastAPI:
    monkeypatch.setattr(get_settings(), "environment", "production")
    for name, value in settings.items():
        monkeypatch.setattr(get_settings(), name, value)
    return create_app()


async def get(app: FastAPI, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.get(path, headers=headers)


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
async def test_production_serves_no_api_docs_unless_told_to(
    monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    assert (await get(production(monkeypatch), path)).status_code == 404
    assert (await get(production(monkeypatch, public_api_docs=True), path)).status_code == 200


async def test_api_docs_are_served_outside_production(client: httpx.AsyncClient) -> None:
    assert (await client.get("/openapi.json")).status_code == 200


async def test_production_metrics_need_the_metrics_token(monkeypatch: pytest.MonkeyPatch) -> None:
    unset = production(monkeypatch)
    assert (await get(unset, "/metrics")).status_code == 401
    assert (await get(unset, "/metrics", {"Authorization": "Bearer "})).status_code == 401

    app = production(monkeypatch, metrics_token=SecretStr(TOKEN))
    assert (await get(app, "/metrics")).status_code == 401
    assert (await get(app, "/metrics", {"Authorization": "Bearer wrong"})).status_code == 401
    assert (await get(app, "/metrics", {"Authorization": f"Bearer {TOKEN}"})).status_code == 200


async def test_a_metrics_token_set_is_needed_anywhere(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "metrics_token", SecretStr(TOKEN))
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).status_code == 200
