"""The machine's Redis for the tests that share rate limits through it.

TEST_REDIS_URL names it (redis://127.0.0.1:6379/0 by default). Skipped where none answers,
except under CI (`CI` set), where that is a failure: CI starts one (.ci/run). Every test counts
under a key prefix of its own, so nothing it counts meets another test's, or another program's
using the same server.
"""

import os
import socket
import uuid
from urllib.parse import urlsplit

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_answers(url: str = REDIS_URL) -> bool:
    """Whether a Redis server answers PING there (plain RESP, no client library needed)."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def require_redis() -> str:
    """The Redis URL to test against, or skip the test (fail it under CI) when none answers."""
    if not redis_answers():
        if os.environ.get("CI"):
            pytest.fail(f"no Redis answers at {REDIS_URL} (CI starts one: .ci/run)")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL


def fresh_prefix() -> str:
    """A rate-limit key prefix no other test or program uses."""
    return f"rx-test-{uuid.uuid4().hex[:12]}"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
