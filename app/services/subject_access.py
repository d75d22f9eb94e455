"""Subject access requests: everything held about one person, for an admin or auditor to release."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.errors import Forbidden, NotFound
from app.models.audit import AuditEvent, AuditEventPublic
from app.models.consent import Consent
from app.models.follow_up import FollowUp
from app.models.identity import Role
from app.models.measure import Measure
from app.models.message import Message
from app.models.outcome import Outcome
from app.models.referral import Referral, StatusChange
from app.models.subject import Subject
from app.models.subject_access import (
    MeasureRecord,
    OutcomeRecord,
    ReferralRecord,
    SubjectExport,
    SubjectRecord,
)
from app.security import Principal
from app.services import audit, consents, follow_ups, messages, people
from app.services import referrals as referrals_service

# Platform roles only: agency staff see a person through their own referrals, never the whole record.
# The route checks the token's subjects:export scope; the role is checked as well, since an API
# client could be granted that scope and acts for no person who answers for the release.
OFFICER_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.AUDITOR})
MEASURE_ORDER = (col(Measure.taken_on), col(Measure.recorded_at), col(Measure.id))
Child = TypeVar("Child", StatusChange, Outcome, Message, Measure, FollowUp)


async def export(session: AsyncSession, principal: Principal, subject_id: uuid.UUID) -> SubjectExport:
    """The subject, their consents, referrals (with all that hangs off them) and audit trail; audited."""
    if principal.role not in OFFICER_ROLES:
        raise Forbidden("Subject access exports are made by a platform admin or auditor.")
    subject = await session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(f"Subject {subject_id} not found.")
    referrals = await _referrals(session, subject_id)
    events = await _audit_trail(session, subject_id, [r.id for r in referrals])
    audit.record(
        session,
        principal.actor,
        "subject.exported",
        "subject",
        subject_id,
        subject_id=subject_id,
        details={"referrals": len(referrals), "audit_events": len(events)},
    )
    return SubjectExport(
        exported_at=utcnow(),
        subject=SubjectRecord.model_validate(subject),
        consents=[consents.to_public(c) for c in await _consents(session, subject_id)],
        referrals=referrals,
        audit_events=[AuditEventPublic.from_event(e) for e in events],
    )


async def _consents(session: AsyncSession, subject_id: uuid.UUID) -> Sequence[Consent]:
    query = select(Consent).where(col(Consent.subject_id) == subject_id)
    return (await session.execute(query.order_by(col(Consent.created_at), col(Consent.id)))).scalars().all()


async def _referrals(session: AsyncSession, subject_id: uuid.UUID) -> list[ReferralRecord]:
    query = select(Referral).where(col(Referral.subject_id) == subject_id)
    rows = (await session.execute(query.order_by(col(Referral.created_at), col(Referral.id)))).scalars().all()
    ids = [r.id for r in rows]
    history = await _children(session, StatusChange, ids, col(StatusChange.at), col(StatusChange.id))
    outcomes = await _children(session, Outcome, ids, col(Outcome.recorded_at), col(Outcome.id))
    thread = await _children(session, Message, ids, col(Message.created_at), col(Message.id))
    ratings = await _children(session, Measure, ids, *MEASURE_ORDER)
    due = await _children(session, FollowUp, ids, col(FollowUp.due_on), col(FollowUp.id))
    today = follow_ups.today()
    return [
        ReferralRecord.model_validate(
            referral,
            update={
                "subject": people.to_public(referral.person),
                "history": [referrals_service.change_public(c) for c in history[referral.id]],
                "outcomes": [OutcomeRecord.model_validate(o) for o in outcomes[referral.id]],
                "messages": [messages.to_public(m) for m in thread[referral.id]],
                "measures": [MeasureRecord.model_validate(m) for m in ratings[referral.id]],
                "follow_ups": [follow_ups.to_record(f, today) for f in due[referral.id]],
            },
        )
        for referral in rows
    ]


async def _children(
    session: AsyncSession, model: type[Child], referral_ids: list[uuid.UUID], *order: Any
) -> defaultdict[uuid.UUID, list[Child]]:
    """Rows of `model` for these referrals, grouped by referral, each group in `order`."""
    grouped: defaultdict[uuid.UUID, list[Child]] = defaultdict(list)
    query = select(model).where(col(model.referral_id).in_(referral_ids)).order_by(*order)
    for row in (await session.execute(query)).scalars():
        grouped[row.referral_id].append(row)
    return grouped


async def _audit_trail(
    session: AsyncSession, subject_id: uuid.UUID, referral_ids: list[uuid.UUID]
) -> Sequence[AuditEvent]:
    """Events naming the subject or any of their referrals, in log order (unsealed ones last).

    Inbox and sent listings count too: they showed the person's name, and name every
    referral shown in their details.
    """
    about = or_(col(AuditEvent.subject_id) == subject_id, *(audit.referral_trail(r) for r in referral_ids))
    return (await session.execute(select(AuditEvent).where(about).order_by(*audit.LOG_ORDER))).scalars().all()
