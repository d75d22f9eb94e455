"""Staff accounts: an agency admin keeps their own agency's, a platform admin everyone's.

An agency admin asking for another agency's user gets 404, as for a user that does not exist.
A new account has no password: the person sets one through a single-use link, of which only a
hash is stored. Deactivating an account, changing its role or setting its password raises its
token version, which stops every token issued before at once.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import accounts
from app.config import Settings
from app.db import utcnow
from app.errors import Forbidden, NotFound, Unprocessable
from app.models.audit import ActorKind, AuditActor
from app.models.directory import Agency, AgencyPublic
from app.models.identity import (
    AGENCY_ROLES,
    MeUpdate,
    PasswordLink,
    PasswordLinkReissued,
    Role,
    SetPassword,
    User,
    UserCreate,
    UserCreated,
    UserPublic,
    UserUpdate,
)
from app.pagination import Keyset, Page, keyset_page
from app.security import Principal, hash_secret
from app.services import audit, identity
from app.services.notifications import accounts as account_notices

USER_ORDER = Keyset("users", (col(User.username), col(User.id)), (str, uuid.UUID))


def _manages(principal: Principal, user: User) -> bool:
    """Platform accounts manage everyone; an agency account only its own agency's staff."""
    return principal.agency_id is None or principal.agency_id == user.agency_id


