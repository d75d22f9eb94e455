"""Referrals: create with consent, list by box, view, move through the state machine."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, bindparam, func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.errors import Conflict, NotFound, PreconditionFailed, PreconditionRequired, Unprocessable
from app.models.audit import AuditActor
from app.models.consent import Consent, ConsentWithdrawal, ConsentWithdrawalResult
from app.models.directory import Purpose
from app.models.events import EventType
from app.models.identity import Scope
from app.models.referral import (
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    Referral,
    ReferralCreate,
    ReferralPublic,
    ReferralStatus,
    StatusChange,
    StatusChangePublic,
    TransitionRequest,
)
from app.models.subject import Subject, SubjectBase, SubjectCreate, SubjectPublic
from app.pagination import Keyset, Page, keyset_page
from app.security import Principal, agency_of
from app.services import audit, consents, directory, events, idempotency, rows, workflow
from app.services.workflow import Party

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L or U: easy to read aloud


class Box(StrEnum):
    INBOX = "inbox"
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class PartyAccess:
    """A referral loaded for a caller whose agency is one of its two parties."""

    referral: Referral
    principal: Principal
    party: Party


def etag(referral: Referral | ReferralPublic) -> str:
    return f'"{referral.version}"'


def resource_headers(public: ReferralPublic) -> dict[str, str]:
    return {"Location": f"/v1/referrals/{public.id}", "ETag": etag(public)}


# Read off the table model into a dict: validating the model itself with extra fields goes
# through SQLModel's attribute-by-attribute wrapper, which cost more than the rest of an
# inbox page's items together.
_COPIED_FIELDS = tuple(
    name for name in ReferralPublic.model_fields if name not in {"subject", "allowed_actions"}
)


def to_public(referral: Referral, principal: Principal, party: Party) -> ReferralPublic:
    values = {name: getattr(referral, name) for name in _COPIED_FIELDS}
    values["subject"] = SubjectPublic.model_validate(referral.subject)
    values["allowed_actions"] = workflow.allowed_actions(
        referral, party, principal.has(Scope.REFERRALS_WRITE)
    )
    return ReferralPublic.model_validate(values)


async def load_for_party(session: AsyncSession, principal: Principal, referral_id: uuid.UUID) -> PartyAccess:
    """The referral if the caller's agency sent or received it; 404 otherwise (existence is not leaked)."""
    referral = await session.get(Referral, referral_id)
    party = workflow.party_of(referral, principal) if referral else None
    if referral is None or party is None:
        raise NotFound(f"Referral {referral_id} not found.")
    return PartyAccess(referral, principal, party)


# --- create ---------------------------------------------------------------------------------


async def create(
    session: AsyncSession, principal: Principal, body: ReferralCreate, claim: idempotency.Claim | None
) -> ReferralPublic:
    """Send a consented referral to another agency's service."""
    agency_id = agency_of(principal)
    service, open_duplicate = await _receiving_service(session, body, agency_id)
    person = await _person(session, principal, body)
    if body.subject is None:  # only a stored consent named the person: look them up now
        open_duplicate = await _open_duplicate(session, agency_id, service.id, person.subject)
    _refuse_duplicate(body, open_duplicate)
    referral = _new_referral(principal, agency_id, body, service, person)
    public = _created(referral.values, person.subject, principal)
    first = rows.new_row(StatusChange, **_status_change(public, principal, None))
    # Written together once every check has passed.
    await rows.insert_rows(session, *person.new_rows, referral, first)
    audit_for(
        session,
        principal,
        "referral.created",
        public,
        details={
            "purpose": body.purpose.value,
            "urgency": body.urgency.value,
            "to_service_id": str(service.id),
        },
    )
    emit_for(session, EventType.REFERRAL_CREATED, public)
    idempotency.remember(claim, 201, public, resource_headers(public))
    return public


def _created(values: dict[str, Any], subject: SubjectPublic, principal: Principal) -> ReferralPublic:
    """The new referral as its sender sees it, from the values about to be inserted."""
    public = ReferralPublic.model_validate(values | {"subject": subject, "allowed_actions": []})
    can_write = principal.has(Scope.REFERRALS_WRITE)
    public.allowed_actions = workflow.allowed_actions(public, Party.SENDER, can_write)
    return public


async def _receiving_service(
    session: AsyncSession, body: ReferralCreate, agency_id: uuid.UUID
) -> tuple[directory.ServiceTerms, uuid.UUID | None]:
    """The service's terms, checked, and the caller's open referral there for the person the body names."""
    params = _duplicate_params(body.to_service_id, agency_id, body.subject)
    found = (await session.execute(_TERMS_AND_OPEN_DUPLICATE, params)).all()
    service = directory.terms_from(found, field="to_service_id")
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
class Person:
    """Whom a new referral is about, and the consent it is sent under."""

    subject: SubjectPublic
    consent_id: uuid.UUID
    new_rows: tuple[rows.NewRow, ...]  # the person and their consent, when given inline


