"""Authenticating staff and partner systems, and issuing their access tokens."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import login_throttle
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, OAuthError, Unprocessable
from app.models.audit import ActorKind, AuditActor
from app.models.identity import AGENCY_ROLES, ROLE_SCOPES, ApiClient, Role, Scope, TokenResponse, User
from app.security import Principal, hash_secret, issue_token, verify_secret
from app.services import audit, directory


@dataclass(frozen=True, slots=True)
class TokenRequest:
    grant_type: str | None
    scope: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    username: str | None = None
    password: str | None = None


async def grant_token(session: AsyncSession, settings: Settings, request: TokenRequest) -> TokenResponse:
    """Run the requested OAuth2 grant and sign a token narrowed to the requested scopes."""
    if request.grant_type == "client_credentials":
        principal, ttl = await _client_principal(session, request), settings.client_token_ttl_seconds
    elif request.grant_type == "password":
        principal, ttl = await _user_principal(session, settings, request), settings.user_token_ttl_seconds
    elif not request.grant_type:
        raise OAuthError("invalid_request", "grant_type is required.")
    else:
        raise OAuthError("unsupported_grant_type", f"grant_type {request.grant_type!r} is not supported.")
    principal = _narrow(principal, request.scope)
    scopes = sorted(principal.scopes)
    audit.record(
        session,
        principal.actor,
        "auth.token_issued",
        principal.kind.value,
        principal.id,
        details={"grant_type": request.grant_type, "scopes": scopes},
    )
    return TokenResponse(
        access_token=issue_token(principal, settings, ttl), expires_in=ttl, scope=" ".join(scopes)
    )


def _narrow(principal: Principal, requested: str | None) -> Principal:
    if not requested:
        return principal
    wanted = frozenset(requested.split())
    if not wanted <= principal.scopes:
        extra = " ".join(sorted(wanted - principal.scopes))
        raise OAuthError("invalid_scope", f"Scope(s) not granted to this account: {extra}.")
    return Principal(
        principal.kind, principal.id, principal.agency_id, wanted, principal.role, principal.version
    )


def _login_failed(session: AsyncSession, actor: AuditActor, grant: str, reason: str) -> None:
    audit.record(
        session,
        actor,
        "auth.login_failed",
        actor.kind.value,
        actor.id,
        details={"grant_type": grant, "reason": reason},
    )


async def _client_principal(session: AsyncSession, request: TokenRequest) -> Principal:
    if not request.client_id or not request.client_secret:
        raise OAuthError("invalid_request", "client_id and client_secret are required.")
    client = (
        await session.execute(select(ApiClient).where(col(ApiClient.client_id) == request.client_id))
    ).scalar_one_or_none()
    valid = verify_secret(request.client_secret, client.secret_hash if client else None)
    if client is None or not valid or not client.is_active:
        reason = "unknown_client" if client is None else ("bad_secret" if not valid else "inactive")
        actor = AuditActor(
            kind=ActorKind.CLIENT if client else ActorKind.ANONYMOUS,
            id=client.client_id if client else None,
            agency_id=client.agency_id if client else None,
        )
        _login_failed(session, actor, "client_credentials", reason)
        raise OAuthError("invalid_client", "Client authentication failed.", status=401, audited=True)
    scopes = frozenset(client.scopes)
    return Principal(ActorKind.CLIENT, client.client_id, client.agency_id, scopes, None, client.token_version)


async def _user_principal(session: AsyncSession, settings: Settings, request: TokenRequest) -> Principal:
    if not request.username or not request.password:
        raise OAuthError("invalid_request", "username and password are required.")
    user = await authenticate_user(session, settings, request.username, request.password)
    return user_principal(user)


def user_principal(user: User) -> Principal:
    """The principal a member of staff acts as: their current role's scopes."""
    scopes = frozenset(s.value for s in ROLE_SCOPES[user.role])
    return Principal(ActorKind.USER, str(user.id), user.agency_id, scopes, user.role, user.token_version)


