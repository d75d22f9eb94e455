"""Distance travelled: a person's own 1-10 ratings, taken over the course of a referral."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, enum_type, utcnow
from app.models.dates import HappenedOn


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
    taken_on: HappenedOn


class MeasurePublic(MeasureBase):
    id: uuid.UUID
    referral_id: uuid.UUID
    recorded_by_agency_id: uuid.UUID
    recorded_at: datetime


class ScaleChange(BaseModel):
    """How far people moved on one scale, from their first rating to their latest."""

    scale: Scale
    people_measured: int = PydanticField(description="People with at least one rating on this scale.")
    people: int = PydanticField(description="People with two or more ratings: those the change is over.")
    mean_first_score: float | None = PydanticField(description="Their mean first rating; null if none.")
    mean_latest_score: float | None = PydanticField(description="Their mean latest rating; null if none.")
    mean_change: float | None = PydanticField(
        description="Mean of latest minus first rating, per person; positive is better. Null if none."
    )


class DistanceTravelledReport(BaseModel):
    """Ratings on referrals created in the period; figures about scales, never about a person."""

    model_config = ConfigDict(populate_by_name=True)

    start: datetime | None = PydanticField(alias="from")
    end: datetime | None = PydanticField(alias="to")
    agency_id: uuid.UUID | None
    generated_at: datetime
    scales: list[ScaleChange]