async def _person(session: AsyncSession, principal: Principal, body: ReferralCreate) -> Person:
    if body.consent is not None and body.consent_id is not None:
        raise Unprocessable.field("consent_id", "give either consent or consent_id, not both")
    if body.consent is None and body.consent_id is None:
        raise Unprocessable.field("consent", "a referral needs the person's consent (consent or consent_id)")
    if body.consent is not None:
        return _new_person(session, principal, body)
    assert body.consent_id is not None
    consent = await consents.load_own(session, principal, body.consent_id)
    consents.check_terms(consent, body.purpose, "consent_id")
    subject = await session.get(Subject, consent.subject_id)
    assert subject is not None
    if subject.anonymised_at is not None:
        raise Unprocessable.field(
            "consent_id", "the person's details were removed under the retention policy"
        )
    if body.subject is not None:
        _refresh_subject(session, principal, subject, body.subject, consent)
    return Person(SubjectPublic.model_validate(subject), consent.id, ())


def _new_person(session: AsyncSession, principal: Principal, body: ReferralCreate) -> Person:
    """The person and their consent from the request, checked but not yet written."""
    assert body.consent is not None
    if body.subject is None:
        raise Unprocessable.field("subject", "is required with an inline consent")
    consents.check_terms(body.consent, body.purpose, "consent")
    consents.check_categories(body.subject, body.consent.data_categories)
    subject = rows.new_row(
        Subject,
        **body.subject.model_dump(exclude={"circumstances"}),
        circumstances=_circumstances(body.subject),
        recorded_by_agency_id=agency_of(principal),
    )
    consent = consents.record(session, principal, subject.values["id"], body.consent)
    return Person(SubjectPublic.model_validate(subject.values), consent.values["id"], (subject, consent))


def _circumstances(subject: SubjectCreate) -> dict[str, object] | None:
    return subject.circumstances.model_dump(mode="json") if subject.circumstances else None


def _refresh_subject(
    session: AsyncSession, principal: Principal, subject: Subject, given: SubjectCreate, consent: Consent
) -> None:
    """Apply newer details for the same person; a different person cannot reuse this consent."""
    same = (_norm(subject.given_name), _norm(subject.family_name), subject.date_of_birth) == (
        _norm(given.given_name),
        _norm(given.family_name),
        given.date_of_birth,
    )
    if not same:
        raise Unprocessable.field("consent_id", "this consent was given by another person")
    consents.check_categories(given, consent.data_categories)
    changes = given.model_dump(exclude={"circumstances"}) | {"circumstances": _circumstances(given)}
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


def _norm(name: str) -> str:
    return " ".join(name.casefold().split())


# The statuses are written into the SQL: as a list parameter the statement would be rewritten
# on every execution to expand it.
_IS_OPEN = col(Referral.status).in_([literal_column(f"'{s.value}'") for s in sorted(OPEN_STATUSES)])
# Built once: every new referral runs it. It starts from the person (the identity index) and
# looks up each match's open referrals from the caller's agency to the service, so its cost
# does not grow with the service's caseload. Only the caller's own referrals are looked at:
# naming another agency's would tell the caller that this person is known to that service.
_OPEN_REFERRAL_OF_PERSON = (
    select(col(Referral.id))
    .where(
        col(Referral.subject_id) == col(Subject.id),
        col(Referral.to_service_id) == bindparam("service_id"),
        col(Referral.from_agency_id) == bindparam("agency_id"),
        _IS_OPEN,
    )
    .limit(1)
    .correlate(Subject)
    .scalar_subquery()
)
_NAMED = (
    select(_OPEN_REFERRAL_OF_PERSON.label("open_referral"))
    .where(
        col(Subject.date_of_birth) == bindparam("date_of_birth"),
        func.lower(col(Subject.given_name)) == bindparam("given_name"),
        func.lower(col(Subject.family_name)) == bindparam("family_name"),
    )
    .subquery("named")
)
_OPEN_DUPLICATE = select(_NAMED.c.open_referral).where(_NAMED.c.open_referral.is_not(None)).limit(1)
# The same check read with the service's terms, saving a round trip when the request names
# the person (it matches nothing when the names are NULL).
_TERMS_AND_OPEN_DUPLICATE = directory.SERVICE_TERMS.add_columns(
    _OPEN_DUPLICATE.scalar_subquery().label("open_duplicate")
)


