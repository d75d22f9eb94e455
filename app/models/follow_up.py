"""Follow-ups: a date on which an agency must get back to a person (a job held, support resumed)."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import model_validator
from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, enum_type, utcnow
from app.models.outcome import OutcomeCreate, OutcomeType


class FollowUpKind(StrEnum):
    JOB_SUSTAINMENT_13_WEEKS = "job_sustainment_13_weeks"
    JOB_SUSTAINMENT_26_WEEKS = "job_sustainment_26_weeks"
    RESUME_SUPPORT = "resume_support"


class FollowUpStatus(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    DONE = "done"


class FollowUpResult(StrEnum):
    OUTCOME_RECORDED = "outcome_recorded"
    UNABLE_TO_CONTACT = "unable_to_contact"
    # A resume_support follow-up: the sender has taken the person back.
    SUPPORT_RESUMED = "support_resumed"
    # Closed by the service: the person withdrew consent, so nobody follows them up.
    CONSENT_WITHDRAWN = "consent_withdrawn"


# What the agency following up may say instead of giving an outcome.
STATED_RESULTS = frozenset({FollowUpResult.UNABLE_TO_CONTACT, FollowUpResult.SUPPORT_RESUMED})


class FollowUpBase(SQLModel):
    referral_id: uuid.UUID = Field(foreign_key="referrals.id", index=True)
    kind: FollowUpKind = Field(sa_type=enum_type(FollowUpKind))
    due_on: date


class FollowUp(FollowUpBase, table=True):
    """Owned by one agency (the one that must follow up), on one referral it is party to."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        # An agency's list by due date; its open follow-ups (due and upcoming) have their own.
        Index("ix_follow_ups_agency", "agency_id", "due_on", "id"),
        Index(
            "ix_follow_ups_open",
            "agency_id",
            "due_on",
            "id",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
        # The worker's scan for follow-ups falling due that nobody has been told about yet.
        Index(
            "ix_follow_ups_unannounced",
            "due_on",
            postgresql_where=text("announced_on IS NULL AND done_at IS NULL"),
            sqlite_where=text("announced_on IS NULL AND done_at IS NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    # The referral's journey, kept here so sustainment figures need not read the referrals.
    journey_id: uuid.UUID
    # The outcome that scheduled it (a job entry), if any.
    source_outcome_id: uuid.UUID | None = Field(default=None, foreign_key="outcomes.id")
    result: FollowUpResult | None = Field(default=None, sa_type=enum_type(FollowUpResult))
    outcome_id: uuid.UUID | None = Field(default=None, foreign_key="outcomes.id")
    # The type of that outcome, for the same reason.
    found: OutcomeType | None = Field(default=None, sa_type=enum_type(OutcomeType))
    snooze_note: str | None = Field(default=None, max_length=2000)
    announced_on: date | None = None
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FollowUpPublic(FollowUpBase):
    id: uuid.UUID
    agency_id: uuid.UUID
    status: FollowUpStatus
    result: FollowUpResult | None
    outcome_id: uuid.UUID | None
    snooze_note: str | None
    done_at: datetime | None


class FollowUpCompletion(SQLModel):
    """Either the outcome found when following up, or that the person could not be reached."""

    outcome: OutcomeCreate | None = Field(
        default=None, description="What was found: recorded on the referral as any outcome is."
    )
    result: FollowUpResult | None = Field(
        default=None,
        description="When no outcome is given: `unable_to_contact`, or for a resume_support follow-up "
        "`support_resumed`.",
    )

    @model_validator(mode="after")
    def _one_of_them(self) -> "FollowUpCompletion":
        if self.outcome is None and self.result not in STATED_RESULTS:
            raise ValueError('give either an outcome or "result": "unable_to_contact" (or "support_resumed")')
        if self.outcome is not None and self.result is not None:
            raise ValueError("give either an outcome or a result, not both")
        return self


class FollowUpSnooze(SQLModel):
    due_on: date = Field(description="The new due date: today or later.")
    note: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="Why it waits, for the team; optional. A snooze without one clears the last snooze's.",
    )


class FollowUpRecord(SQLModel):
    """A follow-up as a subject access export shows it (the snooze note may be about the person)."""

    kind: FollowUpKind
    due_on: date
    status: FollowUpStatus
    result: FollowUpResult | None
    snooze_note: str | None
