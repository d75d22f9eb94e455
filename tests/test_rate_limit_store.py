"""Where budgets are counted: Redis shared by every process, a store that cannot be used refused at
start, an outage of the store survived, and the probes independent of all of it."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from pydantic import ValidationError

from app import metrics
from app.config import Settings, get_settings
from app.errors import TooManyRequests
from app.main import create_app
from app.ratelimit import RateLimiter, enforce_rate_limit, get_rate_limiter, unusable_storage
from tests.support.redis_support import closed_port, fresh_prefix, require_redis

ROOT = Path(__file__).resolve().parent.parent
UNLIMITED = {"/healthz", "/readyz", "/metrics"}
SECRET = "hunter2-not-for-logs"


def limiter_on(uri: str, per_minute: int = 2) -> RateLimiter:
    settings = get_settings().model_copy(
        update={
            "rate_limit_enabled": True,
            "rate_limit_storage_uri": uri,
            "rate_limit_key_prefix": fresh_prefix(),
            "rate_limit_per_minute": per_minute,
        }
    )
    return RateLimiter(settings)


def serve(uri: str) -> subprocess.CompletedProcess[str]:
    """`referral-exchange serve` with this store, as an operator would start it."""
    env = os.environ | {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_STORAGE_URI": uri}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(closed_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_locked_install_has_the_redis_client() -> None:
    # The image installs requirements/lock.txt and nothing else.
    locked = (ROOT / "requirements/lock.txt").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("redis==") for line in locked)


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        (f"memcached://{SECRET}@cache:11211", "must be memory:// or a Redis address"),
        (f"mongodb://u:{SECRET}@db/limits", "must be memory:// or a Redis address"),
        (f"redis://:{SECRET}@cache:port", "has a port that is not a number"),
        ("redis://", "names no Redis host"),
    ],
)
def test_a_store_the_service_cannot_count_with_is_refused_by_name(uri: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(rate_limit_storage_uri=uri, _env_file=None)
    assert says in str(refused.value)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize(
    "uri", ["memory://", "redis://cache:6379/2", "rediss://cache", "async+redis://cache"]
)
def test_memory_and_redis_addresses_are_accepted(uri: str) -> None:
    assert Settings(rate_limit_storage_uri=uri, _env_file=None).rate_limit_storage_uri == uri


def test_serve_stops_at_once_on_a_store_it_cannot_use() -> None:
    refused = serve(f"memcached://{SECRET}@127.0.0.1:11211")

    assert refused.returncode == 2
    assert "RATE_LIMIT_STORAGE_URI must be memory:// or a Redis address" in refused.stderr
    assert SECRET not in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr


def test_serve_stops_at_once_when_redis_does_not_answer() -> None:
    port = closed_port()
    refused = serve(f"redis://:{SECRET}@127.0.0.1:{port}/0")

    assert refused.returncode == 2
    assert f"the Redis server at 127.0.0.1:{port} cannot be used (ConnectionError)" in refused.stderr
    assert SECRET not in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr


async def test_the_app_refuses_to_start_on_a_store_that_does_not_answer() -> None:
    settings = get_settings().model_copy(
        update={"rate_limit_enabled": True, "rate_limit_storage_uri": f"redis://127.0.0.1:{closed_port()}"}
    )
    assert "cannot be used" in (await unusable_storage(settings) or "")
    assert await unusable_storage(settings.model_copy(update={"rate_limit_enabled": False})) is None


async def test_a_store_that_answers_is_usable() -> None:
    settings = get_settings().model_copy(
        update={"rate_limit_enabled": True, "rate_limit_storage_uri": require_redis()}
    )
    assert await unusable_storage(settings) is None


async def test_processes_share_budgets_through_redis() -> None:
    uri = require_redis()
    settings = get_settings().model_copy(
        update={
            "rate_limit_enabled": True,
            "rate_limit_storage_uri": uri,
            "rate_limit_key_prefix": fresh_prefix(),
            "rate_limit_per_minute": 3,
        }
    )
    first, second = RateLimiter(settings), RateLimiter(settings)  # as two processes would

    await first.hit(first.general, "caller")
    await second.hit(second.general, "caller")
    await first.hit(first.general, "caller")

    with pytest.raises(TooManyRequests):
        await second.hit(second.general, "caller")
    await second.hit(second.general, "someone-else")


async def test_an_outage_of_the_store_is_counted_locally_not_failed() -> None:
    limiter = limiter_on(f"redis://127.0.0.1:{closed_port()}", per_minute=2)
    failures = metrics.RATE_LIMIT_STORAGE_FAILURES._value.get()

    await limiter.hit(limiter.general, "caller")
    await limiter.hit(limiter.general, "caller")
    with pytest.raises(TooManyRequests):
        await limiter.hit(limiter.general, "caller")

    # One failed call to the store, then it is left alone for a while.
    assert metrics.RATE_LIMIT_STORAGE_FAILURES._value.get() == failures + 1


async def test_probes_answer_whatever_the_limiter_does(client: httpx.AsyncClient, app: FastAPI) -> None:
    def broken() -> RateLimiter:
        raise RuntimeError("the limiter cannot be made")

    app.dependency_overrides[get_rate_limiter] = broken
    try:
        answers = {path: (await client.get(path)).status_code for path in sorted(UNLIMITED)}
        limited = await client.get("/v1/me")
    finally:
        app.dependency_overrides.pop(get_rate_limiter, None)

    assert answers == {"/healthz": 200, "/metrics": 200, "/readyz": 200}
    assert limited.status_code == 500


def test_every_route_but_the_probes_is_limited() -> None:
    # A router added later without the limiter would be unlimited; this names it.
    routes = [route for route in iter_route_contexts(create_app().routes) if hasattr(route, "dependant")]
    unlimited = {route.path for route in routes if not _calls(route.dependant, enforce_rate_limit)}
    assert unlimited == UNLIMITED
    assert len(routes) > 100


def _calls(dependant: Dependant, dependency: object) -> bool:
    pending = list(dependant.dependencies)
    while pending:
        found = pending.pop()
        if found.call is dependency:
            return True
        pending.extend(found.dependencies)
    return False
