"""Moving a referral through the state machine, with its history, audit event and partner event."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.errors import PreconditionFailed, PreconditionRequired
from app.models.audit import AuditActor
from app.models.events import EventType
from app.models.referral import (
    TERMINAL_STATUSES,
    Referral,
    ReferralPublic,
    ReferralStatus,
    StatusChange,
    StatusChangePublic,
    TransitionRequest,
)
from app.persistence import rows
from app.security import Principal
from app.services import follow_ups, notifications, workflow
from app.services.referrals import read_state
from app.services.referrals.access import PartyAccess, ReferralFacts, audit_for, emit_for, etag, to_public


def expected_versions(if_match: str | None) -> set[int] | None:
    """Versions named by If-Match (None for `*`); 428 when the header is missing."""
    if if_match is None:
        raise PreconditionRequired("State changes need If-Match with the referral's ETag.")
    if if_match.strip() == "*":
        return None
    tags = (t.strip().removeprefix("W/").strip('"') for t in if_match.split(","))
    return {int(t) for t in tags if t.isdigit()}


async def transition(
    session: AsyncSession, access: PartyAccess, request: TransitionRequest, if_match: str | None
) -> ReferralPublic:
    """Move the referral if the caller's ETag is current and the move is theirs to make."""
    referral = access.referral
    await lock_current(session, referral, if_match)
    workflow.check_move(referral, access.party, request)
    await move(session, referral, access.principal, request)
    public = to_public(referral, access.principal, access.party)
    return await read_state.annotate(session, access.principal, access.party, referral, public)


async def lock_current(session: AsyncSession, referral: Referral, if_match: str | None) -> None:
    """Lock the referral, and refuse the change unless If-Match names its current version.

    Re-read under a row lock: of two concurrent changes from the same version, the second
    waits here, then sees the new version and gets 412.
    """
    expected = expected_versions(if_match)
    await session.refresh(referral, with_for_update=True)
    if expected is not None and referral.version not in expected:
        raise PreconditionFailed(
            "The referral has changed since you read it; fetch it again.",
            headers={"ETag": etag(referral)},
            current_version=referral.version,
        )


async def move(
    session: AsyncSession,
    referral: Referral,
    principal: Principal,
    request: TransitionRequest,
    shown_as: AuditActor | None = None,
) -> None:
    """Make a move already checked: the new status, its history entry, audit event and partner event.

    `shown_as` is the actor the referral's history names instead of the principal, for a move
    made on behalf of someone else; the audit trail always names the principal.
    """
    now, previous = utcnow(), referral.status
    referral.status, referral.version, referral.updated_at = request.to, referral.version + 1, now
    if request.to in {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED} and referral.decided_at is None:
        referral.decided_at = now
    if request.to in TERMINAL_STATUSES:
        referral.closed_at, referral.open_key = now, None
    if request.appointment is not None:
        referral.appointment = request.appointment.model_dump(mode="json")
    read_state.touch(referral, principal.agency_id, now)
    change = status_change(referral, now, principal, previous, request)
    if shown_as is not None:
        change |= _actor_columns(shown_as)
    await rows.insert_rows(session, rows.new_row(StatusChange, **change))
    details = {"from": previous.value, "to": request.to.value, "reason_code": request.reason_code}
    audit_for(session, principal, "referral.transitioned", referral, details=dict(details))
    emit_for(session, EventType.REFERRAL_STATUS_CHANGED, referral)
    await notifications.referral_moved(session, referral, principal, request)
    if request.to is ReferralStatus.WITHDRAWN:
        await follow_ups.close_on_withdrawal(session, referral)
    if request.to in TERMINAL_STATUSES and referral.return_to_referrer:
        await follow_ups.resume_support(session, principal, referral)


def status_change(
    referral: ReferralFacts,
    at: datetime,
    principal: Principal,
    previous: ReferralStatus | None,
    request: TransitionRequest | None = None,
) -> dict[str, Any]:
    """The values of one history entry: the move from `previous` to the referral's status."""
    appointment = request.appointment.model_dump(mode="json") if request and request.appointment else None
    return {
        "referral_id": referral.id,
        "from_status": previous,
        "to_status": referral.status,
        "actor_kind": principal.kind,
        "actor_id": principal.id,
        "actor_agency_id": principal.agency_id,
        "at": at,
        "reason_code": request.reason_code if request else None,
        "note": request.note if request else None,
        "appointment": appointment,
    }


def _actor_columns(actor: AuditActor) -> dict[str, Any]:
    return {"actor_kind": actor.kind, "actor_id": actor.id, "actor_agency_id": actor.agency_id}


def change_public(change: StatusChange) -> StatusChangePublic:
    """A history entry with its actor as the audit trail names actors."""
    actor = AuditActor(kind=change.actor_kind, id=change.actor_id, agency_id=change.actor_agency_id)
    return StatusChangePublic.model_validate(change, update={"actor": actor})
