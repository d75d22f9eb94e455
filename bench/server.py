"""A dedicated PostgreSQL database, a server on loopback and a sealing worker, for one benchmark run."""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from app.journal.notes import new_signer
from bench import demo as demo_network

CLI = str(Path(sys.executable).with_name("referral-exchange"))
DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
# One key for every process of the run: the server shows its verifier key, the worker signs.
SIGNING_KEY = new_signer("bench.localhost/audit").text()


@dataclass(frozen=True)
class Running:
    base_url: str
    database_url: str
    demo: demo_network.Demo
    pid: int


def dsn(server_url: str) -> dict[str, object]:
    """asyncpg's connection arguments for a SQLAlchemy URL."""
    url = make_url(server_url)
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password,
        "database": url.database or "postgres",
    }


async def _admin(server_url: str, statement: str) -> None:
    conn = await asyncpg.connect(**dsn(server_url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def database(server_url: str, keep: bool = False) -> AsyncIterator[str]:
    """A fresh, empty database on the server, dropped afterwards unless `keep`."""
    name = f"rx_bench_{uuid.uuid4().hex[:10]}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(database_url: str) -> dict[str, str]:
    # The limits would turn the load generator away; it is one client on one address. Tokens
    # outlive the run, so every scenario can use the ones taken at the start.
    return os.environ | {
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "development",
        "RATE_LIMIT_ENABLED": "false",
        "USER_TOKEN_TTL_SECONDS": "7200",
        "AUDIT_LOG_ORIGIN": "bench.localhost/audit",
        "AUDIT_SIGNING_KEY": SIGNING_KEY,
    }


def prepare(database_url: str) -> demo_network.Demo:
    """Migrate the database and seed the demo network; returns its logins."""
    env = environment(database_url)
    subprocess.run([CLI, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
    seeded = subprocess.run(  # noqa: S603
        [CLI, "seed-demo", "--json"], env=env, check=True, capture_output=True, text=True
    )
    demo: demo_network.Demo = __import__("json").loads(seeded.stdout)
    return demo


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_healthy(base_url: str, process: asyncio.subprocess.Process, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError("the server exited during start-up")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not become healthy in time")


@contextlib.asynccontextmanager
async def serve(database_url: str, demo: demo_network.Demo, workers: int = 1) -> AsyncIterator[Running]:
    """`referral-exchange serve --workers N` on a free loopback port, stopped afterwards."""
    port = _free_port()
    command = [CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    # The connection budget counts every API process: here, this server's.
    async with _running(command, database_url, api_processes=workers) as process:
        base_url = f"http://127.0.0.1:{port}"
        await _wait_healthy(base_url, process)
        yield Running(base_url, database_url, demo, process.pid)


@contextlib.asynccontextmanager
async def sealing(database_url: str) -> AsyncIterator[int]:
    """`referral-exchange worker`, which seals the audit log every second; its process id."""
    async with _running([CLI, "worker"], database_url, quiet=True) as process:
        yield process.pid


@contextlib.asynccontextmanager
async def _running(
    command: list[str], database_url: str, quiet: bool = False, api_processes: int = 1
) -> AsyncIterator[asyncio.subprocess.Process]:
    output = asyncio.subprocess.DEVNULL if quiet else None
    env = environment(database_url) | {"API_PROCESSES": str(api_processes)}
    process = await asyncio.create_subprocess_exec(*command, env=env, stdout=output, stderr=output)
    try:
        yield process
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()
