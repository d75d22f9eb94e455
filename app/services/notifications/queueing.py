"""Queueing notifications in the unit of work of the change they announce.

Added to the same transaction, a notification exists exactly when its change was committed.
A recipient who chose a daily digest has theirs held, to be folded into the next digest.
"""

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.models.audit import ActorKind
from app.models.identity import NotificationChoice, NotificationKind
from app.models.notification import Notification, NotificationStatus
from app.models.outcome import OutcomeType
from app.models.referral import DeclineReason, Referral, ReferralPublic, ReferralStatus, TransitionRequest
from app.security import Principal
from app.services.notifications import composing, recipients, wording
from app.services.notifications.composing import ReferralNames
from app.services.notifications.recipients import Recipient
from app.services.notifications.wording import Compose, Words
from app.web.i18n import N_
from app.web.labels import DECLINE_REASONS, OUTCOMES

# The status changes the other agency is told of: the headline, and what changed.
ANNOUNCED = {
    ReferralStatus.ACCEPTED: (N_("Referral accepted"), N_("the referral was accepted")),
    ReferralStatus.DECLINED: (N_("Referral declined"), N_("the referral was declined (reason: %(reason)s)")),
    ReferralStatus.HANDOVER_SCHEDULED: (N_("Handover scheduled"), N_("a handover was scheduled")),
    ReferralStatus.COMPLETED: (N_("Referral completed"), N_("the referral was completed")),
    ReferralStatus.WITHDRAWN: (
        N_("Referral withdrawn"),
        N_("the referral was withdrawn: the person withdrew their consent"),
    ),
    ReferralStatus.CANCELLED: (N_("Referral cancelled"), N_("the referral was cancelled by the referrer")),
}


def queue(
    session: AsyncSession,
    to: Iterable[Recipient],
    kind: NotificationKind,
    compose: Compose,
    names: ReferralNames | None = None,
) -> None:
    """One notification per address (a person on two lists is told once), in its recipient's language."""
    seen: set[str] = set()
    for recipient in to:
        if recipient.email.lower() in seen:
            continue
        seen.add(recipient.email.lower())
        subject, body = wording.in_language(compose, recipient.language)
        held = recipient.choice == NotificationChoice.DAILY_DIGEST
        session.add(
            Notification(
                agency_id=recipient.agency_id,
                kind=kind,
                recipient_user_id=recipient.user_id,
                recipient_email=recipient.email,
                referral_id=names.id if names else None,
                referral_reference=names.reference if names else None,
                subject=subject,
                body=body,
                language=recipient.language,
                link=names.link if names else None,
                status=NotificationStatus.HELD if held else NotificationStatus.PENDING,
                next_attempt_at=None if held else utcnow(),
            )
        )


async def referral_created(session: AsyncSession, public: ReferralPublic) -> None:
    """Tell the receiving service's team of a new referral."""
    names = await composing.names_of(session, public.id)
    kind, now = NotificationKind.NEW_REFERRAL, utcnow()
    to = await recipients.team(session, names.to_agency_id, kind, now, names.to_service_id)
    headline, change = Words(N_("New referral from %(from_agency)s")), Words(N_("a new referral was sent"))
    queue(session, to, kind, composing.about(names, headline, change), names)


async def _other_party(
    session: AsyncSession, referral: Referral, by_agency_id: uuid.UUID | None, kind: NotificationKind
) -> list[Recipient]:
    """The agency (or both, for a change neither made) that did not make the change."""
    to = []
    for agency_id in (referral.from_agency_id, referral.to_agency_id):
        if by_agency_id != agency_id:
            to += await _party(session, referral, agency_id, kind)
    return to


async def _party(
    session: AsyncSession, referral: Referral, agency_id: uuid.UUID, kind: NotificationKind
) -> list[Recipient]:
    """Who speaks for one party: the sender who sent it, or the receiver's assignee; else their team."""
    now = utcnow()
    if agency_id == referral.from_agency_id:
        sender = uuid.UUID(referral.from_actor_id) if referral.from_actor_kind == ActorKind.USER else None
        return await recipients.person_or_team(session, sender, agency_id, kind, now)
    return await recipients.person_or_team(
        session, referral.assigned_to_user_id, agency_id, kind, now, referral.to_service_id
    )


async def _tell_other_party(
    session: AsyncSession,
    referral: Referral,
    principal: Principal,
    kind: NotificationKind,
    headline: Words,
    change: Words,
) -> None:
    to = await _other_party(session, referral, principal.agency_id, kind)
    if to:
        names = await composing.names_of(session, referral.id)
        queue(session, to, kind, composing.about(names, headline, change), names)


async def referral_moved(
    session: AsyncSession, referral: Referral, principal: Principal, request: TransitionRequest
) -> None:
    """Tell the other agency of an acceptance, decline, handover, completion, withdrawal or cancellation."""
    said = ANNOUNCED.get(request.to)
    if said is None:
        return
    reason = _reason(request)
    headline, change = Words(said[0]), Words(said[1], {"reason": reason})
    await _tell_other_party(session, referral, principal, NotificationKind.REFERRAL_UPDATE, headline, change)


def _reason(request: TransitionRequest) -> str:
    """The words for a decline's reason (the message id, put in each recipient's language)."""
    if request.to != ReferralStatus.DECLINED or request.reason_code not in {r.value for r in DeclineReason}:
        return ""
    return DECLINE_REASONS[DeclineReason(str(request.reason_code))]


async def appointment_changed(session: AsyncSession, referral: Referral, principal: Principal) -> None:
    """Tell the other agency that the handover appointment moved (never where or with whom)."""
    await _tell_other_party(
        session,
        referral,
        principal,
        NotificationKind.REFERRAL_UPDATE,
        Words(N_("Handover appointment changed")),
        Words(N_("the handover appointment was changed")),
    )


async def outcome_recorded(
    session: AsyncSession, referral: Referral, principal: Principal, outcome_type: str
) -> None:
    """Tell the other agency that an outcome was recorded, and of what type."""
    said = OUTCOMES.get(OutcomeType(outcome_type), outcome_type)
    change = Words(N_("outcome recorded: %(outcome)s"), {"outcome": said})
    kind = NotificationKind.REFERRAL_UPDATE
    await _tell_other_party(session, referral, principal, kind, Words(N_("Outcome recorded")), change)


async def message_posted(session: AsyncSession, referral: Referral, principal: Principal) -> None:
    """Tell the other agency that a message is waiting (never what it says)."""
    kind = NotificationKind.MESSAGE
    headline, change = Words(N_("New message")), Words(N_("a new message is waiting in the referral"))
    await _tell_other_party(session, referral, principal, kind, headline, change)


async def follow_up_due(session: AsyncSession, referral: Referral, agency_id: uuid.UUID, what: str) -> None:
    """Tell the one agency that must follow up (never the other party) what is due."""
    kind = NotificationKind.FOLLOW_UP_DUE
    to = await _party(session, referral, agency_id, kind)
    if to:
        names = await composing.names_of(session, referral.id)
        headline, change = Words(N_("Follow-up due")), Words(N_("follow-up due: %(what)s"), {"what": what})
        queue(session, to, kind, composing.about(names, headline, change), names)
