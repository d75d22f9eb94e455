"""Password and secret hashing, and the signed access tokens that carry a principal."""

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jose import JWTError, jwt

from app.config import Settings, get_settings
from app.db import utcnow
from app.errors import Forbidden
from app.models.audit import ActorKind, AuditActor
from app.models.identity import Role, Scope


@lru_cache
def _hasher() -> tuple[PasswordHasher, str]:
    settings = get_settings()
    hasher = PasswordHasher(
        time_cost=settings.password_hash_time_cost, memory_cost=settings.password_hash_memory_kib
    )
    # Verified against when the account does not exist, so both paths cost the same time.
    return hasher, hasher.hash(secrets.token_urlsafe(16))


def hash_secret(secret: str) -> str:
    """An Argon2id hash of a password or client secret."""
    return _hasher()[0].hash(secret)


def verify_secret(secret: str, secret_hash: str | None) -> bool:
    """Whether `secret` matches; the same work whether or not the account exists."""
    hasher, dummy = _hasher()
    try:
        return hasher.verify(secret_hash or dummy, secret) and secret_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_client_secret() -> str:
    return "rxs_" + secrets.token_urlsafe(32)


def new_client_id() -> str:
    return "rxc_" + secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a staff user or a partner system, with their agency and scopes."""

    kind: ActorKind
    id: str
    agency_id: uuid.UUID | None
    scopes: frozenset[str]
    role: Role | None = None
    # The account's token version when the token was issued; a raised version revokes it.
    version: int = 0

    @property
    def actor(self) -> AuditActor:
        return AuditActor(kind=self.kind, id=self.id, agency_id=self.agency_id)

    def has(self, scope: Scope) -> bool:
        return scope.value in self.scopes


def agency_of(who: "Principal | AuditActor") -> uuid.UUID:
    """The caller's agency; 403 for platform accounts, which act for none."""
    if who.agency_id is None:
        raise Forbidden("This operation is for accounts that act for an agency; this one acts for none.")
    return who.agency_id


class InvalidToken(Exception):
    """The token is missing a claim, expired, for another audience, or tampered with."""


# Clocks of the hosts that issue and check tokens may disagree by this much.
CLOCK_SKEW_SECONDS = 30
REQUIRED_CLAIMS = ("aud", "iss", "exp", "iat", "sub")


def issue_token(principal: Principal, settings: Settings, ttl_seconds: int) -> str:
    """Sign a JWT carrying the principal's subject, agency, role, scopes and expiry."""
    now = utcnow()
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": principal.id,
        "kind": principal.kind.value,
        "agency_id": str(principal.agency_id) if principal.agency_id else None,
        "role": principal.role.value if principal.role else None,
        "scope": " ".join(sorted(principal.scopes)),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": uuid.uuid4().hex,
        "ver": principal.version,
    }
    return str(jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithm))


def read_token(token: str, settings: Settings) -> Principal:
    """Verify signature, expiry, issuer and audience, and rebuild the principal."""
    principal, expires_at = _verified(
        token,
        settings.jwt_secret.get_secret_value(),
        settings.jwt_algorithm,
        settings.jwt_audience,
        settings.jwt_issuer,
    )
    if expires_at < time.time():
        raise InvalidToken("Signature has expired.")
    return principal


# A client sends the same token with many requests, and checking its signature and claims
# again each time cost more than the rest of authentication. Only tokens that passed are
# kept (a token string always verifies the same way), and expiry is checked on every use.
@lru_cache(maxsize=4096)
def _verified(token: str, secret: str, algorithm: str, audience: str, issuer: str) -> tuple[Principal, int]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            options={f"require_{claim}": True for claim in REQUIRED_CLAIMS},
        )
        _check_issued_in_past(claims["iat"])
        principal = Principal(
            kind=ActorKind(claims["kind"]),
            id=str(claims["sub"]),
            agency_id=uuid.UUID(claims["agency_id"]) if claims.get("agency_id") else None,
            scopes=frozenset(str(claims.get("scope", "")).split()),
            role=Role(claims["role"]) if claims.get("role") else None,
            version=int(claims.get("ver", 0)),
        )
        return principal, int(claims["exp"])
    except (JWTError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc


def _check_issued_in_past(issued_at: int) -> None:
    # A token dated ahead was minted by a host with a wrong clock or by someone holding the
    # key; either way its lifetime cannot be trusted.
    if issued_at > time.time() + CLOCK_SKEW_SECONDS:
        raise InvalidToken("The token was issued in the future.")
