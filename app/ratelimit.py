"""Per-client request budgets, counted with the `limits` library over a moving one-minute window.

A caller is known by its token subject when it presents a valid token, otherwise by its
address. The token endpoint has its own, smaller budget per address, which bounds password
and client-secret guessing. With the default in-memory storage each process counts alone;
several processes share counts through RATE_LIMIT_STORAGE_URI (e.g. redis://host:6379).
"""

import math
import time
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.config import Settings, get_settings
from app.errors import Responses, TooManyRequests
from app.security import InvalidToken, read_token

TOKEN_PATH = "/v1/oauth/token"  # noqa: S105
# Probes and the scraper must never be turned away by a busy client on the same address.
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
RESPONSES: Responses = {
    429: {"description": "Too many requests from this client; `Retry-After` says when to try again"}
}


def _async_uri(uri: str) -> str:
    return uri if uri.startswith("async+") else f"async+{uri}"


class RateLimiter:
    """The configured budgets and the storage that counts them."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit_enabled
        self.general = RateLimitItemPerMinute(settings.rate_limit_per_minute)
        self.token = RateLimitItemPerMinute(settings.token_rate_limit_per_minute)
        storage = storage_from_string(_async_uri(settings.rate_limit_storage_uri))
        assert isinstance(storage, Storage)
        self._window = MovingWindowRateLimiter(storage)

    async def hit(self, item: RateLimitItem, key: str) -> None:
        """Count one request against `key`, or refuse it with 429 and Retry-After."""
        if await self._window.hit(item, key):
            return
        stats = await self._window.get_window_stats(item, key)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"Too many requests; try again in {retry} seconds.",
            headers={"Retry-After": str(retry)},
            retry_after=retry,
        )


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
    path = request.url.path
    if not limiter.enabled or path in UNLIMITED_PATHS:
        return
    if path == TOKEN_PATH:
        await limiter.hit(limiter.token, f"token:{_address(request)}")
        return
    await limiter.hit(limiter.general, _caller_key(request, get_settings()))
