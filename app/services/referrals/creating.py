"""Sending a referral: the receiving service's terms, the subject and consent, the duplicate check."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import unit_of_work
from app.db import utcnow
from app.errors import Conflict, Unprocessable
from app.models.consent import Consent, DataCategory
from app.models.directory import Purpose
from app.models.events import EventType
from app.models.identity import Scope
from app.models.person import PersonRecordPublic
from app.models.referral import Referral, ReferralCreate, ReferralPublic, ReferralStatus, StatusChange
from app.models.subject import Subject, SubjectCreate
from app.persistence import idempotency, rows
from app.security import Principal, agency_of
from app.services import audit, consents, notifications, people, workflow
from app.services.referrals import journeys, queries
from app.services.referrals.access import NewReferralFacts, audit_for, emit_for, resource_headers
from app.services.referrals.moving import status_change
from app.services.workflow import Party

DUPLICATE = "This person already has an open referral from your agency to this service."
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L or U: easy to read aloud


async def create(
    session: AsyncSession, principal: Principal, body: ReferralCreate, claim: idempotency.Claim | None
) -> ReferralPublic:
    """Send a consented referral to another agency's service."""
    agency_id = agency_of(principal)
    service, duplicate = await _receiving_service(session, body, agency_id)
    parent = await journeys.parent_for(session, agency_id, body.parent_referral_id)
    subject = await _subject(session, principal, body, parent)
    referral = _new_referral(principal, agency_id, body, service, subject, parent)
    person = people.new_record(referral.values["id"], subject.id, subject.details, subject.categories)
    public = _created(referral.values, people.to_public(person.values), principal)
    if body.subject is None:  # only a stored consent or the parent named the subject: look them up now
        duplicate = await queries.open_duplicate(session, agency_id, service.id, public.subject)
    _refuse_duplicate(body, duplicate)
    facts = NewReferralFacts.of(public, subject.id)
    first = rows.new_row(StatusChange, **status_change(facts, public.updated_at, principal, None))
    # Written together once every check has passed.
    await _insert(session, referral.values["open_key"], *subject.new_rows, referral, person, first)
    details = {"purpose": body.purpose.value, "urgency": body.urgency.value, "to_service_id": str(service.id)}
    audit_for(session, principal, "referral.created", facts, details=dict(details))
    emit_for(session, EventType.REFERRAL_CREATED, facts)
    await notifications.referral_created(session, public)
    idempotency.remember(claim, 201, public, resource_headers(public))
    return public


def _created(values: dict[str, Any], person: PersonRecordPublic, principal: Principal) -> ReferralPublic:
    """The new referral as its sender sees it, from the values about to be inserted."""
    public = ReferralPublic.model_validate(values | {"subject": person, "allowed_actions": []})
    can_write = principal.has(Scope.REFERRALS_WRITE)
    public.allowed_actions = workflow.allowed_actions(public, Party.SENDER, can_write)
    return public


async def _receiving_service(
    session: AsyncSession, body: ReferralCreate, agency_id: uuid.UUID
) -> tuple[queries.ServiceTerms, uuid.UUID | None]:
    """The service's terms, checked, and the caller's open referral there for the subject named."""
    params = queries.duplicate_params(body.to_service_id, agency_id, body.subject)
    found = (await session.execute(queries.TERMS_AND_OPEN_DUPLICATE, params)).all()
    service = queries.terms_from(found, field="to_service_id")
    if service.agency_id == agency_id:
        raise Unprocessable.field("to_service_id", "is your own agency's service; refer to another agency")
    if body.purpose not in service.purposes:
        accepted = ", ".join(p.value for p in service.purposes)
        raise Unprocessable.field("purpose", f"this service accepts only: {accepted}")
    if not service.accepting_referrals:
        raise Conflict(
            "This service is not accepting referrals at the moment.", reason="not_accepting_referrals"
        )
    if body.allow_duplicate and not (body.duplicate_reason or "").strip():
        raise Unprocessable.field("duplicate_reason", "allow_duplicate needs a reason")
    return service, found[0].open_duplicate


@dataclass(frozen=True, slots=True)
class ReferredSubject:
    """Whom a new referral is about, what the sender holds on them, and the consent it is sent under."""

    id: uuid.UUID  # the platform's subject, linking the person's referrals
    details: dict[str, Any]  # before the consent's categories are applied
    consent_id: uuid.UUID
    categories: list[DataCategory]
    new_rows: tuple[rows.NewRow, ...] = ()  # the subject and their consent, when given inline


async def _subject(
    session: AsyncSession, principal: Principal, body: ReferralCreate, parent: journeys.Parent | None
) -> ReferredSubject:
    if body.consent is not None and body.consent_id is not None:
        raise Unprocessable.field("consent_id", "give either consent or consent_id, not both")
    if parent is not None:
        return await _parents_subject(session, principal, body, parent)
    if body.consent is not None:
        return await _new_subject(session, principal, body)
    if body.consent_id is None:
        raise Unprocessable.field("consent", "a referral needs the person's consent (consent or consent_id)")
    return await _consented_subject(session, principal, body, body.consent_id)


