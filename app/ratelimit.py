"""Per-client request budgets, counted with the `limits` library over a moving one-minute window.

A caller is known by its token subject when it presents a valid token, otherwise by its
address. The token endpoint has its own, smaller budget per address, which bounds password
and client-secret guessing. With the default in-memory storage each process counts alone;
several processes share counts through RATE_LIMIT_STORAGE_URI=redis://host:6379 (redis-py,
in the locked install). A store that does not answer at start stops the server there
(`unusable_storage`); one that fails later is bypassed for a while, each process counting
alone meanwhile, so that an outage of the store never turns requests into errors.

Probes and the scraper (/healthz, /readyz, /metrics) are on routers without this
dependency: they never wait on, or fail with, the store.
"""

import asyncio
import logging
import math
import time
from collections.abc import Awaitable
from functools import lru_cache
from typing import Annotated, cast
from urllib.parse import urlsplit

from fastapi import Depends, Request
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from app import metrics
from app.config import REDIS_SCHEMES, Settings, get_settings
from app.errors import Responses, TooManyRequests
from app.security import InvalidToken, read_token

logger = logging.getLogger("app.ratelimit")

TOKEN_PATH = "/v1/oauth/token"  # noqa: S105
RESPONSES: Responses = {
    429: {"description": "Too many requests from this client; `Retry-After` says when to try again"}
}
# After the shared store fails, each process counts alone this long before asking it again, so
# an outage costs one failed call per process per interval, not one per request.
BYPASS_SECONDS = 5.0


def _scheme(uri: str) -> str:
    return urlsplit(uri).scheme.removeprefix("async+")


def _storage(settings: Settings) -> Storage:
    """The asyncio storage RATE_LIMIT_STORAGE_URI names; Redis through redis-py."""
    uri = settings.rate_limit_storage_uri
    if _scheme(uri) not in REDIS_SCHEMES:
        storage = storage_from_string(f"async+{_scheme(uri)}://")
    else:
        timeout = settings.rate_limit_storage_timeout_seconds
        storage = storage_from_string(
            f"async+{uri.removeprefix('async+')}",
            implementation="redispy",
            key_prefix=settings.rate_limit_key_prefix,
            wrap_exceptions=True,  # every failure of the store is a StorageError
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
    assert isinstance(storage, Storage)
    return storage


class RateLimiter:
    """The configured budgets, the storage that counts them and a process-local stand-in for it."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit_enabled
        self.general = RateLimitItemPerMinute(settings.rate_limit_per_minute)
        self.token = RateLimitItemPerMinute(settings.token_rate_limit_per_minute)
        self._shared = MovingWindowRateLimiter(_storage(settings))
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._bypass_until = 0.0

    async def hit(self, item: RateLimitItem, key: str) -> None:
        """Count one request against `key`, or refuse it with 429 and Retry-After."""
        if time.monotonic() >= self._bypass_until:
            try:
                return await _count(self._shared, item, key)
            except StorageError as exc:
                self._bypass(exc)
        await _count(self._local, item, key)

    def _bypass(self, exc: StorageError) -> None:
        metrics.RATE_LIMIT_STORAGE_FAILURES.inc()
        self._bypass_until = time.monotonic() + BYPASS_SECONDS
        logger.warning(
            "the rate-limit store failed (%s); this process counts alone for %.0f s",
            type(exc.storage_error).__name__,
            BYPASS_SECONDS,
        )


async def _count(window: MovingWindowRateLimiter, item: RateLimitItem, key: str) -> None:
    if await window.hit(item, key):
        return
    stats = await window.get_window_stats(item, key)
    retry = max(1, math.ceil(stats.reset_time - time.time()))
    raise TooManyRequests(
        f"Too many requests; try again in {retry} seconds.",
        headers={"Retry-After": str(retry)},
        retry_after=retry,
    )


def counts_in_redis(settings: Settings) -> bool:
    """Whether budgets are counted, and in Redis (the only store there is to check at start)."""
    return settings.rate_limit_enabled and _scheme(settings.rate_limit_storage_uri) in REDIS_SCHEMES


async def unusable_storage(settings: Settings) -> str | None:
    """Why the rate-limit store cannot be used now (no answer, or a refusal), or None when it can.

    Asked at start, on a client of its own that is closed again: the process's limiter is made
    in the event loop that serves requests. The message names the host, never a password.
    """
    if not counts_in_redis(settings):
        return None
    import redis.asyncio
    import redis.exceptions

    uri = settings.rate_limit_storage_uri.removeprefix("async+")
    timeout = settings.rate_limit_storage_timeout_seconds
    client = redis.asyncio.from_url(
        uri.replace("redis+unix://", "unix://"), socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        async with asyncio.timeout(3 * timeout):
            # redis-py types ping() for its sync and asyncio clients alike.
            await cast(Awaitable[bool], client.ping())
    except (redis.exceptions.RedisError, OSError, TimeoutError) as exc:
        failure = type(exc).__name__
        return f"RATE_LIMIT_STORAGE_URI: the Redis server at {_where(uri)} cannot be used ({failure})"
    finally:
        await client.aclose()
    return None


def _where(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.path if parts.scheme == "redis+unix" else f"{parts.hostname}:{parts.port or 6379}"


@lru_cache
def _process_limiter() -> RateLimiter:
    return RateLimiter(get_settings())


async def get_rate_limiter() -> RateLimiter:
    """The process-wide limiter, as a dependency, so tests can swap in small budgets.

    Async so that FastAPI calls it inline instead of through its thread pool.
    """
    return _process_limiter()


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _caller_key(request: Request, settings: Settings) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            principal = read_token(token.strip(), settings)
        except InvalidToken:
            pass  # a forged or stale token must not buy a fresh budget
        else:
            return f"{principal.kind.value}:{principal.id}"
    return f"address:{_address(request)}"


async def enforce_rate_limit(
    request: Request, limiter: Annotated[RateLimiter, Depends(get_rate_limiter)]
) -> None:
    """Count the request against the caller's budget before any other work is done."""
    if not limiter.enabled:
        return
    if request.url.path == TOKEN_PATH:
        await limiter.hit(limiter.token, f"token:{_address(request)}")
        return
    await limiter.hit(limiter.general, _caller_key(request, get_settings()))
