"""Referral rows written straight to the tables, with chosen times and statuses.

Report and retention tests need referrals made months or years ago; the API can only make
them now, so these factories insert the rows (subject, consent, referral, its history,
outcomes and messages) in one committed unit of work.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.audit import ActorKind
from app.models.consent import Consent, ConsentMethod, DataCategory, LawfulBasis
from app.models.directory import Agency, Purpose, Service
from app.models.message import Message
from app.models.outcome import OUTCOME_BITS, Outcome, OutcomeType, outcome_kind
from app.models.person import PersonRecord
from app.models.referral import TERMINAL_STATUSES, Referral, ReferralStatus, StatusChange
from app.models.subject import PreferredContact, Subject
from app.services import people
from app.unit_of_work import committed

S = ReferralStatus
DECISIONS = {S.ACCEPTED, S.DECLINED}
# A plausible route through the state machine to each status, when the referral was decided.
DECIDED_PATHS: dict[ReferralStatus, list[ReferralStatus]] = {
    S.ACCEPTED: [S.ACCEPTED],
    S.DECLINED: [S.DECLINED],
    S.HANDOVER_SCHEDULED: [S.ACCEPTED, S.HANDOVER_SCHEDULED],
    S.IN_PROGRESS: [S.ACCEPTED, S.IN_PROGRESS],
    S.COMPLETED: [S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED],
    S.CANCELLED: [S.ACCEPTED, S.CANCELLED],
    S.WITHDRAWN: [S.ACCEPTED, S.WITHDRAWN],
}


@dataclass(frozen=True)
class OutcomeRow:
    type: OutcomeType
    occurred_on: date
    recorded_by: Agency
    note: str | None = "Outcome note naming the person"


async def insert_subject(agency: Agency, given_name: str = "Natalie") -> Subject:
    """A person with every personal field filled in."""

    async def work(session: AsyncSession) -> Subject:
        subject = _subject(agency, given_name)
        session.add(subject)
        await session.flush()
        session.add(_consent(subject, agency))
        await session.flush()
        return subject

    return await committed(work)


def _subject(agency: Agency, given_name: str) -> Subject:
    return Subject(
        given_name=given_name,
        family_name="Example",
        date_of_birth=date(1994, 3, 2),
        postcode="LL13 9AA",
        phone="07700900123",
        email="natalie@example.org",
        preferred_contact=PreferredContact.PHONE,
        language="cy",
        needs_interpreter=True,
        circumstances={"lone_parent": True, "benefits": ["universal_credit"], "barriers": ["debt"]},
        recorded_by_agency_id=agency.id,
    )


def _consent(subject: Subject, agency: Agency, given_at: datetime | None = None) -> Consent:
    """Consent in force (`withdraw` turns it into one withdrawn for a stated reason)."""
    return Consent(
        subject_id=subject.id,
        given_by="Natalie Example",
        method=ConsentMethod.VERBAL,
        given_at=given_at or subject.created_at,
        lawful_basis=LawfulBasis.CONSENT,
        purposes=list(Purpose),
        data_categories=[DataCategory.CONTACT, DataCategory.CIRCUMSTANCES],
        recorded_by_agency_id=agency.id,
        recorded_by="caseworker",
    )


def _withdraw(consent: Consent, at: datetime) -> None:
    consent.withdrawn_at, consent.withdrawal_reason = at, "Natalie phoned Sam to say stop"


async def insert_referral(
    sender: Agency,
    service: Service,
    *,
    created_at: datetime,
    status: ReferralStatus = S.SUBMITTED,
    decided_at: datetime | None = None,
    closed_at: datetime | None = None,
    due_by: datetime | None = None,
    purpose: Purpose = Purpose.DEBT_ADVICE,
    outcomes: Sequence[OutcomeRow] = (),
    messages: Sequence[str] = (),
    subject: Subject | None = None,
) -> Referral:
    """One referral as the service would have left it, with its history, outcomes and messages.

    `decided_at` set means it was accepted (or declined) then; a terminal status without
    `closed_at` closes a day after the last decision or creation.
    """
    if status in TERMINAL_STATUSES and closed_at is None:
        closed_at = (decided_at or created_at) + timedelta(days=1)

    async def work(session: AsyncSession) -> Referral:
        person = subject or _subject(sender, "Natalie")
        if subject is None:
            session.add(person)
            await session.flush()
        consent = _consent(person, sender, created_at)
        if status == S.WITHDRAWN:
            _withdraw(consent, closed_at or created_at)
        session.add(consent)
        await session.flush()
        referral = Referral(
            reference=f"RX-{uuid.uuid4().hex[:10].upper()}",
            purpose=purpose,
            reason="Rent arrears; Natalie wants help before starting work.",
            from_agency_id=sender.id,
            from_actor_kind=ActorKind.USER,
            from_actor_id="sender-caseworker",
            to_agency_id=service.agency_id,
            to_service_id=service.id,
            subject_id=person.id,
            consent_id=consent.id,
            status=status,
            due_by=due_by or created_at + timedelta(days=service.response_target_days),
            decided_at=decided_at,
            closed_at=closed_at,
            appointment=_appointment(created_at) if decided_at else None,
            duplicate_reason="Natalie asked for a second referral",
            outcome_count=len(outcomes),
            outcome_types=sum({OUTCOME_BITS[row.type] for row in outcomes}),
            first_outcome_on=min((row.occurred_on for row in outcomes), default=None),
            created_at=created_at,
            updated_at=closed_at or decided_at or created_at,
        )
        session.add(referral)
        await session.flush()
        session.add(_person_record(referral, person, consent))
        session.add_all(_history(referral, sender))
        session.add_all(_outcomes(referral, outcomes))
        session.add_all(_messages(referral, sender, messages))
        await session.flush()
        return referral

    return await committed(work)


def _person_record(referral: Referral, subject: Subject, consent: Consent) -> PersonRecord:
    """The person as shared with the referral, as the service would have copied them."""
    details = people.shared_details(people.details_of(subject), consent.data_categories)
    return PersonRecord(
        referral_id=referral.id, subject_id=subject.id, anonymised_at=subject.anonymised_at, **details
    )


def _appointment(created_at: datetime) -> dict[str, str]:
    starts = (created_at + timedelta(days=3)).isoformat()
    return {"starts_at": starts, "location": "Natalie's home, 1 High Street", "with_whom": "Sam Adviser"}


def _history(referral: Referral, sender: Agency) -> list[StatusChange]:
    steps = [S.SUBMITTED]
    if referral.decided_at is not None:
        steps += DECIDED_PATHS[referral.status]
    elif referral.status != S.SUBMITTED:
        steps.append(referral.status)
    changes: list[StatusChange] = []
    for step in steps:
        previous = changes[-1] if changes else None
        changes.append(_change(referral, sender, previous, step))
    return changes


def _change(
    referral: Referral, sender: Agency, previous: StatusChange | None, step: ReferralStatus
) -> StatusChange:
    """The move to `step`: decisions at decided_at, closing at closed_at, others a minute on."""
    at = referral.created_at if previous is None else previous.at + timedelta(minutes=1)
    if step in DECISIONS and referral.decided_at is not None:
        at = referral.decided_at
    elif step in TERMINAL_STATUSES and referral.closed_at is not None:
        at = referral.closed_at
    return StatusChange(
        referral_id=referral.id,
        from_status=previous.to_status if previous else None,
        to_status=step,
        actor_kind=ActorKind.USER,
        actor_id="caseworker",
        actor_agency_id=sender.id if step == S.SUBMITTED else referral.to_agency_id,
        note=None if step == S.SUBMITTED else "Spoke to Natalie on 07700900123",
        appointment=_appointment(referral.created_at) if step == S.HANDOVER_SCHEDULED else None,
        at=at,
    )


def _outcomes(referral: Referral, rows: Sequence[OutcomeRow]) -> list[Outcome]:
    return [
        Outcome(
            referral_id=referral.id,
            type=row.type,
            kind=outcome_kind(row.type),
            occurred_on=row.occurred_on,
            note=row.note,
            recorded_by_agency_id=row.recorded_by.id,
            recorded_by="caseworker",
            recorded_at=datetime.combine(row.occurred_on, referral.created_at.timetz()),
        )
        for row in rows
    ]


def _messages(referral: Referral, sender: Agency, bodies: Sequence[str]) -> list[Message]:
    return [
        Message(
            referral_id=referral.id,
            from_agency_id=sender.id,
            body=body,
            author_kind=ActorKind.USER,
            author_id="caseworker",
            created_at=referral.created_at + timedelta(minutes=i + 1),
        )
        for i, body in enumerate(bodies)
    ]
