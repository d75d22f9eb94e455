"""What a PUT of a Task asks for: a move through the state machine, and new outcomes as outputs.

Only `status` (with `statusReason`) and `output` are read from the Task sent; everything else the
exchange derives (`businessStatus` always carries its own status). The move and the outcomes go
through the same services as /v1's transitions and outcomes, which decide whether they are allowed.
"""

from dataclasses import dataclass, field
from datetime import date

from app.errors import Unprocessable
from app.fhir import codes
from app.fhir.inbound import as_model, required
from app.fhir.shapes import Json
from app.models.outcome import OutcomeCreate, OutcomeType
from app.models.referral import CancelReason, DeclineReason, ReferralStatus, TransitionRequest

Status = ReferralStatus
AT = "Task"
# Statuses that need no move: already there, or there by another road (a scheduled handover is
# `accepted`; a withdrawal is `cancelled`).
SAME: dict[str, frozenset[ReferralStatus]] = {
    "accepted": frozenset({Status.ACCEPTED, Status.HANDOVER_SCHEDULED}),
    "cancelled": frozenset({Status.CANCELLED, Status.WITHDRAWN}),
}
PATHS = {
    "to": f"{AT}.status",
    "reason_code": f"{AT}.statusReason",
    "note": f"{AT}.statusReason.text",
    "appointment": f"{AT}.businessStatus",
}


@dataclass
class TaskChange:
    """The move (if any) and the outcomes to record, in the order they are to be made."""

    move: TransitionRequest | None = None
    outcomes: list[OutcomeCreate] = field(default_factory=list)

    @property
    def completes(self) -> bool:
        return self.move is not None and self.move.to == Status.COMPLETED


def read(task: Json, current: ReferralStatus, recorded: set[str], paths: dict[str, str]) -> TaskChange:
    """The change a Task sent by PUT asks of a referral now in `current`, with outcome ids `recorded`."""
    paths.update(PATHS)
    return TaskChange(_move(task, current), _new_outcomes(task.get("output") or [], recorded))


def _move(task: Json, current: ReferralStatus) -> TransitionRequest | None:
    status = task.get("status", "")
    target = codes.TASK_MOVES.get(status)
    if target is None:
        moves = ", ".join(codes.TASK_MOVES)
        raise required(f"{AT}.status", f"{status!r} is not a status a referral's Task takes: {moves}")
    if target == current or current in SAME.get(status, ()):
        return None
    reason = task.get("statusReason") or {}
    if target in (Status.DECLINED, Status.CANCELLED) and not (reason.get("text") or "").strip():
        raise required(f"{AT}.statusReason.text", f"a Task {status} says why, in statusReason.text")
    return TransitionRequest(to=target, reason_code=_reason_code(target, reason), note=reason.get("text"))


def _reason_code(target: ReferralStatus, reason: Json) -> str | None:
    """The decline or cancel reason coded in statusReason; a decline explained in words alone is `other`."""
    if target == Status.DECLINED:
        code = codes.code_in("decline-reason", reason, DeclineReason)
        return str(code or DeclineReason.OTHER)
    if target == Status.CANCELLED:
        code = codes.code_in("cancel-reason", reason, CancelReason)
        return str(code) if code else None
    return None


def _new_outcomes(outputs: list[Json], recorded: set[str]) -> list[OutcomeCreate]:
    """Outputs without the id of an outcome already recorded are new outcomes.

    Outcomes are never removed: an output left out of the Task sent stays recorded.
    """
    found = []
    for index, item in enumerate(outputs):
        where = f"{AT}.output[{index}]"
        if item.get("id") in recorded:
            continue
        if item.get("id") is not None:
            raise required(f"{where}.id", "no such outcome on this Task: leave the id out of a new output")
        found.append(_outcome(item, where))
    return found


def _outcome(item: Json, where: str) -> OutcomeCreate:
    kind = codes.code_in("outcome-type", item.get("type"), OutcomeType)
    value = codes.code_in("outcome-type", item.get("valueCodeableConcept"), OutcomeType)
    if kind is None or value != kind:
        raise required(
            where, f"type and valueCodeableConcept both coded with one {codes.system('outcome-type')}"
        )
    extensions = {e.get("url"): e for e in item.get("extension") or []}
    occurred = extensions.get(codes.extension("outcome-occurred-on"), {}).get("valueDate")
    note = extensions.get(codes.extension("outcome-note"), {}).get("valueString")
    values = {"type": kind, "occurred_on": occurred or date.today().isoformat(), "note": note}
    try:
        return as_model(OutcomeCreate, values)
    except Unprocessable as exc:  # its date (in the future?) or note: the output's own extensions
        raise required(f"{where}.extension", exc.detail) from None