async def authenticate_user(session: AsyncSession, settings: Settings, username: str, password: str) -> User:
    """The active user with this name and password: the password grant and the staff sign-in.

    Every refusal is the same answer after the same work (a lookup, the lock check, one
    password hash verified), so it tells a guesser nothing about the account: unknown,
    inactive, wrong password, or locked by too many failures.
    """
    name = username.strip().lower()
    user = (await session.execute(select(User).where(col(User.username) == name))).scalar_one_or_none()
    key, now = login_throttle.account_key(settings, name), utcnow()
    locked = await login_throttle.is_locked(session, key, now)
    valid = verify_secret(password, user.password_hash if user else None)
    if user is None or not valid or not user.is_active or locked:
        reason = _refusal(user, valid, locked)
        await _refuse_sign_in(session, settings, user, key, reason)
    await login_throttle.forget(session, key)
    user.last_login_at = now
    return user


def _refusal(user: User | None, valid: bool, locked: bool) -> str:
    if user is None:
        return "unknown_user"
    return "locked" if locked else ("bad_password" if not valid else "inactive")


async def _refuse_sign_in(
    session: AsyncSession, settings: Settings, user: User | None, key: str, reason: str
) -> NoReturn:
    """Count the failure, audit it (and the lock it may cause), and answer as for any refusal."""
    actor = AuditActor(
        kind=ActorKind.USER if user else ActorKind.ANONYMOUS,
        id=str(user.id) if user else None,
        agency_id=user.agency_id if user else None,
    )
    _login_failed(session, actor, "password", reason)
    if await login_throttle.count_failure(session, settings, key, utcnow()):
        details: dict[str, audit.DetailValue] = {
            "grant_type": "password",
            "locked_for_seconds": settings.login_lock_seconds,
        }
        audit.record(session, actor, "auth.locked", "user", actor.id, details=details)
    raise OAuthError("invalid_grant", "The username or password is not correct.", audited=True)


async def create_user(
    session: AsyncSession,
    actor: AuditActor,
    *,
    username: str,
    password: str | None,
    role: Role,
    agency_id: uuid.UUID | None,
    display_name: str = "",
    email: str | None = None,
) -> User:
    """Add a staff account; agency roles need an agency, platform roles must not have one."""
    await _check_agency(session, role, agency_id)
    name = username.strip().lower()
    if await session.scalar(select(col(User.id)).where(col(User.username) == name)):
        raise Conflict(f"A user named {name!r} already exists.")
    user = User(
        username=name,
        password_hash=hash_secret(password) if password else None,
        role=role,
        agency_id=agency_id,
        display_name=display_name,
        email=email,
    )
    session.add(user)
    await session.flush()
    audit.record(session, actor, "user.created", "user", user.id, details={"role": role.value})
    return user


async def _check_agency(session: AsyncSession, role: Role, agency_id: uuid.UUID | None) -> None:
    if (role in AGENCY_ROLES) != (agency_id is not None):
        raise Unprocessable.field(
            "agency_id", f"role {role.value} {'needs' if role in AGENCY_ROLES else 'takes no'} agency"
        )
    if agency_id is not None:
        await directory.get_agency(session, agency_id, field="agency_id")


async def create_client(
    session: AsyncSession,
    actor: AuditActor,
    *,
    client_id: str,
    secret: str,
    name: str,
    agency_id: uuid.UUID | None,
    scopes: Iterable[Scope],
) -> ApiClient:
    """Register a partner system with the scopes it may ask for."""
    if agency_id is not None:
        await directory.get_agency(session, agency_id, field="agency_id")
    if await session.scalar(select(col(ApiClient.id)).where(col(ApiClient.client_id) == client_id)):
        raise Conflict(f"A client with id {client_id!r} already exists.")
    granted = sorted({Scope(s).value for s in scopes})
    client = ApiClient(
        client_id=client_id, secret_hash=hash_secret(secret), name=name, agency_id=agency_id, scopes=granted
    )
    session.add(client)
    await session.flush()
    audit.record(session, actor, "client.created", "client", client.client_id, details={"scopes": granted})
    return client
