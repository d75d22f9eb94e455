"""Who acted, as auditors read it: people by display name, partner systems by client name.

Audit events hold only ids (a user's id, a client's client_id, an agency's id); the names are
looked up when an auditor reads the trail, so no name is ever written into the log.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.audit import ActorKind, AuditEvent
from app.models.directory import Agency
from app.models.identity import ApiClient, Role, User

# How many accounts a search by name offers to choose from.
MATCH_LIMIT = 20
# Details that name a member of staff by id (a referral assigned from one person to another).
USER_DETAILS = ("from_user_id", "to_user_id")


@dataclass(frozen=True, slots=True)
class Actor:
    """One party to an event: a name where the account is known, the agency it acted for."""

    kind: ActorKind
    id: str | None
    name: str | None
    agency_id: uuid.UUID | None
    agency: str | None
    role: Role | None = None


@dataclass(frozen=True, slots=True)
class _Account:
    name: str
    role: Role | None
    agency_id: uuid.UUID | None


@dataclass
class Names:
    """Names of the accounts and agencies a set of events mentions."""

    users: dict[str, _Account] = field(default_factory=dict)
    clients: dict[str, _Account] = field(default_factory=dict)
    agencies: dict[uuid.UUID, str] = field(default_factory=dict)

    def actor(self, kind: ActorKind, actor_id: str | None, agency_id: uuid.UUID | None) -> Actor:
        """The actor of an event; the agency is the one it acted for at the time."""
        known = {ActorKind.USER: self.users, ActorKind.CLIENT: self.clients}.get(kind, {})
        account = known.get(actor_id or "")
        agency = self.agencies.get(agency_id) if agency_id else None
        role = account.role if account else None
        return Actor(kind, actor_id, account.name if account else None, agency_id, agency, role)

    def accounts(self) -> list[_Account]:
        return [*self.users.values(), *self.clients.values()]

    def user_name(self, user_id: object) -> str | None:
        account = self.users.get(str(user_id)) if user_id else None
        return account.name if account else None


async def names_for(session: AsyncSession, events: Iterable[AuditEvent]) -> Names:
    """The names behind every actor of `events`, and of the staff their details name."""
    users: set[str] = set()
    clients: set[str] = set()
    agencies: set[uuid.UUID] = set()
    for event in events:
        if event.actor_kind is ActorKind.USER and event.actor_id:
            users.add(event.actor_id)
        if event.actor_kind is ActorKind.CLIENT and event.actor_id:
            clients.add(event.actor_id)
        if event.actor_agency_id:
            agencies.add(event.actor_agency_id)
        users.update(str(event.details[key]) for key in USER_DETAILS if event.details.get(key))
    return await _lookup(session, users, clients, agencies)


async def _lookup(
    session: AsyncSession, user_ids: set[str], client_ids: set[str], agency_ids: set[uuid.UUID]
) -> Names:
    wanted = [found for found in (_as_uuid(u) for u in user_ids) if found is not None]
    users: Iterable[User] = []
    if wanted:
        users = (await session.execute(select(User).where(col(User.id).in_(wanted)))).scalars()
    clients: Iterable[ApiClient] = []
    if client_ids:
        by_client_id = col(ApiClient.client_id).in_(client_ids)
        clients = (await session.execute(select(ApiClient).where(by_client_id))).scalars()
    return await _names(session, users, clients, agency_ids)


async def _names(
    session: AsyncSession, users: Iterable[User], clients: Iterable[ApiClient], agency_ids: set[uuid.UUID]
) -> Names:
    """Names of these accounts, and of their agencies and the others named."""
    names = Names(
        users={str(u.id): _user(u) for u in users}, clients={c.client_id: _client(c) for c in clients}
    )
    agency_ids = agency_ids | {a.agency_id for a in names.accounts() if a.agency_id}
    if agency_ids:
        query = select(col(Agency.id), col(Agency.name)).where(col(Agency.id).in_(agency_ids))
        names.agencies = dict((await session.execute(query)).all())
    return names


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _user(user: User) -> _Account:
    return _Account(user.display_name or user.username, user.role, user.agency_id)


def _client(client: ApiClient) -> _Account:
    return _Account(client.name, None, client.agency_id)


async def one(session: AsyncSession, actor_id: str) -> Actor | None:
    """The member of staff or partner system with this id, as a search names it; None if unknown."""
    names = await _lookup(session, {actor_id}, {actor_id}, set())
    for kind in (ActorKind.USER, ActorKind.CLIENT):
        account = (names.users if kind is ActorKind.USER else names.clients).get(actor_id)
        if account is not None:
            return names.actor(kind, actor_id, account.agency_id)
    return None


async def named(session: AsyncSession, typed: str) -> list[Actor]:
    """Staff whose display name holds what was typed (or whose username it is), and partner
    systems whose name holds it; neither case nor extra spaces matter."""
    wanted = " ".join(typed.split()).lower()
    if not wanted:
        return []
    display = func.lower(col(User.display_name)).contains(wanted, autoescape=True)
    users = select(User).where(or_(display, col(User.username) == wanted)).order_by(col(User.display_name))
    system = func.lower(col(ApiClient.name)).contains(wanted, autoescape=True)
    clients = select(ApiClient).where(system).order_by(col(ApiClient.name))
    names = await _names(
        session,
        (await session.execute(users.limit(MATCH_LIMIT))).scalars(),
        (await session.execute(clients.limit(MATCH_LIMIT))).scalars(),
        set(),
    )
    people = [names.actor(ActorKind.USER, key, a.agency_id) for key, a in names.users.items()]
    systems = [names.actor(ActorKind.CLIENT, key, a.agency_id) for key, a in names.clients.items()]
    return (people + systems)[:MATCH_LIMIT]
