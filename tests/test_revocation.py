"""Disabling an account, changing its role or rotating a client's secret stops its tokens at once."""

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from app.auth import accounts
from app.config import get_settings
from app.models.audit import ActorKind
from app.models.identity import Role, Scope
from app.services import clients
from app.unit_of_work import committed
from tests.support.factories import SYSTEM, make_agency, make_client
from tests.support.staff import make_staff
from tests.test_cli import run_cli


async def client_token(client: httpx.AsyncClient, client_id: str, secret: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    response = await client.post("/v1/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_deactivating_a_user_stops_their_token_at_once(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    admin = await make_staff(client, agency, Role.AGENCY_ADMIN)
    caseworker = await make_staff(client, agency)
    assert (await client.get("/v1/referrals?box=inbox", headers=caseworker.headers)).status_code == 200

    changed = await client.patch(
        f"/v1/users/{caseworker.user.id}", json={"active": False}, headers=admin.headers
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["active"] is False
    refused = await client.get("/v1/referrals?box=inbox", headers=caseworker.headers)
    assert refused.status_code == 401
    assert "invalid_token" in refused.headers["WWW-Authenticate"]
    assert (await client.get("/v1/me", headers=admin.headers)).status_code == 200


async def test_a_new_role_stops_the_tokens_of_the_old_one(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    admin = await make_staff(client, agency, Role.AGENCY_ADMIN)
    colleague = await make_staff(client, agency, Role.AGENCY_ADMIN)

    demoted = await client.patch(
        f"/v1/users/{colleague.user.id}", json={"role": "caseworker"}, headers=admin.headers
    )

    assert demoted.status_code == 200
    assert (await client.get("/v1/users", headers=colleague.headers)).status_code == 401


async def test_disabling_or_rotating_a_client_stops_its_tokens(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    first = await make_client(agency, [Scope.REFERRALS_READ], secret="first-secret")
    second = await make_client(agency, [Scope.REFERRALS_READ], secret="second-secret")
    disabled = await client_token(client, first.client_id, "first-secret")
    rotated = await client_token(client, second.client_id, "second-secret")
    for headers in (disabled, rotated):
        assert (await client.get("/v1/events", headers=headers)).status_code == 200

    await committed(lambda s: clients.disable(s, SYSTEM, first.client_id))
    await committed(lambda s: clients.rotate_secret(s, SYSTEM, second.client_id, "third-secret"))

    assert (await client.get("/v1/events", headers=disabled)).status_code == 401
    assert (await client.get("/v1/events", headers=rotated)).status_code == 401
    renewed = await client_token(client, second.client_id, "third-secret")
    assert (await client.get("/v1/events", headers=renewed)).status_code == 200


@pytest.fixture
def short_account_cache() -> Iterator[float]:
    settings = get_settings()
    before, settings.account_cache_seconds = settings.account_cache_seconds, 0.3
    yield 0.3
    settings.account_cache_seconds = before
    accounts.clear_cache()


async def test_a_user_disabled_by_another_process_is_refused_once_the_cache_expires(
    client: httpx.AsyncClient, short_account_cache: float
) -> None:
    caseworker = await make_staff(client, await make_agency())
    assert (await client.get("/v1/me", headers=caseworker.headers)).status_code == 200

    result = await asyncio.to_thread(run_cli, "disable-user", caseworker.user.username)
    assert result.returncode == 0, result.stderr
    await asyncio.sleep(short_account_cache + 0.1)

    assert (await client.get("/v1/me", headers=caseworker.headers)).status_code == 401


async def test_a_client_disabled_from_the_command_line_gets_no_new_token(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    api_client = await make_client(agency, [Scope.REFERRALS_READ], secret="cli-secret")

    result = await asyncio.to_thread(run_cli, "disable-client", api_client.client_id)

    assert result.returncode == 0, result.stderr
    form = {
        "grant_type": "client_credentials",
        "client_id": api_client.client_id,
        "client_secret": "cli-secret",
    }
    assert (await client.post("/v1/oauth/token", data=form)).status_code == 401
    assert (await asyncio.to_thread(run_cli, "disable-user", "nobody")).returncode == 2


async def test_the_one_check_tells_web_sessions_whether_the_account_is_still_active(
    client: httpx.AsyncClient,
) -> None:
    agency = await make_agency()
    admin = await make_staff(client, agency, Role.AGENCY_ADMIN)
    caseworker = await make_staff(client, agency)

    async def active() -> bool:
        return await committed(lambda s: accounts.still_active(s, ActorKind.USER, str(caseworker.user.id)))

    assert await active()
    await client.patch(f"/v1/users/{caseworker.user.id}", json={"active": False}, headers=admin.headers)
    assert not await active()
