"""The connection budget: what the deployment may open, against what PostgreSQL allows, at start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import connection_budget
from app.config import get_settings
from tests.support.redis_support import closed_port

ROOT = Path(__file__).resolve().parent.parent
ON_POSTGRESQL = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
postgresql_only = pytest.mark.skipif(not ON_POSTGRESQL, reason="max_connections is PostgreSQL's")


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_two_api_processes_and_two_workers_fit_postgresqls_default_at_the_default_pool() -> None:
    settings = get_settings().model_copy(update={"api_processes": 2, "worker_processes": 2})
    # 2 x (20 + 10 + 1) + 2 x 2 + 5 = 71 of the 97 a default server allows.
    assert connection_budget.budget_of(settings).needed == 71
    assert connection_budget.refusal(settings, max_connections=100, reserved=3) is None


def test_four_api_processes_at_the_default_pool_are_refused_with_the_sum_shown() -> None:
    settings = get_settings().model_copy(update={"api_processes": 4, "worker_processes": 2})

    refused = connection_budget.refusal(settings, max_connections=100, reserved=3)

    assert refused is not None
    assert "the database allows 97 connections (max_connections 100, 3 reserved)" in refused
    assert "API_PROCESSES 4 x (DATABASE_POOL_SIZE 20 + DATABASE_MAX_OVERFLOW 10 + 1 for /readyz)" in refused
    assert "WORKER_PROCESSES 2 x 2 + DATABASE_SPARE_CONNECTIONS 5 = 133" in refused
    smaller = settings.model_copy(update={"database_pool_size": 15, "database_max_overflow": 5})
    assert connection_budget.refusal(smaller, max_connections=100, reserved=3) is None


async def test_the_embedded_database_and_pgbouncer_are_not_counted() -> None:
    huge = get_settings().model_copy(update={"api_processes": 1000})
    sqlite = huge.model_copy(update={"database_url": "sqlite+aiosqlite:///./x.db"})
    assert await connection_budget.check(sqlite) is None
    if ON_POSTGRESQL:
        assert (
            await connection_budget.check(huge.model_copy(update={"database_behind_pgbouncer": True})) is None
        )


async def test_a_database_that_cannot_be_reached_is_waited_for_not_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/postgres"
    settings = get_settings().model_copy(update={"database_url": unreachable, "api_processes": 1000})

    assert await connection_budget.check(settings) is None
    assert "the connection budget was not checked" in caplog.text


@postgresql_only
async def test_the_server_is_asked_what_it_allows() -> None:
    assert await connection_budget.check(get_settings()) is None
    refused = await connection_budget.check(get_settings().model_copy(update={"api_processes": 1000}))
    assert refused is not None
    assert "API_PROCESSES 1000 x" in refused


@postgresql_only
def test_a_worker_that_cannot_fit_does_not_start() -> None:
    refused = run("worker", "--once", API_PROCESSES="1000")

    assert refused.returncode == 2
    assert "error: the database allows" in refused.stderr
    assert "Traceback" not in refused.stderr


@postgresql_only
def test_serve_refuses_more_processes_than_api_processes_counts() -> None:
    refused = run("serve", "--port", str(closed_port()), "--workers", "3", API_PROCESSES="2")

    assert refused.returncode == 2
    assert "serve --workers 3 starts more API processes than API_PROCESSES (2) counts" in refused.stderr
