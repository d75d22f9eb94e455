"""Per-client request budgets: by token subject, by address without one, and on the token endpoint.

Each test sets its own small budgets on a fresh in-memory limiter, so nothing depends on
the clock: the requests of one test all fall inside the same one-minute window.
"""

from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI

from app.config import get_settings
from app.errors import TooManyRequests
from app.models.identity import Role
from app.ratelimit import RateLimiter, get_rate_limiter
from tests.support.factories import back_minted_token, bearer, make_agency, make_user, password_token

PROBLEM = "application/problem+json"
SetBudgets = Callable[..., None]


@pytest.fixture
def budgets(app: FastAPI) -> Iterator[SetBudgets]:
    """Install a fresh limiter with the given budgets for this test only."""

    def install(per_minute: int = 600, token_per_minute: int = 20, enabled: bool = True) -> None:
        settings = get_settings().model_copy(
            update={
                "rate_limit_enabled": enabled,
                "rate_limit_per_minute": per_minute,
                "token_rate_limit_per_minute": token_per_minute,
            }
        )
        limiter = RateLimiter(settings)
        app.dependency_overrides[get_rate_limiter] = lambda: limiter

    yield install
    app.dependency_overrides.pop(get_rate_limiter, None)


@pytest.fixture
async def other_address(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from another address (only the ASGI scope differs)."""
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000), raise_app_exceptions=False)
    hooks = {"request": [back_minted_token]}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks=hooks
    ) as http:
        yield http


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    body = response.json()
    assert body["status"] == 429
    assert body["type"].endswith("/rate-limited")
    assert body["retry_after"] == int(response.headers["Retry-After"])


async def test_token_endpoint_stops_password_guessing_per_address(
    client: httpx.AsyncClient, other_address: httpx.AsyncClient, budgets: SetBudgets
) -> None:
    user = await make_user(await make_agency(), password="right-password")
    budgets(token_per_minute=3)

    guesses = [await password_token(client, user.username, f"guess-{n}") for n in range(3)]
    refused = await password_token(client, user.username, "right-password")

    assert [g.status_code for g in guesses] == [400, 400, 400]
    assert_rate_limited(refused)
    assert (await password_token(other_address, user.username, "right-password")).status_code == 200


async def test_authenticated_callers_are_counted_by_token_subject(
    client: httpx.AsyncClient, budgets: SetBudgets
) -> None:
    agency = await make_agency()
    first, second = bearer(agency, Role.CASEWORKER), bearer(agency, Role.CASEWORKER)
    budgets(per_minute=2)

    allowed = [await client.get("/v1/me", headers=first) for _ in range(2)]
    refused = await client.get("/v1/me", headers=first)

    assert [r.status_code for r in allowed] == [200, 200]
    assert_rate_limited(refused)
    assert (await client.get("/v1/me", headers=second)).status_code == 200


async def test_callers_without_a_valid_token_are_counted_by_address(
    client: httpx.AsyncClient, other_address: httpx.AsyncClient, budgets: SetBudgets
) -> None:
    budgets(per_minute=2)
    forged = {"Authorization": "Bearer not-a-token"}

    first = [await client.get("/v1/me"), await client.get("/v1/me", headers=forged)]

    assert [r.status_code for r in first] == [401, 401]
    assert_rate_limited(await client.get("/v1/me", headers=forged))
    assert (await other_address.get("/v1/me")).status_code == 401


async def test_probes_and_metrics_are_never_limited(client: httpx.AsyncClient, budgets: SetBudgets) -> None:
    budgets(per_minute=1)
    for path in ("/healthz", "/healthz", "/readyz", "/readyz", "/metrics", "/metrics"):
        assert (await client.get(path)).status_code == 200


async def test_limits_can_be_switched_off(client: httpx.AsyncClient, budgets: SetBudgets) -> None:
    budgets(per_minute=1, token_per_minute=1, enabled=False)
    headers = bearer(await make_agency(), Role.CASEWORKER)
    assert {(await client.get("/v1/me", headers=headers)).status_code for _ in range(3)} == {200}


async def test_storage_uri_accepts_sync_and_async_spellings() -> None:
    for uri in ("memory://", "async+memory://"):
        settings = get_settings().model_copy(
            update={"rate_limit_storage_uri": uri, "rate_limit_per_minute": 1}
        )
        limiter = RateLimiter(settings)
        await limiter.hit(limiter.general, "caller")
        with pytest.raises(TooManyRequests):
            await limiter.hit(limiter.general, "caller")
