"""The referral state machine: which moves exist, and which party may make each."""

from enum import StrEnum

from app.errors import Conflict, Forbidden, Unprocessable
from app.models.referral import (
    CancelReason,
    DeclineReason,
    Referral,
    ReferralPublic,
    ReferralStatus,
    TransitionRequest,
)
from app.security import Principal

Status = ReferralStatus

TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    Status.SUBMITTED: frozenset(
        {Status.RECEIVED, Status.ACCEPTED, Status.DECLINED, Status.CANCELLED, Status.WITHDRAWN}
    ),
    Status.RECEIVED: frozenset({Status.ACCEPTED, Status.DECLINED, Status.CANCELLED, Status.WITHDRAWN}),
    Status.ACCEPTED: frozenset(
        {Status.HANDOVER_SCHEDULED, Status.IN_PROGRESS, Status.COMPLETED, Status.CANCELLED, Status.WITHDRAWN}
    ),
    Status.HANDOVER_SCHEDULED: frozenset(
        {Status.IN_PROGRESS, Status.COMPLETED, Status.CANCELLED, Status.WITHDRAWN}
    ),
    Status.IN_PROGRESS: frozenset({Status.COMPLETED, Status.WITHDRAWN}),
    Status.DECLINED: frozenset(),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}


class Party(StrEnum):
    SENDER = "sender"
    RECEIVER = "receiver"


PARTY_MOVES: dict[Party, frozenset[ReferralStatus]] = {
    Party.RECEIVER: frozenset(
        {
            Status.RECEIVED,
            Status.ACCEPTED,
            Status.DECLINED,
            Status.HANDOVER_SCHEDULED,
            Status.IN_PROGRESS,
            Status.COMPLETED,
        }
    ),
    Party.SENDER: frozenset({Status.CANCELLED}),
}
# `withdrawn` is in the machine but no party may choose it: only withdrawing consent does.


def party_of(referral: Referral, principal: Principal) -> Party | None:
    """Whether the caller's agency sent or received the referral (None: neither)."""
    if principal.agency_id is None:
        return None
    if principal.agency_id == referral.to_agency_id:
        return Party.RECEIVER
    if principal.agency_id == referral.from_agency_id:
        return Party.SENDER
    return None


def allowed_actions(
    referral: Referral | ReferralPublic, party: Party, can_write: bool
) -> list[ReferralStatus]:
    """The states this caller may move the referral to now, in the machine's order."""
    if not can_write:
        return []
    moves = TRANSITIONS[referral.status] & PARTY_MOVES[party]
    if referral.outcome_count == 0:
        moves -= {Status.COMPLETED}
    return [s for s in ReferralStatus if s in moves]


def check_move(referral: Referral, party: Party, request: TransitionRequest) -> None:
    """Refuse a move the machine forbids (409), another party's (403), or one missing its details (422)."""
    target, allowed = request.to, allowed_actions(referral, party, can_write=True)
    if target not in TRANSITIONS[referral.status]:
        status = referral.status.value
        article = "An" if status[0] in "aeiou" else "A"
        raise Conflict(f"{article} {status} referral cannot move to {target.value}.", allowed_actions=allowed)
    if target not in PARTY_MOVES[party]:
        who = "only by withdrawing consent" if target == Status.WITHDRAWN else "only by the other agency"
        raise Forbidden(f"Moving to {target.value} is done {who}.", allowed_actions=allowed)
    if target == Status.COMPLETED and referral.outcome_count == 0:
        raise Conflict("Record at least one outcome before completing the referral.", allowed_actions=allowed)
    _check_details(request)


def _check_details(request: TransitionRequest) -> None:
    if request.to == Status.DECLINED:
        _require_code(request.reason_code, DeclineReason, "a decline needs reason_code")
    elif request.to == Status.CANCELLED:
        if request.reason_code is not None or not (request.note or "").strip():
            _require_code(request.reason_code, CancelReason, "a cancellation needs reason_code or a note")
    elif request.to == Status.HANDOVER_SCHEDULED and request.appointment is None:
        raise Unprocessable.field(
            "appointment", "scheduling a handover needs starts_at, location and with_whom"
        )


def _require_code(code: str | None, codes: type[StrEnum], message: str) -> None:
    if code not in {c.value for c in codes}:
        allowed = ", ".join(c.value for c in codes)
        raise Unprocessable.field("reason_code", f"{message}; one of: {allowed}")
