"""Signposting: an agency told someone about a service without referring them. No personal data."""

import uuid
from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, enum_type, utcnow
from app.models.directory import Purpose


class SignpostBase(SQLModel):
    service_id: uuid.UUID | None = Field(default=None, foreign_key="services.id")
    service_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="A service outside the directory."
    )
    purpose: Purpose = Field(sa_type=enum_type(Purpose))
    occurred_on: date
    note: str | None = Field(
        default=None, max_length=500, description="About the service, never about the person."
    )


class Signpost(SignpostBase, table=True):
    __tablename__ = "signposts"
    __table_args__ = (Index("ix_signposts_agency", "agency_id", "occurred_on", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SignpostCreate(SignpostBase):
    pass


class SignpostPublic(SignpostBase):
    id: uuid.UUID
    agency_id: uuid.UUID
    recorded_at: datetime
