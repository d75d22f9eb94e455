"""Two API servers and a worker, as separate processes of the installed command, sharing the test
database and Redis: a caller's budget is counted once across both servers, the probes answer on
each, and the worker seals what both wrote. On PostgreSQL (`make test-postgres`) this is the
deployment compose.yaml describes, less the containers.
"""

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from app.db import get_sessionmaker
from app.models.audit import AuditEvent
from app.models.identity import Role
from tests.support.factories import back_minted_token, bearer, make_agency
from tests.support.redis_support import closed_port, fresh_prefix, require_redis

# The console script the locked install puts beside the interpreter, as the image runs it.
COMMAND = str(Path(sys.executable).with_name("referral-exchange"))
BUDGET = 6
INBOX = "/v1/referrals?box=inbox"


def environment(database_url: str, redis_url: str) -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": database_url,
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_STORAGE_URI": redis_url,
        "RATE_LIMIT_KEY_PREFIX": fresh_prefix(),
        "RATE_LIMIT_PER_MINUTE": str(BUDGET),
        "API_PROCESSES": "2",
        "WORKER_PROCESSES": "1",
        "AUDIT_SEAL_INTERVAL_SECONDS": "0.2",
        "WEBHOOK_POLL_INTERVAL_SECONDS": "0.2",
    }


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        started = subprocess.Popen([COMMAND, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield started
    finally:
        started.terminate()
        try:
            started.wait(15)
        except subprocess.TimeoutExpired:
            started.kill()
            started.wait()


async def healthy(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as http:
        for _ in range(150):
            assert server.poll() is None, await asyncio.to_thread(log.read_text)
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{base_url} never answered /healthz: {await asyncio.to_thread(log.read_text)}")


@contextlib.asynccontextmanager
async def cluster(database_url: str, tmp_path: Path) -> AsyncIterator[list[str]]:
    """Two servers and a worker; the servers' base URLs."""
    env, ports = environment(database_url, require_redis()), [closed_port(), closed_port()]
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(process(["serve", "--port", str(port)], env, tmp_path / f"serve-{port}.log"))
            for port in ports
        ]
        stack.enter_context(process(["worker"], env, tmp_path / "worker.log"))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, server, port in zip(urls, servers, ports, strict=True):
            await healthy(url, server, tmp_path / f"serve-{port}.log")
        yield urls


async def audit_events() -> tuple[int, int]:
    """How many audit events there are, and how many of them are sealed."""
    async with get_sessionmaker()() as session:
        query = select(func.count(), func.count(col(AuditEvent.seq)))
        total, sealed = (await session.execute(query)).one()
        return int(total), int(sealed)


async def test_two_servers_share_budgets_through_redis_and_a_worker_seals_what_both_wrote(
    database_url: str, tmp_path: Path
) -> None:
    headers = bearer(await make_agency(), Role.CASEWORKER)
    before, _ = await audit_events()
    async with cluster(database_url, tmp_path) as (first, second), contextlib.AsyncExitStack() as clients:
        http = [
            await clients.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=10, event_hooks={"request": [back_minted_token]})
            )
            for url in (first, second)
        ]
        # One caller, its requests spread over both servers: one budget between them.
        answers = [(await http[n % 2].get(INBOX, headers=headers)).status_code for n in range(BUDGET + 2)]
        probes = [(await client.get(path)).status_code for client in http for path in ("/healthz", "/readyz")]
        for _ in range(100):
            total, sealed = await audit_events()
            if total == sealed:
                break
            await asyncio.sleep(0.1)

    assert answers == [200] * BUDGET + [429, 429]
    assert probes == [200, 200, 200, 200]
    # Each inbox listing answered is audited, whichever server answered; the worker sealed them all.
    assert await audit_events() == (before + BUDGET, before + BUDGET)
