"""Follow-ups: the dates on which an agency gets back to a person, announced when they fall due.

A follow-up belongs to one agency, on a referral it is party to: a job entry it recorded (to
check at 13 and 26 weeks that the job was kept), or a referral it sent expecting the person
back (`resume_support`, due the day the referral closes). No other agency sees it, or hears
of it through events, webhooks or notifications.
"""

import uuid
from datetime import date, timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import get_settings
from app.db import utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.models.audit import ActorKind, AuditActor
from app.models.events import EventType
from app.models.follow_up import (
    FollowUp,
    FollowUpCompletion,
    FollowUpKind,
    FollowUpPublic,
    FollowUpRecord,
    FollowUpResult,
    FollowUpSnooze,
    FollowUpStatus,
)
from app.models.outcome import Outcome
from app.models.referral import Referral
from app.pagination import Keyset, Page, keyset_page
from app.security import Principal, agency_of
from app.services import audit, events, notifications, outcomes, workflow
from app.services.referrals.access import PartyAccess, ReferralFacts
from app.web.i18n import N_

KIND_BY_WEEKS = {13: FollowUpKind.JOB_SUSTAINMENT_13_WEEKS, 26: FollowUpKind.JOB_SUSTAINMENT_26_WEEKS}
# What a notification says is due (no personal data: the kind of check only).
WHAT_IS_DUE = {
    FollowUpKind.JOB_SUSTAINMENT_13_WEEKS: N_("check whether the job was kept for 13 weeks"),
    FollowUpKind.JOB_SUSTAINMENT_26_WEEKS: N_("check whether the job was kept for 26 weeks"),
    FollowUpKind.RESUME_SUPPORT: N_("the referral has closed; resume your support"),
}
# Who announces follow-ups falling due in the audit trail.
FOLLOW_UP_ACTOR = AuditActor(kind=ActorKind.SYSTEM, id="follow-ups")
# By due date. A follow-up snoozed while a client pages may move past its cursor: it then
# shows on a later page, never twice on one.
LIST_ORDER = Keyset("follow-ups", (col(FollowUp.due_on), col(FollowUp.id)), (date, uuid.UUID))


def today() -> date:
    """Today in UTC, the day follow-ups fall due by (tests may replace it)."""
    return utcnow().date()


def _on(given: date | None) -> date:
    return given or today()


def status_of(follow_up: FollowUp, on: date) -> FollowUpStatus:
    """Done once completed; due from its due date; upcoming before."""
    if follow_up.done_at is not None:
        return FollowUpStatus.DONE
    return FollowUpStatus.DUE if follow_up.due_on <= on else FollowUpStatus.UPCOMING


def to_public(follow_up: FollowUp, on: date) -> FollowUpPublic:
    return FollowUpPublic.model_validate(follow_up, update={"status": status_of(follow_up, on)})


def to_record(follow_up: FollowUp, on: date) -> FollowUpRecord:
    """What a subject access export shows of a follow-up."""
    return FollowUpRecord.model_validate(follow_up, update={"status": status_of(follow_up, on)})


def _audit(
    session: AsyncSession,
    actor: AuditActor,
    action: str,
    referral: ReferralFacts,
    follow_up: FollowUp,
    details: dict[str, audit.DetailValue] | None = None,
) -> None:
    audit.record(
        session,
        actor,
        action,
        "follow_up",
        follow_up.id,
        referral_id=referral.id,
        subject_id=referral.subject_id,
        details={"kind": follow_up.kind.value, "agency_id": str(follow_up.agency_id), **(details or {})},
    )


# Scheduling: from an outcome, and when a referral the sender expects the person back from closes.


def schedule_for_outcome(
    session: AsyncSession, principal: Principal, referral: Referral, outcome: Outcome
) -> None:
    """Follow-ups for the recording agency at the weeks FOLLOW_UP_WEEKS gives the outcome's type."""
    for weeks in sorted(set(get_settings().follow_up_weeks.get(outcome.type.value, []))):
        follow_up = FollowUp(
            referral_id=referral.id,
            kind=KIND_BY_WEEKS[weeks],
            due_on=outcome.occurred_on + timedelta(weeks=weeks),
            agency_id=outcome.recorded_by_agency_id,
            journey_id=referral.journey_id,
            source_outcome_id=outcome.id,
        )
        session.add(follow_up)
        details: dict[str, audit.DetailValue] = {"due_on": follow_up.due_on.isoformat()}
        _audit(session, principal.actor, "follow_up.scheduled", referral, follow_up, details)


async def resume_support(
    session: AsyncSession, principal: Principal, referral: Referral, on: date | None = None
) -> None:
    """The closed referral's sender gets the person back: a follow-up due today, announced at once."""
    due_on = _on(on)
    kind, agency_id = FollowUpKind.RESUME_SUPPORT, referral.from_agency_id
    follow_up = FollowUp(
        referral_id=referral.id, kind=kind, due_on=due_on, agency_id=agency_id, journey_id=referral.journey_id
    )
    session.add(follow_up)
    details: dict[str, audit.DetailValue] = {"due_on": due_on.isoformat()}
    _audit(session, principal.actor, "follow_up.scheduled", referral, follow_up, details)
    await _announce(session, follow_up, referral, due_on)


