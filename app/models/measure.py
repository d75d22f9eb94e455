"""Distance travelled: a person's own 1-10 ratings, taken over the course of a referral."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, enum_type, utcnow


class Scale(StrEnum):
    """This service's own plain self-ratings, 1 (low) to 10 (high); not a licensed instrument."""

    CONFIDENCE = "confidence"
    JOB_READINESS = "job_readiness"
    MONEY_MANAGEMENT = "money_management"
    WELLBEING = "wellbeing"


class MeasureBase(SQLModel):
    scale: Scale = Field(sa_type=enum_type(Scale))
    score: int = Field(ge=1, le=10)
    taken_on: date


class Measure(MeasureBase, table=True):
    __tablename__ = "measures"
    __table_args__ = (
        Index("ix_measures_referral", "referral_id", "taken_on"),
        # Distance travelled per person and scale, first to latest.
        Index("ix_measures_subject", "subject_id", "scale", "taken_on"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    referral_id: uuid.UUID = Field(foreign_key="referrals.id")
    subject_id: uuid.UUID = Field(foreign_key="subjects.id")
    recorded_by_agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MeasureCreate(MeasureBase):
    pass


class MeasurePublic(MeasureBase):
    id: uuid.UUID
    referral_id: uuid.UUID
    recorded_by_agency_id: uuid.UUID
    recorded_at: datetime