async def _live_subject(session: AsyncSession, subject_id: uuid.UUID, field: str) -> Subject:
    subject = await session.get(Subject, subject_id)
    if subject is None or subject.anonymised_at is not None:
        raise Unprocessable.field(field, "the person's details were removed under the retention policy")
    return subject


async def _consented_subject(
    session: AsyncSession, principal: Principal, body: ReferralCreate, consent_id: uuid.UUID
) -> ReferredSubject:
    """The subject of a consent the caller's agency recorded earlier, as the agency holds them."""
    consent = await consents.load_own(session, principal, consent_id)
    consents.check_terms(consent, body.purpose, "consent_id")
    subject = await _live_subject(session, consent.subject_id, "consent_id")
    held = await people.held_by(session, agency_of(principal), subject)
    details = _given_or_held(session, principal, subject, held, body.subject, consent.data_categories)
    return ReferredSubject(subject.id, details, consent.id, consent.data_categories)


async def _parents_subject(
    session: AsyncSession, principal: Principal, body: ReferralCreate, parent: journeys.Parent
) -> ReferredSubject:
    """The person of the referral this one is made onward from, as it was shared with the caller."""
    subject = await _live_subject(session, parent.subject_id, "parent_referral_id")
    terms = await _onward_consent(session, principal, body, parent)
    if terms.subject_id != subject.id:
        raise Unprocessable.field("consent_id", "this consent was given by another person")
    held = people.details_of(await people.record_of(session, parent.id))
    details = _given_or_held(session, principal, subject, held, body.subject, terms.data_categories)
    return ReferredSubject(subject.id, details, terms.id, terms.data_categories, terms.new_rows)


@dataclass(frozen=True, slots=True)
class _OnwardConsent:
    id: uuid.UUID
    subject_id: uuid.UUID
    data_categories: list[DataCategory]
    new_rows: tuple[rows.NewRow, ...] = ()


async def _onward_consent(
    session: AsyncSession, principal: Principal, body: ReferralCreate, parent: journeys.Parent
) -> _OnwardConsent:
    """The consent given or named now, else the parent's when it covers the new purpose."""
    if body.consent is not None:
        consents.check_terms(body.consent, body.purpose, "consent")
        given = consents.new_consent(session, principal, parent.subject_id, body.consent)
        return _OnwardConsent(given.values["id"], parent.subject_id, body.consent.data_categories, (given,))
    if body.consent_id is not None:
        stored = await consents.load_own(session, principal, body.consent_id)
        consents.check_terms(stored, body.purpose, "consent_id")
    else:
        stored = await _inherited_consent(session, body.purpose, parent)
    return _OnwardConsent(stored.id, stored.subject_id, stored.data_categories)


async def _inherited_consent(session: AsyncSession, purpose: Purpose, parent: journeys.Parent) -> Consent:
    """The parent's consent, locked against a concurrent withdrawal, if it covers the new purpose."""
    inherited = await session.get(Consent, parent.consent_id, with_for_update=True)
    if inherited is None:
        raise Unprocessable.field("consent", "a referral needs the person's consent (consent or consent_id)")
    try:
        consents.check_terms(inherited, purpose, "consent")
    except Unprocessable:
        raise Unprocessable.field(
            "consent",
            "the consent for the earlier referral does not cover this one: give the person's consent",
        ) from None
    return inherited


async def onward_consent_covers(
    session: AsyncSession, principal: Principal, parent_id: uuid.UUID, purpose: Purpose
) -> bool:
    """Whether a referral made onward from `parent_id` for `purpose` can go under the parent's consent.

    The same check `create` makes, asked before the referral is sent, so the caller asks the
    person for a new consent only when it is needed.
    """
    parent = await journeys.parent_for(session, agency_of(principal), parent_id)
    if parent is None:
        return False
    try:
        await _inherited_consent(session, purpose, parent)
    except Unprocessable:
        return False
    return True


