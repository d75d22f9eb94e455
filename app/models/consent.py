"""Consent (or another lawful basis) to share a person's details for stated purposes."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime, enum_type, utcnow
from app.models.directory import Purpose


class ConsentMethod(StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"
    ELECTRONIC = "electronic"


class LawfulBasis(StrEnum):
    CONSENT = "consent"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"
    VITAL_INTERESTS = "vital_interests"


class DataCategory(StrEnum):
    """What may be shared; `contact` and `circumstances` gate those parts of the subject."""

    IDENTITY = "identity"
    CONTACT = "contact"
    CIRCUMSTANCES = "circumstances"
    HEALTH = "health"
    FINANCIAL = "financial"
    EMPLOYMENT = "employment"


class ConsentStatus(StrEnum):
    IN_FORCE = "in_force"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class ConsentBase(SQLModel):
    given_by: str = Field(
        min_length=1, max_length=100, description="Who gave it: subject, parent, guardian..."
    )
    method: ConsentMethod = Field(sa_type=enum_type(ConsentMethod))
    lawful_basis: LawfulBasis = Field(sa_type=enum_type(LawfulBasis))
    purposes: list[Purpose] = Field(sa_type=JSONType)
    data_categories: list[DataCategory] = Field(default_factory=list, sa_type=JSONType)
    sharing_agreement_ref: str | None = Field(default=None, max_length=200)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Consent(ConsentBase, table=True):
    __tablename__ = "consents"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    given_at: datetime = Field(sa_type=UTCDateTime)
    subject_id: uuid.UUID = Field(foreign_key="subjects.id", index=True)
    recorded_by_agency_id: uuid.UUID = Field(foreign_key="agencies.id", index=True)
    recorded_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_by_agency_id: uuid.UUID | None = Field(default=None)
    withdrawal_reason: str | None = Field(default=None, max_length=500)

    def status_at(self, now: datetime) -> ConsentStatus:
        if self.withdrawn_at is not None:
            return ConsentStatus.WITHDRAWN
        if self.expires_at is not None and self.expires_at <= now:
            return ConsentStatus.EXPIRED
        return ConsentStatus.IN_FORCE


class ConsentCreate(ConsentBase):
    given_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    purposes: list[Purpose] = Field(min_length=1)


class ConsentPublic(ConsentBase):
    id: uuid.UUID
    subject_id: uuid.UUID | None = Field(description="Shown only to the agency that recorded the consent")
    recorded_by_agency_id: uuid.UUID | None = Field(
        description="Who recorded it; null for an agency that relies on it through an onward referral and "
        "does not deal with that agency"
    )
    given_at: datetime | None = Field(description="Null where `recorded_by_agency_id` is")
    purposes: list[Purpose] = Field(
        description="Every purpose, for the agency that recorded it; for another agency, those of its "
        "own referrals under this consent"
    )
    status: ConsentStatus
    created_at: datetime | None = Field(description="Null where `recorded_by_agency_id` is")
    withdrawn_at: datetime | None
    withdrawal_reason: str | None = Field(description="Shown only to the agency that withdrew the consent")


class ConsentWithdrawal(SQLModel):
    reason: str | None = Field(default=None, max_length=500)


class ConsentWithdrawalResult(SQLModel):
    consent: ConsentPublic
    withdrawn_referral_ids: list[uuid.UUID] = Field(
        description="The caller's agency's referrals withdrawn; those of other agencies are withdrawn too, "
        "but not named"
    )
