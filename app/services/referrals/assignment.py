"""Who in the receiving agency has a referral in hand: taken, handed over or let go by its caseworkers."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Forbidden, Unprocessable
from app.models.events import EventType
from app.models.identity import User
from app.models.referral import AssignmentRequest, ReferralPublic
from app.services.referrals import read_state
from app.services.referrals.access import PartyAccess, audit_for, emit_for, to_public
from app.services.workflow import Party


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