async def close_on_withdrawal(session: AsyncSession, referral: Referral) -> None:
    """Consent withdrawn: nobody follows the person up on this referral any more."""
    query = select(FollowUp).where(
        col(FollowUp.referral_id) == referral.id,
        col(FollowUp.done_at).is_(None),
        col(FollowUp.kind) != FollowUpKind.RESUME_SUPPORT,
    )
    for follow_up in (await session.execute(query.with_for_update())).scalars():
        follow_up.result, follow_up.done_at, follow_up.done_by = (
            FollowUpResult.CONSENT_WITHDRAWN,
            utcnow(),
            FOLLOW_UP_ACTOR.id,
        )
        _audit(
            session, FOLLOW_UP_ACTOR, "follow_up.closed", referral, follow_up, {"result": "consent_withdrawn"}
        )


# Falling due.


async def announce_due(session: AsyncSession, today: date | None = None) -> int:
    """Announce every open follow-up due by today not yet announced; how many.

    Rows are claimed with SKIP LOCKED, so two workers never announce one twice.
    """
    on = _on(today)
    query = (
        select(FollowUp)
        .where(
            col(FollowUp.done_at).is_(None),
            col(FollowUp.announced_on).is_(None),
            col(FollowUp.due_on) <= on,
        )
        .order_by(col(FollowUp.due_on), col(FollowUp.id))
        .with_for_update(skip_locked=True)
    )
    found = list((await session.execute(query)).scalars())
    for follow_up in found:
        referral = await session.get(Referral, follow_up.referral_id)
        assert referral is not None  # a foreign key
        await _announce(session, follow_up, referral, on)
    await session.flush()
    return len(found)


async def _announce(session: AsyncSession, follow_up: FollowUp, referral: Referral, on: date) -> None:
    """Mark it announced, tell the owning agency's systems and staff; the other party hears nothing."""
    follow_up.announced_on = on
    _audit(session, FOLLOW_UP_ACTOR, "follow_up.announced", referral, follow_up)
    sender_side = follow_up.agency_id == referral.from_agency_id
    events.emit(
        session,
        EventType.FOLLOW_UP_DUE,
        referral_id=referral.id,
        status=None,
        # Only the owning agency is named, on its own side of the referral, so the feed and
        # webhooks route the event to it alone.
        from_agency_id=follow_up.agency_id if sender_side else None,
        to_agency_id=None if sender_side else follow_up.agency_id,
    )
    await notifications.follow_up_due(session, referral, follow_up.agency_id, WHAT_IS_DUE[follow_up.kind])


# The owning agency's list and actions.


async def list_own(
    session: AsyncSession,
    principal: Principal,
    *,
    status: FollowUpStatus | None = None,
    due_before: date | None = None,
    cursor: str | None = None,
    limit: int = 50,
    today: date | None = None,
) -> Page[FollowUpPublic]:
    """The caller's agency's follow-ups by due date; the listing is audited against each referral shown."""
    on, agency_id = _on(today), agency_of(principal)
    query = _with_status(select(FollowUp).where(col(FollowUp.agency_id) == agency_id), status, on)
    if due_before is not None:
        query = query.where(col(FollowUp.due_on) < due_before)
    found, next_cursor = await keyset_page(session, query, LIST_ORDER, cursor, limit)
    await _audit_listing(session, principal, found)
    return Page(items=[to_public(f, on) for f in found], next_cursor=next_cursor)


def _with_status(query: Select[FollowUp], status: FollowUpStatus | None, on: date) -> Select[FollowUp]:
    done_at, due_on = col(FollowUp.done_at), col(FollowUp.due_on)
    if status == FollowUpStatus.DONE:
        return query.where(done_at.is_not(None))
    if status == FollowUpStatus.DUE:
        return query.where(done_at.is_(None), due_on <= on)
    if status == FollowUpStatus.UPCOMING:
        return query.where(done_at.is_(None), due_on > on)
    return query


async def _audit_listing(session: AsyncSession, principal: Principal, found: list[FollowUp]) -> None:
    """One event per referral shown, naming the follow-ups of it shown; one for an empty page."""
    if not found:
        audit.record(session, principal.actor, "follow_up.listed", "follow_up", None, details={"shown": 0})
        return
    shown: dict[uuid.UUID, list[str]] = {}
    for follow_up in found:
        shown.setdefault(follow_up.referral_id, []).append(str(follow_up.id))
    # Only the ids the trail links to: the referral rows themselves are wide and bring the person.
    query = select(col(Referral.id), col(Referral.subject_id)).where(col(Referral.id).in_(shown))
    for referral_id, subject_id in await session.execute(query):
        audit.record(
            session,
            principal.actor,
            "follow_up.listed",
            "follow_up",
            referral_id=referral_id,
            subject_id=subject_id,
            details={"follow_up_ids": list(shown[referral_id])},
        )