async def get_managed(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> User:
    """A user the caller manages; 404 for anyone else (another agency's staff are not revealed)."""
    user = await session.get(User, user_id)
    if user is None or not _manages(principal, user):
        raise NotFound(f"User {user_id} not found.")
    return user


async def list_users(
    session: AsyncSession,
    principal: Principal,
    *,
    agency_id: uuid.UUID | None,
    role: Role | None,
    cursor: str | None,
    limit: int,
) -> Page[UserPublic]:
    """Staff by username: an agency admin's own agency, or any agency for a platform admin."""
    query = select(User)
    if principal.agency_id is not None:
        query = query.where(col(User.agency_id) == principal.agency_id)
    if agency_id is not None:
        query = query.where(col(User.agency_id) == agency_id)
    if role is not None:
        query = query.where(col(User.role) == role)
    found, next_cursor = await keyset_page(session, query, USER_ORDER, cursor, limit)
    return Page(items=[UserPublic.of(u) for u in found], next_cursor=next_cursor)


def _target_agency(principal: Principal, body: UserCreate) -> uuid.UUID | None:
    """The new user's agency: the agency admin's own, or the one a platform admin names."""
    if principal.agency_id is None:
        return body.agency_id
    if body.role not in AGENCY_ROLES:
        raise Forbidden("An agency admin adds caseworkers and agency admins of their own agency only.")
    if body.agency_id not in (None, principal.agency_id):
        raise NotFound(f"Agency {body.agency_id} not found.")
    return principal.agency_id


async def create(
    session: AsyncSession, settings: Settings, principal: Principal, body: UserCreate
) -> UserCreated:
    """Add a member of staff and return their set-password link (shown once).

    The link is also emailed to them, when they have an address, by the notification worker
    once the account is committed.
    """
    user = await identity.create_user(
        session,
        principal.actor,
        username=body.username,
        password=None,
        role=body.role,
        agency_id=_target_agency(principal, body),
        display_name=body.display_name,
        email=str(body.email) if body.email else None,
    )
    link, expires_at = await issue_link(session, settings, user)
    emailed = account_notices.account_created(session, user, link, expires_at)
    details: dict[str, audit.DetailValue] = {"user_emailed": emailed}
    audit.record(session, principal.actor, "user.password_link_issued", "user", user.id, details=details)
    public = UserPublic.of(user).model_dump()
    return UserCreated.model_validate(
        public | {"set_password_link": link, "set_password_expires_at": expires_at, "user_emailed": emailed}
    )


async def reissue_link(
    session: AsyncSession, settings: Settings, principal: Principal, user_id: uuid.UUID
) -> PasswordLinkReissued:
    """A fresh set-password link for a user the caller manages (a forgotten or expired one).

    The user is told by email, so that a link they did not ask for (someone taking their account
    over through an admin's account) does not go unnoticed.
    """
    user = await get_managed(session, principal, user_id)
    if not user.is_active:
        raise Unprocessable.field("active", "the account is disabled; enable it first")
    link, expires_at = await issue_link(session, settings, user)
    emailed = account_notices.password_link_issued(session, user)
    audit.record(
        session,
        principal.actor,
        "user.password_link_issued",
        "user",
        user.id,
        details={"user_emailed": emailed},
    )
    return PasswordLinkReissued(
        set_password_link=link, set_password_expires_at=expires_at, user_emailed=emailed
    )


def _token_hash(token: str) -> str:
    # The token is 256 random bits, so a fast hash is enough: there is nothing to guess.
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_link(session: AsyncSession, settings: Settings, user: User) -> tuple[str, datetime]:
    """A new single-use set-password link for the user; earlier unused links stop working."""
    await _spend_links(session, user.id)
    token, expires_at = (
        secrets.token_urlsafe(32),
        utcnow() + timedelta(hours=settings.set_password_link_hours),
    )
    session.add(PasswordLink(user_id=user.id, token_hash=_token_hash(token), expires_at=expires_at))
    await session.flush()
    link = f"{settings.public_base_url.rstrip('/')}/set-password?token={token}"
    return link, expires_at


async def _spend_links(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(
        update(PasswordLink)
        .where(col(PasswordLink.user_id) == user_id, col(PasswordLink.used_at).is_(None))
        .values(used_at=utcnow())
    )


async def set_password(session: AsyncSession, body: SetPassword) -> None:
    """Spend a set-password link: the same answer for an unknown, used or expired one."""
    query = select(PasswordLink).where(col(PasswordLink.token_hash) == _token_hash(body.token))
    link = (await session.execute(query.with_for_update())).scalar_one_or_none()
    user = await session.get(User, link.user_id) if link else None
    if link is None or user is None or link.used_at is not None or link.expires_at <= utcnow():
        raise Unprocessable.field("token", "this link is not valid: it was used, has expired or was replaced")
    if not user.is_active:
        raise Unprocessable.field("token", "this account has been disabled")
    user.password_hash = hash_secret(body.password)
    await _spend_links(session, user.id)
    _revoke(session, user)
    actor = AuditActor(kind=ActorKind.USER, id=str(user.id), agency_id=user.agency_id)
    audit.record(session, actor, "user.password_set", "user", user.id)


def _revoke(session: AsyncSession, user: User) -> None:
    """Stop every token issued to the user so far."""
    user.token_version += 1
    accounts.changed(session, ActorKind.USER, str(user.id))


async def update_user(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID, body: UserUpdate
) -> UserPublic:
    """Change a user's status, role, details, absence or notification preferences."""
    user = await get_managed(session, principal, user_id)
    changes = body.model_dump(exclude_unset=True)
    _check_role(principal, user, changes.get("role"))
    revoke = changes.get("active") is False or changes.get("role", user.role) != user.role
    apply_changes(user, changes)
    if revoke:
        _revoke(session, user)
    details: dict[str, audit.DetailValue] = {"fields": sorted(changes)}
    if "active" in changes:
        details["active"] = bool(changes["active"])
    audit.record(session, principal.actor, "user.updated", "user", user.id, details=details)
    return UserPublic.of(user)


def _check_role(principal: Principal, user: User, role: Role | None) -> None:
    if role is None:
        return
    if (role in AGENCY_ROLES) != (user.agency_id is not None):
        raise Unprocessable.field("role", "agency staff keep agency roles; platform accounts platform roles")
    if principal.agency_id is not None and role not in AGENCY_ROLES:
        raise Forbidden("An agency admin gives agency roles only.")


# Fields a PATCH may set to null; for the others null is refused rather than stored.
NULLABLE = frozenset({"email", "away_until"})


def apply_changes(user: User, changes: dict[str, Any]) -> None:
    """Copy validated changes onto the user (preferences are merged, not replaced)."""
    for name, value in changes.items():
        if value is None and name not in NULLABLE:
            raise Unprocessable.field(name, "cannot be null")
        if name == "active":
            user.is_active = bool(value)
        elif name == "notification_preferences":
            merged = user.preferences().model_dump(mode="json") | {str(k): str(v) for k, v in value.items()}
            user.notification_preferences = merged
        else:
            setattr(user, name, value)


async def disable_by_username(session: AsyncSession, actor: AuditActor, username: str) -> User:
    """Deactivate an account by name (the command line); its tokens stop at once."""
    query = select(User).where(col(User.username) == username.strip().lower())
    user = (await session.execute(query)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    user.is_active = False
    _revoke(session, user)
    audit.record(
        session, actor, "user.updated", "user", user.id, details={"fields": ["active"], "active": False}
    )
    return user


async def update_self(session: AsyncSession, principal: Principal, body: MeUpdate) -> UserPublic:
    """Staff set their own name, absence and notification preferences."""
    user = await session.get(User, uuid.UUID(principal.id)) if principal.kind == ActorKind.USER else None
    if user is None:
        raise Forbidden("Only staff accounts have their own settings.")
    changes = body.model_dump(exclude_unset=True)
    apply_changes(user, changes)
    audit.record(
        session, principal.actor, "user.updated", "user", user.id, details={"fields": sorted(changes)}
    )
    return UserPublic.of(user)


@dataclass(frozen=True, slots=True)
class Me:
    user: User | None
    agency: Agency | None


async def me(session: AsyncSession, principal: Principal) -> Me:
    """The caller's own account and agency, as far as they are a user and belong to one."""
    user = await session.get(User, uuid.UUID(principal.id)) if principal.kind == ActorKind.USER else None
    agency = await session.get(Agency, principal.agency_id) if principal.agency_id else None
    return Me(user, agency)


def agency_public(agency: Agency | None) -> AgencyPublic | None:
    return AgencyPublic.model_validate(agency) if agency else None
