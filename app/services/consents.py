"""Consent: recorded with a referral or reused by id, checked before any sharing, and withdrawn.

An agency learns nothing about a referral it is not party to, by any route. A consent may
cover referrals to several agencies, and any of them may take the person's call to withdraw
it: every open referral under it is withdrawn, but the agency that took the call is told only
of its own, and the others' history shows the person withdrawing through the service. An
agency that relies on a consent it did not record sees that it is in force and covers its own
referrals' purposes, not what else the person agreed to or why they withdrew.
"""

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.models.audit import ActorKind, AuditActor
from app.models.consent import (
    Consent,
    ConsentCreate,
    ConsentPublic,
    ConsentStatus,
    ConsentWithdrawal,
    ConsentWithdrawalResult,
    DataCategory,
    LawfulBasis,
)
from app.models.directory import Purpose
from app.models.person import CATEGORY_FIELDS
from app.models.referral import OPEN_STATUSES, Referral, ReferralStatus, TransitionRequest
from app.models.subject import SubjectCreate
from app.persistence import rows
from app.security import Principal, agency_of
from app.services import audit, referrals

# A preference, not a detail: it is dropped, not refused, when contact details are not shared.
_NOT_REFUSED = frozenset({"preferred_contact"})


def to_public(consent: Consent, now: datetime | None = None) -> ConsentPublic:
    return ConsentPublic.model_validate(consent, update={"status": consent.status_at(now or utcnow())})


def check_terms(terms: Consent | ConsentCreate, purpose: Purpose, field: str) -> None:
    """Refuse terms that do not allow sharing for `purpose` now (422 naming the field)."""

    def at(part: str) -> str:
        # A stored consent is named by its id; inline terms by the member at fault.
        return field if isinstance(terms, Consent) else f"{field}.{part}"

    now = utcnow()
    if isinstance(terms, Consent) and terms.withdrawn_at is not None:
        raise Unprocessable.field(field, "consent has been withdrawn")
    if terms.given_at > now:
        raise Unprocessable.field(f"{field}.given_at", "cannot be in the future")
    if terms.expires_at is not None and terms.expires_at <= now:
        raise Unprocessable.field(at("expires_at"), "consent has expired")
    if purpose not in terms.purposes:
        raise Unprocessable.field(at("purposes"), f"consent does not cover the purpose {purpose.value}")
    if terms.lawful_basis != LawfulBasis.CONSENT and not terms.sharing_agreement_ref:
        message = f"lawful basis {terms.lawful_basis.value} needs a sharing agreement reference"
        raise Unprocessable.field(at("sharing_agreement_ref"), message)


def check_categories(subject: SubjectCreate, categories: list[DataCategory]) -> None:
    """Refuse subject details the person did not agree to share."""
    for category, fields in CATEGORY_FIELDS.items():
        for name in fields:
            given = name not in _NOT_REFUSED and getattr(subject, name) is not None
            if given and category not in categories:
                raise Unprocessable.field(
                    f"subject.{name}", f"consent does not cover sharing {category.value} data"
                )


def new_consent(
    session: AsyncSession, principal: Principal, subject_id: uuid.UUID, terms: ConsentCreate
) -> rows.NewRow:
    """Consent given by the person, recorded by the caller's agency: audited; the caller inserts it."""
    consent = rows.new_row(
        Consent,
        **terms.model_dump(),
        subject_id=subject_id,
        recorded_by_agency_id=agency_of(principal),
        recorded_by=principal.id,
    )
    audit.record(
        session,
        principal.actor,
        "consent.recorded",
        "consent",
        consent.values["id"],
        subject_id=subject_id,
        details={"lawful_basis": terms.lawful_basis.value, "purposes": [p.value for p in terms.purposes]},
    )
    return consent


async def load_own(session: AsyncSession, principal: Principal, consent_id: uuid.UUID) -> Consent:
    """A consent the caller's agency recorded, for reuse on a new referral (422 otherwise).

    The row is locked so a concurrent withdrawal either sees the new referral or is seen by it.
    The agency is part of the query, so another agency's consent and none take the same work.
    """
    query = select(Consent).where(
        col(Consent.id) == consent_id, col(Consent.recorded_by_agency_id) == principal.agency_id
    )
    consent = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if consent is None:
        raise Unprocessable.field("consent_id", "no such consent recorded by your agency")
    return consent


def _under_consent(agency_id: uuid.UUID | None) -> ColumnElement[bool]:
    """Referrals under the consent being read that the agency sent or received."""
    party = or_(col(Referral.from_agency_id) == agency_id, col(Referral.to_agency_id) == agency_id)
    return and_(col(Referral.consent_id) == col(Consent.id), party)


