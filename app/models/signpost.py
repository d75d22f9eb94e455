"""Signposting: an agency told someone about a service without referring them. No personal data."""

import uuid
from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, enum_type, utcnow
from app.models.dates import HappenedOn
from app.models.directory import Purpose


class SignpostBase(SQLModel):
    service_id: uuid.UUID | None = Field(
        default=None, foreign_key="services.id", description="A service in the directory."
    )
    service_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="A service outside the directory."
    )
    purpose: Purpose = Field(sa_type=enum_type(Purpose))
    occurred_on: date = Field(description="The day the person was told about the service.")
    note: str | None = Field(
        default=None,
        max_length=500,
        description="About the service (opening times, what to bring), never about the person.",
    )


class Signpost(SignpostBase, table=True):
    __tablename__ = "signposts"
    __table_args__ = (Index("ix_signposts_agency", "agency_id", "occurred_on", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SignpostCreate(SignpostBase):
    """Exactly one of `service_id` (a directory service) and `service_name` (any other service)."""

    occurred_on: HappenedOn = Field(description="The day the person was told about the service.")

    @field_validator("service_name")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _one_service(self) -> Self:
        if (self.service_id is None) == (self.service_name is None):
            raise ValueError("give exactly one of service_id and service_name")
        return self


class SignpostPublic(SignpostBase):
    id: uuid.UUID
    agency_id: uuid.UUID
    recorded_at: datetime


class PurposeCount(BaseModel):
    purpose: Purpose
    signposts: int


class ServiceCount(BaseModel):
    service_id: uuid.UUID | None = PydanticField(
        description="The directory service; null for a free-text name."
    )
    service_name: str = PydanticField(description="The directory service's name, or the name as recorded.")
    signposts: int


class SignpostReport(BaseModel):
    """Signposts in a period, counted apart from referrals: no person is counted, only the telling."""

    model_config = ConfigDict(populate_by_name=True)

    start: datetime | None = PydanticField(alias="from")
    end: datetime | None = PydanticField(alias="to")
    agency_id: uuid.UUID | None
    generated_at: datetime
    signposts: int
    by_purpose: list[PurposeCount] = PydanticField(description="Most signposts first.")
    by_service: list[ServiceCount] = PydanticField(description="Most signposts first.")
