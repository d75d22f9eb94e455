"""An audit trail in plain words: who did what, for the timeline and its download.

The log holds codes and ids; these are the sentences auditors read for them, in the request's
language. An action with no sentence of its own is shown by its code, so nothing is hidden.
"""

from collections.abc import Callable
from typing import Any

from app import spreadsheet
from app.models.audit import ActorKind
from app.models.identity import Role
from app.models.outcome import OutcomeType
from app.models.referral import ReferralStatus
from app.services.actors import Actor
from app.services.trails import EventKind, TrailEntry, TrailEvent
from app.web import labels
from app.web.i18n import N_, gettext, ngettext

ROLES = {
    Role.AUDITOR: N_("auditor"),
    Role.PLATFORM_ADMIN: N_("platform admin"),
    Role.AGENCY_ADMIN: N_("agency admin"),
    Role.CASEWORKER: N_("caseworker"),
}
# The service's own workers and tools, by the id they act under.
SYSTEMS = {
    "follow-ups": N_("The service (follow-up checks)"),
    "retention": N_("The service (deleting data past its retention period)"),
    "webhook-worker": N_("The service (sending updates to partner systems)"),
    "cli": N_("An administrator, at the command line"),
    "seed-demo": N_("The service (demonstration data)"),
}
MOVES = {
    ReferralStatus.RECEIVED: N_("%(who)s marked the referral as received"),
    ReferralStatus.ACCEPTED: N_("%(who)s accepted the referral"),
    ReferralStatus.DECLINED: N_("%(who)s declined the referral"),
    ReferralStatus.HANDOVER_SCHEDULED: N_("%(who)s scheduled the handover"),
    ReferralStatus.IN_PROGRESS: N_("%(who)s started work on the referral"),
    ReferralStatus.COMPLETED: N_("%(who)s completed the referral"),
    ReferralStatus.CANCELLED: N_("%(who)s cancelled the referral"),
    ReferralStatus.WITHDRAWN: N_("%(who)s withdrew the referral, because consent was withdrawn"),
}
CHANGES = {
    "referral.created": N_("%(who)s made the referral"),
    "referral.details_corrected": N_("%(who)s corrected the person's details on the referral"),
    "referral.appointment_changed": N_("%(who)s changed the handover appointment"),
    "message.posted": N_("%(who)s sent a message"),
    "measure.recorded": N_("%(who)s recorded a measure of progress"),
    "follow_up.scheduled": N_("%(who)s set a follow-up"),
    "follow_up.announced": N_("%(who)s told the agency a follow-up is due"),
    "follow_up.completed": N_("%(who)s recorded the result of a follow-up"),
    "follow_up.snoozed": N_("%(who)s moved a follow-up to a later date"),
    "follow_up.closed": N_("%(who)s closed a follow-up"),
    "consent.recorded": N_("%(who)s recorded the person's consent"),
    "consent.withdrawn": N_("%(who)s recorded that the person withdrew their consent"),
    "subject.anonymised": N_("%(who)s removed the person's details at the end of the retention period"),
}
VIEWS = {
    "referral.viewed": N_("%(who)s opened the referral"),
    "history.viewed": N_("%(who)s read the referral's history"),
    "message.listed": N_("%(who)s read the messages"),
    "outcome.listed": N_("%(who)s read the outcomes"),
    "measure.listed": N_("%(who)s read the measures of progress"),
    "follow_up.listed": N_("%(who)s saw the referral's follow-ups in a list"),
    "audit.exported": N_("%(who)s downloaded the audit trail"),
    "subject.exported": N_("%(who)s exported everything held about the person"),
}


def who(actor: Actor) -> str:
    """A person by name and agency, a partner system by its name; the service's own work as such."""
    if actor.kind is ActorKind.USER and actor.name:
        if actor.agency:
            return gettext("%(name)s (%(agency)s)", name=actor.name, agency=actor.agency)
        return gettext(
            "%(name)s (%(role)s)", name=actor.name, role=gettext(ROLES[actor.role or Role.AUDITOR])
        )
    if actor.kind is ActorKind.CLIENT and actor.name:
        return gettext("%(name)s (partner system of %(agency)s)", name=actor.name, agency=actor.agency or "")
    if actor.kind is ActorKind.SYSTEM:
        return gettext(SYSTEMS.get(actor.id or "", N_("The service")))
    if actor.kind is ActorKind.SUBJECT:
        return gettext("The person referred")
    if actor.kind is ActorKind.ANONYMOUS:
        return gettext("Someone not signed in")
    return gettext("An account that no longer exists (%(id)s)", id=actor.id or "")


def sentence(event: TrailEvent, *, in_trail: bool) -> str:
    """What happened, as one sentence that names who did it."""
    name = who(event.actor)
    special = _SPECIAL.get(event.action)
    if special is not None:
        return special(event, name, in_trail)
    template = CHANGES.get(event.action) or VIEWS.get(event.action)
    if template is not None:
        return gettext(template, who=name)
    return gettext("%(who)s: %(action)s", who=name, action=event.action)


