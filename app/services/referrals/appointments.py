"""Changing a handover appointment: by the receiver, while the handover is still to come.

The state machine has no move from `handover_scheduled` to itself, so a new time or place is
a change of its own: a new version, a history entry that says the appointment changed, an
audit event, and the other agency told (without where or with whom).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.errors import Conflict, Forbidden
from app.models.events import EventType
from app.models.referral import Appointment, HistoryKind, ReferralPublic, ReferralStatus, StatusChange
from app.persistence import rows
from app.services import notifications
from app.services.referrals import read_state
from app.services.referrals.access import PartyAccess, audit_for, emit_for, to_public
from app.services.referrals.moving import lock_current, status_change
from app.services.workflow import Party


async def change_appointment(
    session: AsyncSession, access: PartyAccess, appointment: Appointment, if_match: str | None
) -> ReferralPublic:
    """Move the handover appointment (the receiver only; needs If-Match)."""
    referral, principal = access.referral, access.principal
    if access.party != Party.RECEIVER:
        raise Forbidden("Only the agency that received the referral may change its appointment.")
    await lock_current(session, referral, if_match)
    if referral.status != ReferralStatus.HANDOVER_SCHEDULED:
        raise Conflict("There is no handover appointment to change.", allowed_actions=[])
    now = utcnow()
    referral.appointment = appointment.model_dump(mode="json")
    referral.version, referral.updated_at = referral.version + 1, now
    read_state.touch(referral, principal.agency_id, now)
    entry = status_change(referral, now, principal, referral.status) | {
        "kind": HistoryKind.APPOINTMENT_CHANGED,
        "appointment": referral.appointment,
    }
    await rows.insert_rows(session, rows.new_row(StatusChange, **entry))
    audit_for(session, principal, "referral.appointment_changed", referral)
    emit_for(session, EventType.APPOINTMENT_CHANGED, referral)
    await notifications.appointment_changed(session, referral, principal)
    public = to_public(referral, principal, access.party)
    return await read_state.annotate(session, principal, access.party, referral, public)
