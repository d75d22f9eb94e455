"""Consent: recorded with a referral or reused by id, checked before any sharing, and withdrawn."""

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.errors import Conflict, NotFound, Unprocessable
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
    agency = principal.agency_id
    query = select(col(Referral.id)).where(
        col(Referral.consent_id) == consent.id,
        (col(Referral.from_agency_id) == agency) | (col(Referral.to_agency_id) == agency),
    )
    return (await session.execute(query.limit(1))).first() is not None


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


async def withdraw(
    session: AsyncSession, principal: Principal, consent_id: uuid.UUID, body: ConsentWithdrawal
) -> ConsentWithdrawalResult:
    """Withdraw consent and stop processing: every open referral under it becomes `withdrawn`."""
    consent = await get_for_party(session, principal, consent_id, for_update=True)
    await mark_withdrawn(session, principal, consent, body.reason)
    query = select(Referral).where(
        col(Referral.consent_id) == consent.id, col(Referral.status).in_(OPEN_STATUSES)
    )
    moved = list((await session.execute(query.with_for_update())).scalars())
    for referral in moved:
        request = TransitionRequest(to=ReferralStatus.WITHDRAWN, reason_code="consent_withdrawn")
        await referrals.move(session, referral, principal, request)
    return ConsentWithdrawalResult(consent=to_public(consent), withdrawn_referral_ids=[r.id for r in moved])
