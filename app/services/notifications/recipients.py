"""Who receives a notification: a person if they are active, present and want it, else their team.

A team is a service's shared address when it has one, else the agency's active caseworkers who
are not away and have not turned the kind off, else (everyone away) the agency's contact address.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.directory import Agency, Service
from app.models.identity import NotificationChoice, NotificationKind, Role, User


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str
    agency_id: uuid.UUID
    user_id: uuid.UUID | None = None
    choice: NotificationChoice = NotificationChoice.IMMEDIATE
    # A person's own language; a team's shared address (no one person's) is written to in both.
    language: str | None = None


def _present(user: User | None, now: datetime) -> bool:
    return user is not None and user.is_active and not user.is_away(now) and bool(user.email)


def _wanting(users: list[User], kind: NotificationKind) -> list[Recipient]:
    found = []
    for user in users:
        choice = user.preferences().choice(kind)
        if choice != NotificationChoice.OFF and user.email and user.agency_id:
            found.append(Recipient(user.email, user.agency_id, user.id, choice, user.language))
    return found


async def team(
    session: AsyncSession,
    agency_id: uuid.UUID,
    kind: NotificationKind,
    now: datetime,
    service_id: uuid.UUID | None = None,
) -> list[Recipient]:
    """A service's team address, else the agency's present caseworkers who want this kind."""
    service = await session.get(Service, service_id) if service_id else None
    if service is not None and service.contact_email:
        return [Recipient(service.contact_email, agency_id)]
    query = select(User).where(col(User.agency_id) == agency_id, col(User.role) == Role.CASEWORKER)
    present = [u for u in (await session.execute(query)).scalars() if _present(u, now)]
    if present:
        return _wanting(present, kind)
    agency = await session.get(Agency, agency_id)
    return [Recipient(agency.contact_email, agency_id)] if agency and agency.contact_email else []


async def person_or_team(
    session: AsyncSession,
    user_id: uuid.UUID | None,
    agency_id: uuid.UUID,
    kind: NotificationKind,
    now: datetime,
    service_id: uuid.UUID | None = None,
) -> list[Recipient]:
    """The person, if active and present in that agency (and wanting it); else their team."""
    user = await session.get(User, user_id) if user_id else None
    if user is not None and user.agency_id == agency_id and _present(user, now):
        return _wanting([user], kind)
    return await team(session, agency_id, kind, now, service_id)


async def agency_staff(
    session: AsyncSession, agency_id: uuid.UUID, kind: NotificationKind, now: datetime
) -> list[Recipient]:
    """Everyone of the agency who is present and wants this kind (digests), else the agency's address."""
    query = select(User).where(col(User.agency_id) == agency_id)
    present = [u for u in (await session.execute(query)).scalars() if _present(u, now)]
    if present:
        return _wanting(present, kind)
    return await team(session, agency_id, kind, now)
