"""Retries of rows the background worker claims and sends (webhook deliveries, notifications)."""

import random
from datetime import timedelta

# Jitter spreads retries out; it needs no cryptographic strength.
_jitter = random.Random()  # noqa: S311


def backoff(base_seconds: float, max_seconds: float, attempt: int) -> timedelta:
    """Exponential delay after the given attempt, capped, plus up to a quarter more at random."""
    delay = min(max_seconds, base_seconds * 2 ** (attempt - 1))
    return timedelta(seconds=delay * (1 + _jitter.random() / 4))


def released(now: object) -> dict[str, object]:
    """The columns that end a worker's claim on a row, whatever the outcome."""
    return {"claimed_until": None, "claim_token": None, "updated_at": now}
