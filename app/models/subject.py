"""The person referred. Only what the handover needs is stored (data minimisation)."""

import re
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, EmailStr, field_validator
from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime, enum_type, utcnow
from app.text_guard import single_line

CODE = r"^[a-z][a-z0-9_]{0,59}$"
_CODE = re.compile(CODE)


class PreferredContact(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    TEXT = "text"
    LETTER = "letter"
    NONE = "none"


class Circumstances(BaseModel):
    """What the receiving service needs to know; codes, not narratives."""

    model_config = ConfigDict(extra="forbid")

    lone_parent: bool | None = None
    benefits: list[str] = pydantic.Field(default_factory=list, max_length=20)
    barriers: list[str] = pydantic.Field(default_factory=list, max_length=20)

    @field_validator("benefits", "barriers")
    @classmethod
    def _codes(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if not _CODE.fullmatch(v)]
        if bad:
            raise ValueError(f"use lower-case codes such as universal_credit, not {bad[0]!r}")
        return values


class SubjectBase(SQLModel):
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date
    nhs_number: str | None = Field(
        default=None, max_length=10, description="NHS number: 10 digits, the last a modulus 11 check digit"
    )
    postcode: str | None = Field(default=None, max_length=10)
    phone: str | None = Field(default=None, max_length=30)
    email: EmailStr | None = Field(default=None, max_length=254)
    preferred_contact: PreferredContact = Field(
        default=PreferredContact.NONE, sa_type=enum_type(PreferredContact)
    )
    language: str = Field(default="en", min_length=2, max_length=35)
    needs_interpreter: bool = False


class Subject(SubjectBase, table=True):
    __tablename__ = "subjects"
    # The duplicate-referral check looks people up by date of birth and names, any case.
    __table_args__ = (
        Index("ix_subjects_identity", "date_of_birth", text("lower(family_name)"), text("lower(given_name)")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    circumstances: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    recorded_by_agency_id: uuid.UUID = Field(foreign_key="agencies.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set by retention: the person's details are replaced and only the figures remain.
    anonymised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def plausible_birth_date(value: date | None) -> date | None:
    """A date of birth in the past and after 1900."""
    if value is not None and (value > date.today() or value.year < 1900):
        raise ValueError("must be a past date after 1900")
    return value


def normalise_postcode(value: str | None) -> str | None:
    """Upper case, single spaces: "ll13 9aa" is "LL13 9AA"."""
    return " ".join(value.upper().split()) if value else value


def check_nhs_number(value: str | None) -> str | None:
    """Ten digits (spaces allowed between groups) whose last is the modulus 11 check digit."""
    if value is None:
        return None
    digits = "".join(value.split())
    if not re.fullmatch(r"\d{10}", digits):
        raise ValueError("must be 10 digits")
    remainder = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9])) % 11
    check = 11 - remainder
    if check == 10 or (check % 11) != int(digits[9]):
        raise ValueError("is not a valid NHS number (the check digit does not match)")
    return digits


class SubjectCreate(SubjectBase):
    circumstances: Circumstances | None = None
    nhs_number: str | None = Field(
        default=None, max_length=12, description="NHS number: 10 digits, the last a modulus 11 check digit"
    )

    # Matched on, printed on letters and read out on the phone: one line each.
    _single_line = field_validator("given_name", "family_name", "postcode", "phone")(single_line)
    _birth = field_validator("date_of_birth")(plausible_birth_date)
    _postcode = field_validator("postcode")(normalise_postcode)
    _nhs = field_validator("nhs_number")(check_nhs_number)


class SubjectPublic(SubjectBase):
    id: uuid.UUID
    circumstances: Circumstances | None = None
    anonymised_at: datetime | None = None
