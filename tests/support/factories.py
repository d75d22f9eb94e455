"""Small async factories: each creates one thing through the service layer and commits it."""

import uuid
from collections.abc import Iterable
from typing import TypeVar

import httpx
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import get_settings
from app.db import get_engine, utcnow
from app.journal.sequencer import Batch
from app.models.audit import ActorKind, AuditActor
from app.models.directory import Agency, AgencyCreate, AgencyKind, Purpose, Service, ServiceCreate
from app.models.identity import ROLE_SCOPES, ApiClient, Role, Scope, User
from app.security import Principal, issue_token
from app.services import audit, directory, identity
from app.unit_of_work import committed
from app.worker import seal_pending

T = TypeVar("T")
SYSTEM = AuditActor(kind=ActorKind.SYSTEM, id="tests")


async def make_agency(
    kind: AgencyKind = AgencyKind.OTHER, name: str | None = None, local_authority: str = "Wrexham"
) -> Agency:
    body = AgencyCreate(
        name=name or f"Agency {uuid.uuid4().hex[:6]}", kind=kind, local_authority=local_authority
    )
    return await committed(lambda s: directory.create_agency(s, SYSTEM, body))


async def make_service(
    agency: Agency,
    purposes: Iterable[Purpose] = (Purpose.DEBT_ADVICE,),
    *,
    name: str | None = None,
    accepting_referrals: bool = True,
    response_target_days: int = 5,
) -> Service:
    body = ServiceCreate(
        agency_id=agency.id,
        name=name or f"Service {uuid.uuid4().hex[:6]}",
        purposes=list(purposes),
        accepting_referrals=accepting_referrals,
        response_target_days=response_target_days,
    )
    return await committed(lambda s: directory.create_service(s, SYSTEM, body))


async def make_user(
    agency: Agency | None,
    role: Role = Role.CASEWORKER,
    password: str = "correct horse",
    username: str | None = None,
    email: str | None = None,
) -> User:
    name = username or f"user-{uuid.uuid4().hex[:8]}"
    return await committed(
        lambda s: identity.create_user(
            s,
            SYSTEM,
            username=name,
            password=password,
            role=role,
            agency_id=agency.id if agency else None,
            display_name=name.title(),
            email=email,
        )
    )


async def make_client(
    agency: Agency | None, scopes: Iterable[Scope], secret: str = "s3cret-value"
) -> ApiClient:
    client_id = f"client-{uuid.uuid4().hex[:8]}"
    return await committed(
        lambda s: identity.create_client(
            s,
            SYSTEM,
            client_id=client_id,
            secret=secret,
            name="Test client",
            agency_id=agency.id if agency else None,
            scopes=scopes,
        )
    )


# Tokens minted by `bearer`, by token: each is backed by a real account, made on first use in
# every test (the database is emptied between tests), so the revocation check sees an account.
MINTED: dict[str, Principal] = {}


def bearer(
    agency: Agency | None,
    role: Role = Role.CASEWORKER,
    *,
    scopes: Iterable[str] | None = None,
    ttl: int = 600,
) -> dict[str, str]:
    """Headers with a token minted directly, for tests that are not about logging in."""
    granted = frozenset(scopes) if scopes is not None else frozenset(s.value for s in ROLE_SCOPES[role])
    principal = Principal(ActorKind.USER, str(uuid.uuid4()), agency.id if agency else None, granted, role)
    token = issue_token(principal, get_settings(), ttl)
    MINTED[token] = principal
    return {"Authorization": f"Bearer {token}"}


async def back_minted_token(request: httpx.Request) -> None:
    """Create the account behind a `bearer` token, if this test has not yet (an httpx request hook)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    principal = MINTED.get(token) if scheme == "Bearer" else None
    if principal is None:
        return
    user_id = uuid.UUID(principal.id)
    async with get_engine().begin() as conn:
        if await conn.scalar(select(col(User.id)).where(col(User.id) == user_id)) is not None:
            return
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        # Requests sent at once with one new token race to make its account: the first wins.
        statement = dialect.insert(User).values(
            id=user_id,
            username=f"minted-{user_id.hex}",
            role=principal.role,
            agency_id=principal.agency_id,
            is_active=True,
            token_version=0,
            created_at=utcnow(),
        )
        await conn.execute(statement.on_conflict_do_nothing())


async def password_token(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/v1/oauth/token", data={"grant_type": "password", "username": username, "password": password}
    )


async def record_events(
    count: int,
    *,
    action: str = "test.recorded",
    actor: AuditActor = SYSTEM,
    referral_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None,
) -> None:
    """Append `count` audit events in one unit of work, as a service would record them."""

    async def work(session: AsyncSession) -> None:
        for n in range(count):
            audit.record(session, actor, action, "test", n, referral_id=referral_id, subject_id=subject_id)

    await committed(work)


async def seal() -> Batch | None:
    """Seal every committed audit event and position every committed domain event, as the worker does."""
    return await seal_pending(get_settings(), wait=True)
