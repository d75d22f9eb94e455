"""Signed-in sessions of the staff pages: started at sign-in, checked on every request, ended.

The browser holds a random id; the database holds its hash. A session ends after a spell
without requests, at a fixed time after sign-in, at sign-out, and at once when the account
is deactivated or its token version is raised (a new password or role, a deactivation even
if undone since): the account is read with the session on every request.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import Settings
from app.db import utcnow
from app.models.audit import ActorKind
from app.models.identity import ROLE_SCOPES, User
from app.models.web_session import KeptForm, WebSession
from app.security import Principal
from app.services import audit

# Requests this close together do not each rewrite the session's last-seen time.
TOUCH_AFTER = timedelta(seconds=30)
# How long a session that ran out of time is remembered, and what its user typed then kept.
LAPSE_GRACE = timedelta(hours=2)


class Ended(StrEnum):
    """Why there is no signed-in session."""

    NONE = "none"
    IDLE = "idle"
    EXPIRED = "expired"
    DEACTIVATED = "deactivated"
    # The account's token version moved on after sign-in: what signed the session in is void.
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session, with its user as of this request."""

    principal: Principal
    user: User
    record: WebSession

    def idle_deadline(self, settings: Settings) -> datetime:
        """When the session ends unless the user does something first."""
        idle = self.record.last_seen_at + timedelta(minutes=settings.web_idle_timeout_minutes)
        return min(idle, self.record.expires_at)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def principal_of(user: User) -> Principal:
    """The principal a signed-in user acts as: their current role's scopes."""
    scopes = frozenset(s.value for s in ROLE_SCOPES[user.role])
    return Principal(ActorKind.USER, str(user.id), user.agency_id, scopes, user.role, user.token_version)


async def start(
    session: AsyncSession, principal: Principal, settings: Settings, *, draft: dict[str, Any] | None = None
) -> str:
    """A new session for a user who has just signed in (with the referral they were making, if
    their last one ran out of time part way through); returns the id for the cookie."""
    token, now = secrets.token_urlsafe(32), utcnow()
    await _purge_ended(session, now, settings)
    session.add(
        WebSession(
            id_hash=_hash(token),
            user_id=uuid.UUID(principal.id),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.web_absolute_timeout_hours),
            token_version=principal.version,
            draft=draft,
        )
    )
    audit.record(session, principal.actor, "session.started", "user", principal.id)
    return token


async def _purge_ended(session: AsyncSession, now: datetime, settings: Settings) -> None:
    """Drop sessions that ran out of time a while ago, with any draft they held, and kept forms
    that were never claimed.

    Not at once: until LAPSE_GRACE has passed, a form sent from such a session's page can still be
    kept for its user (see `kept_forms`). A session that has run out signs no one in meanwhile.
    """
    until = now - LAPSE_GRACE
    idle_since = until - timedelta(minutes=settings.web_idle_timeout_minutes)
    await session.execute(
        delete(WebSession).where(
            or_(col(WebSession.expires_at) <= until, col(WebSession.last_seen_at) <= idle_since)
        )
    )
    await session.execute(delete(KeptForm).where(col(KeptForm.expires_at) <= now))


@dataclass(frozen=True, slots=True)
class Lapsed:
    """A session that ran out of time, rather than one ended for a cause (a new password, a
    deactivation): what its user had typed may follow them to their next sign-in."""

    reason: Ended
    user_id: uuid.UUID
    draft: dict[str, Any] | None


async def resume(
    session: AsyncSession, token: str | None, settings: Settings, *, touch: bool = True
) -> SignedIn | Ended:
    """The live session the cookie names, or why there is none; a request keeps it alive."""
    found = await check(session, token, settings, touch=touch)
    return found.reason if isinstance(found, Lapsed) else found


async def check(
    session: AsyncSession, token: str | None, settings: Settings, *, touch: bool = True
) -> SignedIn | Lapsed | Ended:
    """As `resume`, but a session that ran out of time says whose it was and what it held."""
    if not token:
        return Ended.NONE
    query = select(WebSession, User).join(User, col(User.id) == col(WebSession.user_id))
    found = (await session.execute(query.where(col(WebSession.id_hash) == _hash(token)))).first()
    if found is None:
        return Ended.NONE
    record, user = found[0], found[1]
    ended = _why_ended(record, user, utcnow(), settings)
    if ended is not None:
        lapsed = Lapsed(ended, user.id, record.draft)
        await _end(session, record, user, ended.value)
        return lapsed if ended in (Ended.IDLE, Ended.EXPIRED) else ended
    if touch and utcnow() - record.last_seen_at > TOUCH_AFTER:
        record.last_seen_at = utcnow()
    return SignedIn(principal_of(user), user, record)


def _why_ended(record: WebSession, user: User, now: datetime, settings: Settings) -> Ended | None:
    if not user.is_active:
        return Ended.DEACTIVATED
    if record.token_version != user.token_version:
        return Ended.REVOKED
    if now >= record.expires_at:
        return Ended.EXPIRED
    if now - record.last_seen_at >= timedelta(minutes=settings.web_idle_timeout_minutes):
        return Ended.IDLE
    return None


async def end(session: AsyncSession, signed_in: SignedIn) -> None:
    """Sign out: the session and anything it held are gone."""
    await _end(session, signed_in.record, signed_in.user, "signed_out")


async def _end(session: AsyncSession, record: WebSession, user: User, reason: str) -> None:
    await session.execute(delete(WebSession).where(col(WebSession.id_hash) == record.id_hash))
    actor = principal_of(user).actor
    audit.record(session, actor, "session.ended", "user", str(user.id), details={"reason": reason})


def draft_of(signed_in: SignedIn) -> dict[str, Any]:
    """The referral the user is part way through making (empty when none)."""
    return dict(signed_in.record.draft or {})


def save_draft(signed_in: SignedIn, draft: dict[str, Any] | None) -> None:
    """Keep (or, with None, drop) the referral being made, with the session."""
    signed_in.record.draft = draft
