"""The person as shared with one referral: copied when it is sent, limited to what its consent covers.

The platform's subject (app/models/subject.py) links a person's referrals for counting and
subject access; what an agency sees of the person is only ever this per-referral record, so
no later referral, onward referral or other agency can change or widen it.
"""

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import EmailStr, field_validator
from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime, enum_type, utcnow
from app.models.consent import DataCategory
from app.models.subject import (
    Circumstances,
    PreferredContact,
    check_nhs_number,
    normalise_postcode,
    plausible_birth_date,
)
from app.text_guard import single_line

# Names, date of birth and NHS number, language and interpreter need travel with every referral
# (the `identity` category); the rest only when the referral's consent covers their category.
IDENTITY_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "nhs_number",
    "language",
    "needs_interpreter",
)
CATEGORY_FIELDS: dict[DataCategory, tuple[str, ...]] = {
    DataCategory.CONTACT: ("phone", "email", "postcode", "preferred_contact"),
    DataCategory.CIRCUMSTANCES: ("circumstances",),
}


class PersonRecordBase(SQLModel):
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    date_of_birth: date
    nhs_number: str | None = Field(default=None, max_length=10)
    postcode: str | None = Field(default=None, max_length=10)
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=254)
    preferred_contact: PreferredContact | None = Field(default=None, sa_type=enum_type(PreferredContact))
    language: str = Field(default="en", max_length=35)
    needs_interpreter: bool = False


class PersonRecord(PersonRecordBase, table=True):
    __tablename__ = "referral_people"
    __table_args__ = (
        # Searching a box by name: each name lower-cased, for a prefix match (`LIKE 'abc%'`).
        # On PostgreSQL the migration builds them with text_pattern_ops, which a prefix match
        # needs under any collation but C.
        Index("ix_referral_people_given_name", text("lower(given_name)")),
        Index("ix_referral_people_family_name", text("lower(family_name)")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    referral_id: uuid.UUID = Field(foreign_key="referrals.id", unique=True)
    # The platform's link to the same person, never shown to an agency.
    subject_id: uuid.UUID = Field(foreign_key="subjects.id", index=True)
    circumstances: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    corrected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    anonymised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PersonRecordPublic(PersonRecordBase):
    """The person as shared with this referral; a detail its consent does not cover is null."""

    id: uuid.UUID = Field(description="This referral's record of the person (not a network-wide id).")
    circumstances: Circumstances | None = None
    corrected_at: datetime | None = None
    anonymised_at: datetime | None = None


class PersonCorrection(SQLModel):
    """Corrected details of the person on one referral; only the members given change."""

    given_name: str | None = Field(default=None, min_length=1, max_length=100)
    family_name: str | None = Field(default=None, min_length=1, max_length=100)
    date_of_birth: date | None = None
    nhs_number: str | None = Field(default=None, max_length=12)
    postcode: str | None = Field(default=None, max_length=10)
    phone: str | None = Field(default=None, max_length=30)
    email: EmailStr | None = Field(default=None, max_length=254)
    preferred_contact: PreferredContact | None = None
    language: str | None = Field(default=None, min_length=2, max_length=35)
    needs_interpreter: bool | None = None
    circumstances: Circumstances | None = None

    _single_line = field_validator("given_name", "family_name", "postcode", "phone")(single_line)
    _birth = field_validator("date_of_birth")(plausible_birth_date)
    _postcode = field_validator("postcode")(normalise_postcode)
    _nhs = field_validator("nhs_number")(check_nhs_number)

    @field_validator("given_name", "family_name", "date_of_birth", "language", "needs_interpreter")
    @classmethod
    def _required_when_given(cls, value: object) -> object:
        # These may be corrected but not removed: a referral always names its person.
        if value is None:
            raise ValueError("may be corrected but not removed")
        return value