def line(entry: TrailEntry, in_trail: bool = True) -> str:
    """A timeline's line: the sentence, or for folded views how many times."""
    if entry.count == 1:
        return sentence(entry.event, in_trail=in_trail)
    name, count = who(entry.event.actor), entry.count
    folded = _FOLDED.get(entry.event.action)
    if folded is not None:
        return folded(name, count)
    return ngettext(
        "%(sentence)s (%(num)s time)",
        "%(sentence)s (%(num)s times)",
        count,
        sentence=sentence(entry.event, in_trail=in_trail),
    )


def notes(event: TrailEvent) -> list[str]:
    """The details worth reading under the sentence (codes as words; never the person's details)."""
    details = event.details
    found: list[str] = []
    if event.action == "referral.transitioned" and details.get("reason_code"):
        reason = _reason(details.get("to"), str(details["reason_code"]))
        found.append(gettext("Reason: %(reason)s", reason=reason))
    if event.action == "referral.created" and details.get("purpose") in labels.PURPOSES:
        found.append(gettext("Purpose: %(purpose)s", purpose=gettext(labels.PURPOSES[details["purpose"]])))
    if event.action == "referral.details_corrected" and details.get("fields"):
        found.append(gettext("Fields changed: %(fields)s", fields=", ".join(map(str, details["fields"]))))
    return found


def _reason(status: object, code: str) -> str:
    names: dict[Any, str] = (
        labels.DECLINE_REASONS if status == ReferralStatus.DECLINED else labels.CANCEL_REASONS
    )
    return gettext(names[code]) if code in names else code.replace("_", " ")


def _moved(event: TrailEvent, name: str, _in_trail: bool) -> str:
    to = event.details.get("to")
    template = MOVES.get(ReferralStatus(to)) if to in set(ReferralStatus) else None
    if template is None:
        return gettext("%(who)s changed the referral's status", who=name)
    return gettext(template, who=name)


def _assigned(event: TrailEvent, name: str, _in_trail: bool) -> str:
    if not event.details.get("to_user_id"):
        return gettext("%(who)s left the referral with nobody assigned", who=name)
    assignee = event.named.get("to_user_id")
    if assignee is None:
        return gettext("%(who)s assigned the referral to a member of staff", who=name)
    return gettext("%(who)s assigned the referral to %(assignee)s", who=name, assignee=assignee)


def _outcome(event: TrailEvent, name: str, _in_trail: bool) -> str:
    code = event.details.get("type")
    if code not in set(OutcomeType):
        return gettext("%(who)s recorded an outcome", who=name)
    outcome = gettext(labels.OUTCOMES[OutcomeType(str(code))])
    return gettext("%(who)s recorded an outcome: %(outcome)s", who=name, outcome=outcome)


def _listed(_event: TrailEvent, name: str, in_trail: bool) -> str:
    if in_trail:
        return gettext("%(who)s saw the referral in a list of referrals", who=name)
    return gettext("%(who)s looked at a list of referrals", who=name)


def _searched(event: TrailEvent, name: str, in_trail: bool) -> str:
    if in_trail:
        return gettext("%(who)s read this audit trail", who=name)
    by = event.details.get("by")
    if by == "reference":
        return gettext("%(who)s searched the audit log for a referral by its reference", who=name)
    if by == "name":
        return gettext("%(who)s searched the audit log for a person by name", who=name)
    return gettext("%(who)s searched the audit log", who=name)


Special = Callable[[TrailEvent, str, bool], str]
_SPECIAL: dict[str, Special] = {
    "referral.transitioned": _moved,
    "referral.assigned": _assigned,
    "outcome.recorded": _outcome,
    "referral.listed": _listed,
    "audit.searched": _searched,
}
# Views folded per person per day, in words that count them (plural forms differ by language).
_FOLDED: dict[str, Callable[[str, int], str]] = {
    "referral.viewed": lambda name, n: ngettext(
        "%(who)s opened the referral %(num)s time", "%(who)s opened the referral %(num)s times", n, who=name
    ),
    "referral.listed": lambda name, n: ngettext(
        "%(who)s saw the referral in a list of referrals %(num)s time",
        "%(who)s saw the referral in a list of referrals %(num)s times",
        n,
        who=name,
    ),
    "audit.searched": lambda name, n: ngettext(
        "%(who)s read this audit trail %(num)s time",
        "%(who)s read this audit trail %(num)s times",
        n,
        who=name,
    ),
}

CSV_HEADER = [
    N_("Event number"),
    N_("Time (UTC)"),
    N_("Change or view"),
    N_("Who"),
    N_("Agency"),
    N_("What happened"),
    N_("Action"),
    N_("Details"),
]
KINDS = {EventKind.CHANGE: N_("Change"), EventKind.VIEW: N_("View")}


def trail_csv(events: list[TrailEvent]) -> str:
    """One row per event, in the log's order; text defused so a spreadsheet never runs it."""
    rows: list[list[object]] = [[gettext(h) for h in CSV_HEADER]]
    for event in events:
        rows.append(
            [
                event.seq,
                event.at.isoformat(),
                gettext(KINDS[event.kind]),
                who(event.actor),
                event.actor.agency,
                sentence(event, in_trail=True),
                event.action,
                "; ".join(f"{key}: {_flat(value)}" for key, value in sorted(event.details.items())),
            ]
        )
    return "".join(spreadsheet.line(row) for row in rows)


def _flat(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