async def get_for_party(
    session: AsyncSession, principal: Principal, consent_id: uuid.UUID, *, for_update: bool = False
) -> Consent:
    """A consent the caller's agency recorded or relies on through a referral; 404 for anyone else.

    Whether the caller is a party is decided in the same query that finds the consent, so a
    consent of others' answers after the same work as one that does not exist.
    """
    relies = exists(select(col(Referral.id)).where(_under_consent(principal.agency_id)))
    mine = col(Consent.recorded_by_agency_id) == principal.agency_id
    query = select(Consent).where(col(Consent.id) == consent_id, or_(mine, relies))
    consent = (await session.execute(query.with_for_update() if for_update else query)).scalar_one_or_none()
    if consent is None:
        raise NotFound(f"Consent {consent_id} not found.")
    return consent


async def _referrals_relying(
    session: AsyncSession, agency_id: uuid.UUID | None, consent_id: uuid.UUID
) -> list[tuple[Purpose, uuid.UUID, uuid.UUID]]:
    """Purpose, sender and receiver of each referral under the consent that the agency is party to."""
    party = or_(col(Referral.from_agency_id) == agency_id, col(Referral.to_agency_id) == agency_id)
    query = select(col(Referral.purpose), col(Referral.from_agency_id), col(Referral.to_agency_id)).where(
        col(Referral.consent_id) == consent_id, party
    )
    return [(row[0], row[1], row[2]) for row in await session.execute(query)]


async def read(session: AsyncSession, principal: Principal, consent_id: uuid.UUID) -> ConsentPublic:
    """The consent as the caller's agency may see it; 404 unless it recorded or relies on it."""
    return await public_for(session, principal, await get_for_party(session, principal, consent_id))


async def public_for(session: AsyncSession, principal: Principal, consent: Consent) -> ConsentPublic:
    """The consent as the caller's agency may see it: the one view the API and the pages share.

    The agency that recorded it sees all of it. Another agency sees the purposes of its own
    referrals under it, and who recorded it and when only if it deals with that agency on one
    of them: a consent carried onward must not name the agency the person first went to. The
    reason for a withdrawal is shown only to the agency that wrote it.
    """
    public = to_public(consent).model_copy(update={"withdrawal_reason": _reason_for(consent, principal)})
    if consent.recorded_by_agency_id == principal.agency_id:
        return public
    relying = await _referrals_relying(session, principal.agency_id, consent.id)
    purposes = {purpose for purpose, _, _ in relying}
    hidden: dict[str, object] = {
        "subject_id": None,
        "purposes": [p for p in public.purposes if p in purposes],
    }
    if not any(consent.recorded_by_agency_id in (sender, receiver) for _, sender, receiver in relying):
        hidden |= {"recorded_by_agency_id": None, "given_at": None, "created_at": None}
    return public.model_copy(update=hidden)


def _reason_for(consent: Consent, principal: Principal) -> str | None:
    mine = principal.agency_id is not None and consent.withdrawn_by_agency_id == principal.agency_id
    return consent.withdrawal_reason if mine else None


async def mark_withdrawn(
    session: AsyncSession, principal: Principal, consent: Consent, reason: str | None
) -> None:
    """Record the withdrawal; the caller moves the open referrals under it to `withdrawn`."""
    if consent.status_at(utcnow()) == ConsentStatus.WITHDRAWN:
        raise Conflict("This consent has already been withdrawn.")
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by_agency_id = principal.agency_id
    consent.withdrawal_reason = reason
    audit.record(
        session, principal.actor, "consent.withdrawn", "consent", consent.id, subject_id=consent.subject_id
    )


# How the history of a referral the caller's agency is not party to shows the withdrawal.
THE_PERSON = AuditActor(kind=ActorKind.SUBJECT)


async def withdraw(
    session: AsyncSession, principal: Principal, consent_id: uuid.UUID, body: ConsentWithdrawal
) -> ConsentWithdrawalResult:
    """Withdraw consent and stop processing: every open referral under it becomes `withdrawn`.

    The caller is told only of the referrals its own agency sent or received.
    """
    consent = await get_for_party(session, principal, consent_id, for_update=True)
    await mark_withdrawn(session, principal, consent, body.reason)
    query = select(Referral).where(
        col(Referral.consent_id) == consent.id, col(Referral.status).in_(OPEN_STATUSES)
    )
    request = TransitionRequest(to=ReferralStatus.WITHDRAWN, reason_code="consent_withdrawn")
    own = []
    for referral in (await session.execute(query.with_for_update())).scalars():
        if principal.agency_id in (referral.from_agency_id, referral.to_agency_id):
            own.append(referral.id)
            await referrals.move(session, referral, principal, request)
        else:
            await referrals.move(session, referral, principal, request, shown_as=THE_PERSON)
    public = await public_for(session, principal, consent)
    return ConsentWithdrawalResult(consent=public, withdrawn_referral_ids=own)
