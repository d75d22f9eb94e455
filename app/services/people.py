"""The person's record on a referral: what each party sees, decided in one place.

When a referral is sent, the person's details are copied onto it, limited to the data
categories its consent covers (`identity`, always; `contact`; `circumstances`). Both parties
see that copy and nothing else, through every route: the API, the staff pages, the subject
access export. Another referral for the same person, an onward referral or another agency's
records never change it; only the referral's sender may correct it.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.consent import DataCategory
from app.models.person import CATEGORY_FIELDS, IDENTITY_FIELDS, PersonRecord, PersonRecordPublic
from app.models.referral import Referral
from app.models.subject import PreferredContact, Subject, SubjectCreate
from app.persistence import rows

RECORD_FIELDS = (*IDENTITY_FIELDS, *(name for names in CATEGORY_FIELDS.values() for name in names))


def details_of(given: SubjectCreate | Subject | PersonRecord) -> dict[str, Any]:
    """The person's details as a sender gave or holds them, in the record's terms."""
    if isinstance(given, SubjectCreate):
        circumstances = given.circumstances.model_dump(mode="json") if given.circumstances else None
        return given.model_dump(include=set(RECORD_FIELDS)) | {"circumstances": circumstances}
    return {name: getattr(given, name) for name in RECORD_FIELDS}


def shared_details(details: dict[str, Any], categories: list[DataCategory]) -> dict[str, Any]:
    """What of `details` a referral under consent to `categories` may carry."""
    shared = {name: details.get(name) for name in IDENTITY_FIELDS}
    for category, names in CATEGORY_FIELDS.items():
        for name in names:
            shared[name] = details.get(name) if category in categories else None
    if shared["preferred_contact"] is None and DataCategory.CONTACT in categories:
        shared["preferred_contact"] = PreferredContact.NONE
    return shared


def new_record(
    referral_id: uuid.UUID, subject_id: uuid.UUID, details: dict[str, Any], categories: list[DataCategory]
) -> rows.NewRow:
    """The referral's own copy of the person, as its consent lets it travel."""
    return rows.new_row(
        PersonRecord, referral_id=referral_id, subject_id=subject_id, **shared_details(details, categories)
    )


def to_public(record: PersonRecord | dict[str, Any]) -> PersonRecordPublic:
    """The record as both parties see it."""
    return PersonRecordPublic.model_validate(record)


async def held_by(session: AsyncSession, agency_id: uuid.UUID, subject: Subject) -> dict[str, Any]:
    """What an agency holds on a person: its own record of them, else the latest referral it took part in.

    An agency that did not record the person knows only what was shared with its referrals.
    """
    if subject.recorded_by_agency_id == agency_id:
        return details_of(subject)
    party = or_(col(Referral.from_agency_id) == agency_id, col(Referral.to_agency_id) == agency_id)
    query = (
        select(PersonRecord)
        .join(Referral, col(Referral.id) == col(PersonRecord.referral_id))
        .where(col(PersonRecord.subject_id) == subject.id, party)
        .order_by(col(Referral.created_at).desc())
        .limit(1)
    )
    record = (await session.execute(query)).scalar_one_or_none()
    if record is None:  # identity travels with every referral, so this much it always knows
        return {name: getattr(subject, name) for name in IDENTITY_FIELDS}
    return details_of(record)


async def record_of(session: AsyncSession, referral_id: uuid.UUID) -> PersonRecord:
    """The person as shared with one referral."""
    query = select(PersonRecord).where(col(PersonRecord.referral_id) == referral_id)
    return (await session.execute(query)).scalar_one()


async def referral_of_record(session: AsyncSession, record_id: uuid.UUID) -> uuid.UUID | None:
    """The referral a record of the person belongs to (the caller then loads it for its party)."""
    query = select(col(PersonRecord.referral_id)).where(col(PersonRecord.id) == record_id)
    found: uuid.UUID | None = (await session.execute(query)).scalar_one_or_none()
    return found


async def first_record_under_consent(
    session: AsyncSession, agency_id: uuid.UUID | None, consent_id: uuid.UUID
) -> tuple[uuid.UUID, datetime] | None:
    """The person as shared with the agency's first referral under a consent, and when it was sent.

    Where a consent has to name its person, this is the record the agency was shown; never
    another party's record, nor the platform's own.
    """
    party = or_(col(Referral.from_agency_id) == agency_id, col(Referral.to_agency_id) == agency_id)
    query = (
        select(col(PersonRecord.id), col(Referral.created_at))
        .join(Referral, col(Referral.id) == col(PersonRecord.referral_id))
        .where(col(Referral.consent_id) == consent_id, party)
        .order_by(col(Referral.created_at), col(Referral.id))
        .limit(1)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None