async def _new_subject(session: AsyncSession, principal: Principal, body: ReferralCreate) -> ReferredSubject:
    """The subject and their consent from the request, checked but not yet written.

    Someone the caller's agency has already recorded (same name, date of birth and postcode)
    is the same subject; across agencies people are never matched, which would tell one agency
    that another knows them.
    """
    if body.subject is None or body.consent is None:
        raise Unprocessable.field("subject", "is required with an inline consent")
    categories = body.consent.data_categories
    consents.check_terms(body.consent, body.purpose, "consent")
    consents.check_categories(body.subject, categories)
    known = await queries.known_subject(session, agency_of(principal), body.subject)
    if known is not None:
        _update_own_record(session, principal, known, body.subject)
        consent = consents.new_consent(session, principal, known.id, body.consent)
        return ReferredSubject(
            known.id, people.details_of(body.subject), consent.values["id"], categories, (consent,)
        )
    subject = rows.new_row(
        Subject, **people.details_of(body.subject), recorded_by_agency_id=agency_of(principal)
    )
    consent = consents.new_consent(session, principal, subject.values["id"], body.consent)
    details = people.details_of(body.subject)
    return ReferredSubject(
        subject.values["id"], details, consent.values["id"], categories, (subject, consent)
    )


def _given_or_held(
    session: AsyncSession,
    principal: Principal,
    subject: Subject,
    held: dict[str, Any],
    given: SubjectCreate | None,
    categories: list[DataCategory],
) -> dict[str, Any]:
    """Newer details the sender gives for the same person, else what it holds on them.

    The platform's own record of the person changes only when the caller's agency recorded it:
    details given on an onward referral never reach what anyone else sees.
    """
    if given is None:
        return held
    if not _same_person(held, given):
        raise Unprocessable.field("consent_id", "this consent was given by another person")
    consents.check_categories(given, categories)
    if subject.recorded_by_agency_id == agency_of(principal):
        _update_own_record(session, principal, subject, given)
    return people.details_of(given)


def _same_person(held: dict[str, Any], given: SubjectCreate) -> bool:
    names = (queries.normalised_name(held["given_name"]), queries.normalised_name(held["family_name"]))
    given_names = (queries.normalised_name(given.given_name), queries.normalised_name(given.family_name))
    return names == given_names and held["date_of_birth"] == given.date_of_birth


def _update_own_record(
    session: AsyncSession, principal: Principal, subject: Subject, given: SubjectCreate
) -> None:
    """The agency's own record of the person takes the newer details it gives (audited by field name)."""
    changes = people.details_of(given)
    changed = sorted(k for k, v in changes.items() if getattr(subject, k) != v)
    if changed:
        subject.sqlmodel_update(changes | {"updated_at": utcnow()})
        audit.record(
            session,
            principal.actor,
            "subject.updated",
            "subject",
            subject.id,
            subject_id=subject.id,
            details={"fields": changed},
        )


def _refuse_duplicate(body: ReferralCreate, duplicate: uuid.UUID | None) -> None:
    """One open referral per subject per service from the same agency, unless a reason is given."""
    if duplicate is not None and not body.allow_duplicate:
        raise Conflict(DUPLICATE, existing_referral_id=str(duplicate))


async def _insert(session: AsyncSession, key: str | None, *new: rows.NewRow) -> None:
    """Write the new rows; an open referral created meanwhile with the same key is a 409 as well.

    The unique index on the key decides between creates that passed the duplicate check at
    the same moment: the later insert waits for the earlier to commit, then fails.
    """
    try:
        await rows.insert_rows(session, *new)
    except IntegrityError as exc:
        # PostgreSQL names the index, SQLite the column: both contain "open_key".
        if key is None or "open_key" not in str(exc.orig):
            raise
        await unit_of_work.rollback(session)  # the transaction is spent; the lookup needs a new one
        existing = await queries.open_referral_with_key(session, key)
        raise Conflict(DUPLICATE, existing_referral_id=str(existing)) from None


def _new_referral(
    principal: Principal,
    agency_id: uuid.UUID,
    body: ReferralCreate,
    service: queries.ServiceTerms,
    subject: ReferredSubject,
    parent: journeys.Parent | None,
) -> rows.NewRow:
    now = utcnow()
    return rows.new_row(
        Referral,
        reference=_reference(),
        purpose=body.purpose,
        reason=body.reason,
        urgency=body.urgency,
        handover_mode=body.handover_mode,
        from_agency_id=agency_id,
        from_actor_kind=principal.kind,
        from_actor_id=principal.id,
        to_agency_id=service.agency_id,
        to_service_id=service.id,
        subject_id=subject.id,
        consent_id=subject.consent_id,
        status=ReferralStatus.SUBMITTED,
        due_by=now + timedelta(days=service.response_target_days),
        duplicate_reason=body.duplicate_reason if body.allow_duplicate else None,
        open_key=None if body.allow_duplicate else queries.open_key(agency_id, service.id, subject.details),
        created_at=now,
        updated_at=now,
        changed_by_sender_at=now,
        journey_id=parent.journey_id if parent else uuid.uuid4(),
        parent_referral_id=parent.id if parent else None,
        return_to_referrer=body.return_to_referrer,
    )


def _reference() -> str:
    """A short reference staff can read over the phone, e.g. RX-7KQ4M-2HXPA (30^10 possibilities)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
    return f"RX-{chars[:5]}-{chars[5:]}"
