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

from sqlalchemy import select
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
from app.models.referral import OPEN_STATUSES, Referral, ReferralStatus, TransitionRequest
from app.models.subject import SubjectCreate
from app.persistence import rows
from app.security import Principal, agency_of
from app.services import audit, referrals

# Subject fields that may travel only when the consent covers their data category.
CATEGORY_FIELDS = {
    DataCategory.CONTACT: ("phone", "email", "postcode"),
    DataCategory.CIRCUMSTANCES: ("circumstances",),
}


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
            if getattr(subject, name) is not None and category not in categories:
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
    """
    consent = await session.get(Consent, consent_id, with_for_update=True)
    if consent is None or consent.recorded_by_agency_id != principal.agency_id:
        raise Unprocessable.field("consent_id", "no such consent recorded by your agency")
    return consent


async def get_for_party(
    session: AsyncSession, principal: Principal, consent_id: uuid.UUID, *, for_update: bool = False
) -> Consent:
    """A consent the caller's agency recorded or relies on through a referral; 404 for anyone else."""
    consent = await session.get(Consent, consent_id, with_for_update=for_update)
    if consent is None or not await _is_party(session, principal, consent):
        raise NotFound(f"Consent {consent_id} not found.")
    return consent


async def _is_party(session: AsyncSession, principal: Principal, consent: Consent) -> bool:
    if principal.agency_id is None:
        return False
    if consent.recorded_by_agency_id == principal.agency_id:
        return True
    return bool(await _purposes_relied_on(session, principal.agency_id, consent.id))


async def _purposes_relied_on(
    session: AsyncSession, agency_id: uuid.UUID, consent_id: uuid.UUID
) -> set[Purpose]:
    """The purposes of the referrals under the consent that the agency sent or received."""
    query = select(col(Referral.purpose)).where(
        col(Referral.consent_id) == consent_id,
        (col(Referral.from_agency_id) == agency_id) | (col(Referral.to_agency_id) == agency_id),
    )
    return set((await session.execute(query.distinct())).scalars())


async def read(session: AsyncSession, principal: Principal, consent_id: uuid.UUID) -> ConsentPublic:
    """The consent as the caller's agency may see it; 404 unless it recorded or relies on it."""
    return await public_for(session, principal, await get_for_party(session, principal, consent_id))


async def public_for(session: AsyncSession, principal: Principal, consent: Consent) -> ConsentPublic:
    """All of the consent for the agency that recorded it; for another, what its referrals rely on."""
    public = to_public(consent)
    if consent.recorded_by_agency_id == principal.agency_id:
        return public
    relied_on = await _purposes_relied_on(session, agency_of(principal), consent.id)
    purposes = [p for p in public.purposes if p in relied_on]
    return public.model_copy(update={"purposes": purposes, "withdrawal_reason": None})


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