def _duplicate_params(
    service_id: uuid.UUID, agency_id: uuid.UUID, person: SubjectBase | None
) -> dict[str, Any]:
    """The duplicate check's parameters; with no person named, they match nothing."""
    return {
        "service_id": service_id,
        "agency_id": agency_id,
        "date_of_birth": person.date_of_birth if person else None,
        "given_name": person.given_name.strip().lower() if person else None,
        "family_name": person.family_name.strip().lower() if person else None,
    }


async def _open_duplicate(
    session: AsyncSession, agency_id: uuid.UUID, service_id: uuid.UUID, subject: SubjectPublic
) -> uuid.UUID | None:
    params = _duplicate_params(service_id, agency_id, subject)
    found: uuid.UUID | None = (await session.execute(_OPEN_DUPLICATE, params)).scalar_one_or_none()
    return found


def _refuse_duplicate(body: ReferralCreate, open_duplicate: uuid.UUID | None) -> None:
    """One open referral per person per service from the same agency, unless a reason is given."""
    if open_duplicate is not None and not body.allow_duplicate:
        raise Conflict(
            "This person already has an open referral from your agency to this service.",
            existing_referral_id=str(open_duplicate),
        )


def _new_referral(
    principal: Principal,
    agency_id: uuid.UUID,
    body: ReferralCreate,
    service: directory.ServiceTerms,
    person: Person,
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
        subject_id=person.subject.id,
        consent_id=person.consent_id,
        status=ReferralStatus.SUBMITTED,
        due_by=now + timedelta(days=service.response_target_days),
        duplicate_reason=body.duplicate_reason if body.allow_duplicate else None,
        created_at=now,
        updated_at=now,
    )


def _reference() -> str:
    """A short reference staff can read over the phone, e.g. RX-7KQ4M-2HXPA (30^10 possibilities)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
    return f"RX-{chars[:5]}-{chars[5:]}"


# --- list and view --------------------------------------------------------------------------


async def list_box(
    session: AsyncSession,
    principal: Principal,
    box: Box,
    *,
    statuses: list[ReferralStatus] | None,
    purpose: Purpose | None,
    updated_after: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[ReferralPublic]:
    """The agency's inbox or sent referrals, newest first; audited with the ids shown."""
    agency_id = agency_of(principal)
    party = Party.RECEIVER if box == Box.INBOX else Party.SENDER
    owner = col(Referral.to_agency_id) if box == Box.INBOX else col(Referral.from_agency_id)
    query = select(Referral).where(owner == agency_id)
    query = _filtered(query, statuses, purpose, updated_after)
    rows, next_cursor = await keyset_page(session, query, BOX_ORDER, cursor, limit)
    audit.record(
        session,
        principal.actor,
        "referral.listed",
        "referral",
        None,
        details={"box": box.value, "referral_ids": [str(r.id) for r in rows]},
    )
    return Page(items=[to_public(r, principal, party) for r in rows], next_cursor=next_cursor)


def _filtered(
    query: Select[Referral],
    statuses: list[ReferralStatus] | None,
    purpose: Purpose | None,
    updated_after: datetime | None,
) -> Select[Referral]:
    if statuses:
        query = query.where(col(Referral.status).in_(statuses))
    if purpose:
        query = query.where(col(Referral.purpose) == purpose)
    if updated_after:
        query = query.where(col(Referral.updated_at) > updated_after)
    return query


# Keyed on (created_at, id), which never change: referrals arriving while a client pages land
# before its cursor.
BOX_ORDER = Keyset(
    "referrals", (col(Referral.created_at), col(Referral.id)), (datetime, uuid.UUID), descending=True
)


async def view(session: AsyncSession, access: PartyAccess) -> ReferralPublic:
    """One referral; the receiver's first view is stamped, and every view is audited."""
    referral, principal = access.referral, access.principal
    if access.party == Party.RECEIVER and referral.first_viewed_at is None:
        await _stamp_first_view(session, referral)
    audit_for(session, principal, "referral.viewed", referral)
    return to_public(referral, principal, access.party)


async def _stamp_first_view(session: AsyncSession, referral: Referral) -> None:
    # Conditional, so two first views at once stamp the earlier time and tell partners once.
    now = utcnow()
    result = await session.execute(
        update(Referral)
        .where(col(Referral.id) == referral.id, col(Referral.first_viewed_at).is_(None))
        .values(first_viewed_at=now, updated_at=now)
    )
    if getattr(result, "rowcount", 0) == 1:
        emit_for(session, EventType.REFERRAL_VIEWED, referral)


async def history(session: AsyncSession, access: PartyAccess) -> list[StatusChangePublic]:
    """Every status change with who made it, when and why, oldest first."""
    referral = access.referral
    query = select(StatusChange).where(col(StatusChange.referral_id) == referral.id)
    rows = (await session.execute(query.order_by(col(StatusChange.at), col(StatusChange.id)))).scalars()
    audit_for(session, access.principal, "history.viewed", referral)
    return [change_public(c) for c in rows]


