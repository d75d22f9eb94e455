"""Whether an account may still act: one check for bearer tokens and staff web sessions alike.

Every authenticated request asks it, so the answer (active flag and token version) is kept in
memory for `ACCOUNT_CACHE_SECONDS`. A change made in this process is seen at once: the entry is
dropped when the change is made and again when it commits, so no request can re-read the old
state in between and keep it. A change made by another process is seen when the entry expires,
which is why the lifetime is seconds, not minutes.
"""

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from app.config import get_settings
from app.models.audit import ActorKind
from app.models.identity import ApiClient, User

_PENDING_KEY = "accounts_changed"
Key = tuple[ActorKind, str]


@dataclass(frozen=True, slots=True)
class AccountState:
    active: bool
    token_version: int


# None: no such account (deleted, or never existed).
_cache: dict[Key, tuple[float, AccountState | None]] = {}


async def still_active(
    session: AsyncSession, kind: ActorKind, account_id: str, token_version: int | None = None
) -> bool:
    """Whether the account exists, is active and (if given) still honours tokens of this version."""
    state = await _state(session, (kind, account_id))
    if state is None or not state.active:
        return False
    return token_version is None or token_version == state.token_version


async def _state(session: AsyncSession, key: Key) -> AccountState | None:
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    state = await _read(session, *key)
    lifetime = get_settings().account_cache_seconds
    if lifetime > 0:
        _cache[key] = (now + lifetime, state)
    return state


async def _read(session: AsyncSession, kind: ActorKind, account_id: str) -> AccountState | None:
    if kind == ActorKind.USER:
        try:
            user_id = uuid.UUID(account_id)
        except ValueError:
            return None
        query = select(col(User.is_active), col(User.token_version)).where(col(User.id) == user_id)
    elif kind == ActorKind.CLIENT:
        query = select(col(ApiClient.is_active), col(ApiClient.token_version)).where(
            col(ApiClient.client_id) == account_id
        )
    else:
        return None
    row = (await session.execute(query)).first()
    return AccountState(bool(row[0]), int(row[1])) if row else None


def changed(session: AsyncSession, kind: ActorKind, account_id: str) -> None:
    """Forget the account's cached state now and once this unit of work commits."""
    key = (kind, account_id)
    _cache.pop(key, None)
    session.info.setdefault(_PENDING_KEY, set()).add(key)


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    # A request that read the old state between the change and the commit cached it; drop it.
    for key in session.info.pop(_PENDING_KEY, ()):
        _cache.pop(key, None)


@event.listens_for(Session, "after_rollback")
def _discard_on_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def clear_cache(*_: Any) -> None:
    """Forget every cached account (tests and benchmarks)."""
    _cache.clear()
