"""Retention: a person's details are removed once all their referrals have been closed long enough.

A subject is anonymised when they have at least one referral and every one of them was
closed (`closed_at`) more than `RETENTION_DAYS` ago. Names, NHS number, contact details, day
and month of birth and circumstances (on the platform's record and on every referral's), and
every free-text field about them (referral reason, notes on status changes and outcomes,
messages, follow-ups' snooze notes, who gave consent and why it was withdrawn, the place and
people of appointments) are replaced with neutral placeholders.
Ids, statuses, times, purposes and outcome types stay, so every report figure is the same
afterwards. Audit events hold ids and codes only, so the audit log is left as it is.
"""

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.models.audit import ActorKind, AuditActor
from app.models.consent import Consent
from app.models.follow_up import FollowUp
from app.models.message import Message
from app.models.outcome import Outcome
from app.models.referral import Referral, StatusChange
from app.models.subject import PreferredContact, Subject
from app.services import audit

PLACEHOLDER = "[anonymised]"
RETENTION_ACTOR = AuditActor(kind=ActorKind.SYSTEM, id="retention")


def cutoff(retention_days: int, now: datetime | None = None) -> datetime:
    """Referrals closed before this moment have been closed longer than the retention period."""
    return (now or utcnow()) - timedelta(days=retention_days)


def _eligible(closed_before: datetime) -> Select[uuid.UUID]:
    """Subjects not yet anonymised, with referrals, every one of them closed before the cutoff."""
    theirs = col(Referral.subject_id) == col(Subject.id)
    closed_at = col(Referral.closed_at)
    still_held = select(col(Referral.id)).where(theirs, or_(closed_at.is_(None), closed_at >= closed_before))
    return select(col(Subject.id)).where(
        col(Subject.anonymised_at).is_(None),
        exists(select(col(Referral.id)).where(theirs)),
        ~exists(still_held),
    )


async def count_eligible(session: AsyncSession, closed_before: datetime) -> int:
    """How many subjects a run would anonymise now (the dry run)."""
    query = select(func.count()).select_from(_eligible(closed_before).subquery())
    return int((await session.execute(query)).scalar_one())


async def anonymise_batch(session: AsyncSession, closed_before: datetime, limit: int) -> int:
    """Anonymise up to `limit` eligible subjects, audit each, and return how many were done.

    Rows are claimed with SKIP LOCKED, so concurrent runs share the work instead of
    repeating it; a subject already anonymised is never eligible again.
    """
    query = _eligible(closed_before).order_by(col(Subject.id)).limit(limit)
    ids = list((await session.execute(query.with_for_update(skip_locked=True))).scalars())
    if not ids:
        return 0
    now = utcnow()
    referral_ids = await _anonymise_referrals(session, ids)
    await _anonymise_subjects(session, ids, now)
    await _anonymise_consents(session, ids)
    for subject_id in ids:
        audit.record(
            session,
            RETENTION_ACTOR,
            "subject.anonymised",
            "subject",
            subject_id,
            subject_id=subject_id,
            details={"referral_ids": sorted(str(r) for r in referral_ids.get(subject_id, []))},
        )
    await session.flush()
    return len(ids)


def _anonymous(born: date, now: datetime) -> dict[str, Any]:
    """What is left of a person: the year of birth (as 1 January) so age bands can still be counted."""
    return {
        "given_name": PLACEHOLDER,
        "family_name": PLACEHOLDER,
        "date_of_birth": date(born.year, 1, 1),
        "nhs_number": None,
        "postcode": None,
        "phone": None,
        "email": None,
        "circumstances": None,
        "updated_at": now,
        "anonymised_at": now,
    }


async def _anonymise_subjects(session: AsyncSession, ids: Sequence[uuid.UUID], now: datetime) -> None:
    subjects = (await session.execute(select(Subject).where(col(Subject.id).in_(ids)))).scalars()
    for subject in subjects:
        subject.sqlmodel_update(
            _anonymous(subject.date_of_birth, now) | {"preferred_contact": PreferredContact.NONE}
        )


async def _anonymise_consents(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    await session.execute(
        update(Consent)
        .where(col(Consent.subject_id).in_(ids))
        .values(given_by=PLACEHOLDER, withdrawal_reason=_placeholder_if_set(col(Consent.withdrawal_reason)))
        .execution_options(synchronize_session=False)
    )


async def _anonymise_referrals(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Clear the free text of the subjects' referrals and everything hanging off them."""
    referrals = list(
        (await session.execute(select(Referral).where(col(Referral.subject_id).in_(ids)))).scalars()
    )
    by_subject: dict[uuid.UUID, list[uuid.UUID]] = {}
    for referral in referrals:
        referral.reason = PLACEHOLDER
        referral.duplicate_reason = PLACEHOLDER if referral.duplicate_reason else None
        referral.appointment = _neutral_appointment(referral.appointment)
        person = referral.person
        person.sqlmodel_update(_anonymous(person.date_of_birth, utcnow()) | {"preferred_contact": None})
        by_subject.setdefault(referral.subject_id, []).append(referral.id)
    referral_ids = [r.id for r in referrals]
    await _anonymise_history(session, referral_ids)
    await _anonymise_notes(session, referral_ids)
    return by_subject


async def _anonymise_history(session: AsyncSession, referral_ids: list[uuid.UUID]) -> None:
    query = select(StatusChange).where(
        col(StatusChange.referral_id).in_(referral_ids),
        or_(col(StatusChange.note).is_not(None), col(StatusChange.appointment).is_not(None)),
    )
    for change in (await session.execute(query)).scalars():
        change.note = PLACEHOLDER if change.note else None
        change.appointment = _neutral_appointment(change.appointment)


async def _anonymise_notes(session: AsyncSession, referral_ids: list[uuid.UUID]) -> None:
    await session.execute(
        update(Outcome)
        .where(col(Outcome.referral_id).in_(referral_ids))
        .values(note=_placeholder_if_set(col(Outcome.note)))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Message)
        .where(col(Message.referral_id).in_(referral_ids))
        .values(body=PLACEHOLDER)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(FollowUp)
        .where(col(FollowUp.referral_id).in_(referral_ids))
        .values(snooze_note=_placeholder_if_set(col(FollowUp.snooze_note)))
        .execution_options(synchronize_session=False)
    )


def _placeholder_if_set(column: SQLColumnExpression[str | None]) -> ColumnElement[str | None]:
    return case((column.is_(None), None), else_=PLACEHOLDER)


def _neutral_appointment(appointment: dict[str, Any] | None) -> dict[str, Any] | None:
    """Keep when an appointment was; drop where it was and with whom."""
    if appointment is None:
        return None
    return {**appointment, "location": PLACEHOLDER, "with_whom": PLACEHOLDER}
