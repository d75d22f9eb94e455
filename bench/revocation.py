"""What the account check (revocation of tokens at once) costs on the authenticated request path.

Runs the application in process (httpx over ASGI, no network) against a fresh SQLite database,
or an empty PostgreSQL database named by --database-url (it is migrated), and times the same
authenticated request three ways: without the check, with it (answers cached for
ACCOUNT_CACHE_SECONDS), and with the cache off (one database read per request).

Run: `.venv/bin/python -m bench.revocation [--requests N] [--database-url URL]`.
"""

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

ROUNDS = 5
PASSWORD = "bench password"  # noqa: S105 (a throwaway account in a throwaway database)


def _environment(database_url: str | None) -> str:
    url = database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='rx-bench-')}/bench.db"
    os.environ.update(
        {
            "DATABASE_URL": url,
            "ENVIRONMENT": "test",
            "JWT_SECRET": "bench-secret-" + "0123456789" * 4,
            "PASSWORD_HASH_TIME_COST": "1",
            "PASSWORD_HASH_MEMORY_KIB": "1024",
            "RATE_LIMIT_ENABLED": "false",
        }
    )
    return url


async def _prepare(client: Any) -> tuple[str, dict[str, str]]:
    """An agency and a caseworker, signed in; the agency's URL to read."""
    from app.models.audit import ActorKind, AuditActor
    from app.models.directory import AgencyCreate, AgencyKind
    from app.models.identity import Role
    from app.services import directory, identity
    from app.unit_of_work import committed

    actor = AuditActor(kind=ActorKind.SYSTEM, id="bench")
    body = AgencyCreate(name="Bench agency", kind=AgencyKind.OTHER, local_authority="Wrexham")
    agency = await committed(lambda s: directory.create_agency(s, actor, body))
    name = f"bench-{uuid.uuid4().hex[:6]}"
    await committed(
        lambda s: identity.create_user(
            s, actor, username=name, password=PASSWORD, role=Role.CASEWORKER, agency_id=agency.id
        )
    )
    form = {"grant_type": "password", "username": name, "password": PASSWORD}
    token = (await client.post("/v1/oauth/token", data=form)).json()["access_token"]
    return f"/v1/agencies/{agency.id}", {"Authorization": f"Bearer {token}"}


async def _time(client: Any, url: str, headers: dict[str, str], requests: int) -> float:
    """Microseconds per request over one round."""
    started = time.perf_counter()
    for _ in range(requests):
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
    return (time.perf_counter() - started) / requests * 1e6


async def _modes(client: Any, url: str, headers: dict[str, str], requests: int) -> dict[str, float]:
    """The best round of each way, the ways taking turns so that a busy moment hits them alike."""
    from app.auth import accounts
    from app.config import get_settings

    settings, check, cached = get_settings(), accounts.still_active, get_settings().account_cache_seconds

    async def never_revoked(*_: object) -> bool:
        return True

    def way(checker: Any, lifetime: float) -> Callable[[], None]:
        def setup() -> None:
            accounts.still_active = checker
            settings.account_cache_seconds = lifetime

        return setup

    ways = {
        "without the check": way(never_revoked, cached),
        f"with the check, cached {cached:g} s": way(check, cached),
        "with the check, no cache (a read per request)": way(check, 0.0),
    }
    best = dict.fromkeys(ways, float("inf"))
    for turn in range(ROUNDS):
        # Each way goes first in some rounds: whatever drifts within a round falls on all alike.
        order = list(ways.items())[turn % len(ways) :] + list(ways.items())[: turn % len(ways)]
        for label, setup in order:
            setup()
            accounts.clear_cache()
            await client.get(url, headers=headers)  # warm up
            best[label] = min(best[label], await _time(client, url, headers, requests))
    return best


async def _hit_cost(account_id: str, calls: int = 100_000) -> float:
    """Microseconds of one check answered from the cache, alone (what every request pays)."""
    from app.auth import accounts
    from app.db import get_sessionmaker
    from app.models.audit import ActorKind

    async with get_sessionmaker()() as session:
        await accounts.still_active(session, ActorKind.USER, account_id, 0)
        started = time.perf_counter()
        for _ in range(calls):
            await accounts.still_active(session, ActorKind.USER, account_id, 0)
    return (time.perf_counter() - started) / calls * 1e6


async def main(requests: int, database_url: str | None) -> None:
    url = _environment(database_url)
    import httpx

    from app.cli import alembic_config
    from app.db import dispose_engine
    from app.main import create_app

    await asyncio.to_thread(__import__("alembic.command").command.upgrade, alembic_config(url), "head")
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        path, headers = await _prepare(client)
        results = await _modes(client, path, headers, requests)
    results["the check alone, answered from the cache"] = await _hit_cost(_subject(headers))
    await dispose_engine()
    _report(url, requests, results)


def _subject(headers: dict[str, str]) -> str:
    from jose import jwt

    return str(jwt.get_unverified_claims(headers["Authorization"].removeprefix("Bearer "))["sub"])


def _report(url: str, requests: int, results: dict[str, float]) -> None:
    base = next(iter(results.values()))
    print(f"GET /v1/agencies/{{id}} on {url.split(':')[0]}, {requests} requests a round, best of {ROUNDS}")
    for label, micros in results.items():
        print(f"  {label:<48} {micros:10.1f} us/request  {100 * (micros / base - 1):+7.1f}% of the first")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.database_url))
