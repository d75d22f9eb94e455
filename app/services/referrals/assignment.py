"""Who in the receiving agency has a referral in hand: taken, handed over or let go by its caseworkers."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.errors import Forbidden, Unprocessable
from app.models.events import EventType
from app.models.identity import AGENCY_ROLES, User
from app.models.referral import AssignmentRequest, ReferralPublic
from app.security import Principal, agency_of
from app.services.referrals import read_state
from app.services.referrals.access import PartyAccess, audit_for, emit_for, to_public
from app.services.workflow import Party


@dataclass(frozen=True, slots=True)
class Colleague:
    """A member of the agency's staff as the team sees them when handing work over."""

    id: uuid.UUID
    name: str
    # The moment they are back (they are away before it); None when not away.
    away_until: datetime | None
    active: bool

    @classmethod
    def of(cls, user: User) -> "Colleague":
        away = user.away_until if user.is_away(utcnow()) else None
        return cls(user.id, user.display_name or user.username, away, user.is_active)


async def team(session: AsyncSession, principal: Principal) -> list[Colleague]:
    """The caller's agency's active staff, by name: whom its referrals can be assigned to."""
    query = (
        select(User)
        .where(
            col(User.agency_id) == agency_of(principal),
            col(User.role).in_(AGENCY_ROLES),
            col(User.is_active).is_(True),
        )
        .order_by(func.lower(col(User.display_name)), col(User.username))
    )
    return [Colleague.of(user) for user in (await session.execute(query)).scalars()]


async def colleague(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> Colleague | None:
    """One member of the caller's agency's staff, active or not; None for anyone else."""
    user = await session.get(User, user_id)
    return Colleague.of(user) if user is not None and user.agency_id == agency_of(principal) else None


async def assign(session: AsyncSession, access: PartyAccess, body: AssignmentRequest) -> ReferralPublic:
    """Assign the referral to an active member of the receiving agency's staff, or to nobody."""
    referral, principal = access.referral, access.principal
    if access.party != Party.RECEIVER:
        raise Forbidden("Only the receiving agency assigns its referrals.")
    if body.user_id is not None:
        await _assignable(session, referral.to_agency_id, body.user_id)
    previous = referral.assigned_to_user_id
    referral.assigned_to_user_id = body.user_id
    details = {"from_user_id": _text(previous), "to_user_id": _text(body.user_id)}
    audit_for(session, principal, "referral.assigned", referral, details=dict(details))
    emit_for(session, EventType.REFERRAL_ASSIGNED, referral)
    await session.flush()
    return await read_state.annotate(
        session, principal, access.party, referral, to_public(referral, principal, access.party)
    )


async def _assignable(session: AsyncSession, agency_id: uuid.UUID, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or user.agency_id != agency_id or not user.is_active:
        raise Unprocessable.field("user_id", "is not an active member of the receiving agency's staff")
    return user


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value else None