def change_public(change: StatusChange) -> StatusChangePublic:
    actor = AuditActor(kind=change.actor_kind, id=change.actor_id, agency_id=change.actor_agency_id)
    return StatusChangePublic.model_validate(change, update={"actor": actor})


# --- transitions ----------------------------------------------------------------------------


def _expected_versions(if_match: str | None) -> set[int] | None:
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
    expected = _expected_versions(if_match)
    referral = access.referral
    # Re-read under a row lock: of two concurrent moves from the same version, the second
    # waits here, then sees the new version and gets 412.
    await session.refresh(referral, with_for_update=True)
    if expected is not None and referral.version not in expected:
        raise PreconditionFailed(
            "The referral has changed since you read it; fetch it again.",
            headers={"ETag": etag(referral)},
            current_version=referral.version,
        )
    workflow.check_move(referral, access.party, request)
    _move(session, referral, access.principal, request)
    return to_public(referral, access.principal, access.party)


def _move(
    session: AsyncSession, referral: Referral, principal: Principal, request: TransitionRequest
) -> None:
    now, previous = utcnow(), referral.status
    referral.status, referral.version, referral.updated_at = request.to, referral.version + 1, now
    if request.to in {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED} and referral.decided_at is None:
        referral.decided_at = now
    if request.to in TERMINAL_STATUSES:
        referral.closed_at = now
    if request.appointment is not None:
        referral.appointment = request.appointment.model_dump(mode="json")
    _log_change(session, referral, principal, previous, request)
    audit_for(
        session,
        principal,
        "referral.transitioned",
        referral,
        details={"from": previous.value, "to": request.to.value, "reason_code": request.reason_code},
    )
    emit_for(session, EventType.REFERRAL_STATUS_CHANGED, referral)


def _log_change(
    session: AsyncSession,
    referral: Referral,
    principal: Principal,
    previous: ReferralStatus | None,
    request: TransitionRequest | None = None,
) -> None:
    session.add(StatusChange(**_status_change(referral, principal, previous, request)))


def _status_change(
    referral: Referral | ReferralPublic,
    principal: Principal,
    previous: ReferralStatus | None,
    request: TransitionRequest | None = None,
) -> dict[str, Any]:
    appointment = request.appointment.model_dump(mode="json") if request and request.appointment else None
    return {
        "referral_id": referral.id,
        "from_status": previous,
        "to_status": referral.status,
        "actor_kind": principal.kind,
        "actor_id": principal.id,
        "actor_agency_id": principal.agency_id,
        "at": referral.updated_at,
        "reason_code": request.reason_code if request else None,
        "note": request.note if request else None,
        "appointment": appointment,
    }


def audit_for(
    session: AsyncSession,
    principal: Principal,
    action: str,
    referral: Referral | ReferralPublic,
    entity: tuple[str, object] | None = None,
    details: dict[str, audit.DetailValue] | None = None,
) -> None:
    """Audit something done to or seen of a referral, linked to it and to its subject."""
    entity_type, entity_id = entity or ("referral", referral.id)
    audit.record(
        session,
        principal.actor,
        action,
        entity_type,
        entity_id,
        referral_id=referral.id,
        subject_id=referral.subject_id,
        details=details,
    )


def emit_for(session: AsyncSession, type_: EventType, referral: Referral | ReferralPublic) -> None:
    """Tell both agencies' systems that something happened to the referral."""
    events.emit(
        session,
        type_,
        referral_id=referral.id,
        status=referral.status.value,
        from_agency_id=referral.from_agency_id,
        to_agency_id=referral.to_agency_id,
    )


# --- consent withdrawal ---------------------------------------------------------------------


async def withdraw_consent(
    session: AsyncSession, principal: Principal, consent_id: uuid.UUID, body: ConsentWithdrawal
) -> ConsentWithdrawalResult:
    """Withdraw consent and stop processing: every open referral under it becomes `withdrawn`."""
    consent = await consents.get_for_party(session, principal, consent_id, for_update=True)
    await consents.mark_withdrawn(session, principal, consent, body.reason)
    query = select(Referral).where(
        col(Referral.consent_id) == consent.id, col(Referral.status).in_(OPEN_STATUSES)
    )
    moved = list((await session.execute(query.with_for_update())).scalars())
    for referral in moved:
        request = TransitionRequest(to=ReferralStatus.WITHDRAWN, reason_code="consent_withdrawn")
        _move(session, referral, principal, request)
    return ConsentWithdrawalResult(
        consent=consents.to_public(consent), withdrawn_referral_ids=[r.id for r in moved]
    )