async def get_own(
    session: AsyncSession, principal: Principal, follow_up_id: uuid.UUID, today: date | None = None
) -> FollowUpPublic:
    """One of the caller's agency's follow-ups, done or not; 404 for any other.

    Not audited: a page shows of it what the audited list did (its kind, due date and referral).
    """
    follow_up = await session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.agency_id != agency_of(principal):
        raise NotFound(f"Follow-up {follow_up_id} not found.")
    return to_public(follow_up, _on(today))


async def list_for_referral(
    session: AsyncSession, access: PartyAccess, today: date | None = None
) -> list[FollowUpPublic]:
    """The caller's agency's follow-ups on one referral, by due date (the other party's stay hidden)."""
    query = (
        select(FollowUp)
        .where(
            col(FollowUp.referral_id) == access.referral.id,
            col(FollowUp.agency_id) == agency_of(access.principal),
        )
        .order_by(col(FollowUp.due_on), col(FollowUp.id))
    )
    found = list((await session.execute(query)).scalars())
    if found:
        await _audit_listing(session, access.principal, found)
    return [to_public(f, _on(today)) for f in found]


async def references_of(
    session: AsyncSession, principal: Principal, shown: list[FollowUpPublic]
) -> dict[uuid.UUID, str]:
    """The reference of each shown follow-up's referral, for a page to name and link it by.

    Only the caller's agency's follow-ups count: their referrals are ones it is party to.
    """
    agency_id = agency_of(principal)
    ids = {f.referral_id for f in shown if f.agency_id == agency_id}
    if not ids:
        return {}
    query = select(col(Referral.id), col(Referral.reference)).where(col(Referral.id).in_(ids))
    found = await session.execute(query)
    return {row[0]: row[1] for row in found.all()}


async def _load_own(
    session: AsyncSession, principal: Principal, follow_up_id: uuid.UUID
) -> tuple[FollowUp, PartyAccess]:
    """The follow-up, locked, if it is the caller's agency's; 404 for anyone else."""
    agency_id = agency_of(principal)
    follow_up = await session.get(FollowUp, follow_up_id, with_for_update=True)
    referral = await session.get(Referral, follow_up.referral_id) if follow_up else None
    party = workflow.party_of(referral, principal) if referral else None
    if follow_up is None or referral is None or party is None or follow_up.agency_id != agency_id:
        raise NotFound(f"Follow-up {follow_up_id} not found.")
    if follow_up.done_at is not None:
        raise Conflict("This follow-up is already done.")
    return follow_up, PartyAccess(referral, principal, party)


async def complete(
    session: AsyncSession,
    principal: Principal,
    follow_up_id: uuid.UUID,
    body: FollowUpCompletion,
    today: date | None = None,
) -> FollowUpPublic:
    """Done: with the outcome found (recorded on the referral like any outcome), or unable to contact."""
    follow_up, access = await _load_own(session, principal, follow_up_id)
    result = body.result or FollowUpResult.OUTCOME_RECORDED
    if result is FollowUpResult.SUPPORT_RESUMED and follow_up.kind is not FollowUpKind.RESUME_SUPPORT:
        raise Unprocessable.field("result", "support_resumed completes a resume_support follow-up only")
    if body.outcome is not None:
        # Through the outcomes service, so it is audited, rolled up and announced like any other.
        recorded = await outcomes.record(session, access, body.outcome, None)
        result, follow_up.outcome_id, follow_up.found = (
            FollowUpResult.OUTCOME_RECORDED,
            recorded.id,
            recorded.type,
        )
    follow_up.result, follow_up.done_at, follow_up.done_by = result, utcnow(), principal.id
    details: dict[str, audit.DetailValue] = {"result": result.value}
    if follow_up.outcome_id is not None:
        details["outcome_id"] = str(follow_up.outcome_id)
    _audit(session, principal.actor, "follow_up.completed", access.referral, follow_up, details)
    await session.flush()
    return to_public(follow_up, _on(today))


async def snooze(
    session: AsyncSession,
    principal: Principal,
    follow_up_id: uuid.UUID,
    body: FollowUpSnooze,
    today: date | None = None,
) -> FollowUpPublic:
    """Move the due date (today or later), with a note or none; it is announced again when it falls due.

    The note is this snooze's: a snooze without one clears an earlier snooze's, which no longer applies.
    """
    on = _on(today)
    follow_up, access = await _load_own(session, principal, follow_up_id)
    if body.due_on < on:
        raise Unprocessable.field("due_on", "cannot be in the past")
    follow_up.due_on, follow_up.snooze_note, follow_up.announced_on = body.due_on, body.note, None
    details: dict[str, audit.DetailValue] = {"due_on": body.due_on.isoformat()}
    _audit(session, principal.actor, "follow_up.snoozed", access.referral, follow_up, details)
    await session.flush()
    return to_public(follow_up, on)
