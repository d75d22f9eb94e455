"""Replicas that start together and each migrate the same empty database all succeed."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import _create_pg_database, _drop_pg_database

SERVER = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not SERVER.startswith("postgresql"), reason="replicas share a PostgreSQL database"
)


def _migrate(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [sys.executable, "-m", "app.cli", "migrate"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_concurrent_migrations_take_turns() -> None:
    url = _create_pg_database(SERVER)
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = list(pool.map(_migrate, [url] * 3))
    finally:
        _drop_pg_database(url, SERVER)

    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr[-2000:] for r in results]
