"""Outcomes: what happened for the person, recorded by either agency, hard or soft."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, enum_type, utcnow
from app.models.dates import HappenedOn
from app.models.directory import Purpose


class OutcomeType(StrEnum):
    JOB_ENTRY = "job_entry"
    TRAINING_STARTED = "training_started"
    TRAINING_COMPLETED = "training_completed"
    VOLUNTEERING = "volunteering"
    BETTER_OFF_CALCULATION_DONE = "better_off_calculation_done"
    BENEFIT_CLAIM_MADE = "benefit_claim_made"
    DEBT_PLAN_AGREED = "debt_plan_agreed"
    CHILDCARE_ARRANGED = "childcare_arranged"
    ENGAGED_WITH_SERVICE = "engaged_with_service"
    CONFIDENCE_IMPROVED = "confidence_improved"
    DID_NOT_ATTEND = "did_not_attend"
    UNABLE_TO_CONTACT = "unable_to_contact"
    REFERRED_ONWARD = "referred_onward"
    OTHER = "other"
    # Recorded when a job entry is followed up (added last: see OUTCOME_BITS).
    JOB_SUSTAINED_13_WEEKS = "job_sustained_13_weeks"
    JOB_SUSTAINED_26_WEEKS = "job_sustained_26_weeks"
    JOB_NOT_SUSTAINED = "job_not_sustained"


class OutcomeKind(StrEnum):
    HARD = "hard"
    SOFT = "soft"


# Hard outcomes are verifiable changes in the person's situation; the rest are soft.
HARD_OUTCOMES = frozenset(
    {
        OutcomeType.JOB_ENTRY,
        OutcomeType.TRAINING_STARTED,
        OutcomeType.TRAINING_COMPLETED,
        OutcomeType.VOLUNTEERING,
        OutcomeType.BETTER_OFF_CALCULATION_DONE,
        OutcomeType.BENEFIT_CLAIM_MADE,
        OutcomeType.DEBT_PLAN_AGREED,
        OutcomeType.CHILDCARE_ARRANGED,
        OutcomeType.JOB_SUSTAINED_13_WEEKS,
        OutcomeType.JOB_SUSTAINED_26_WEEKS,
    }
)


# One bit per outcome type, stored in `referrals.outcome_types`: new types go at the end of
# OutcomeType so that the bits already stored keep their meaning.
OUTCOME_BITS: dict[OutcomeType, int] = {outcome_type: 1 << i for i, outcome_type in enumerate(OutcomeType)}


# Recorded when a job entry is followed up, not as the work of a referral.
JOB_CHECKS = (
    OutcomeType.JOB_SUSTAINED_13_WEEKS,
    OutcomeType.JOB_SUSTAINED_26_WEEKS,
    OutcomeType.JOB_NOT_SUSTAINED,
)

# What the work of each purpose usually leads to, offered first when an outcome is recorded.
_T = OutcomeType
FITTING_OUTCOMES: dict[Purpose, tuple[OutcomeType, ...]] = {
    Purpose.BETTER_OFF_CALCULATION: (_T.BETTER_OFF_CALCULATION_DONE, _T.BENEFIT_CLAIM_MADE, _T.JOB_ENTRY),
    Purpose.WORK_FOCUSED_INTERVIEW: (_T.JOB_ENTRY, _T.TRAINING_STARTED, _T.VOLUNTEERING),
    Purpose.JOB_SEARCH_SUPPORT: (_T.JOB_ENTRY, _T.TRAINING_STARTED, _T.VOLUNTEERING),
    Purpose.TRAINING_AND_SKILLS: (_T.TRAINING_STARTED, _T.TRAINING_COMPLETED, _T.JOB_ENTRY),
    Purpose.ESOL: (_T.TRAINING_STARTED, _T.TRAINING_COMPLETED, _T.CONFIDENCE_IMPROVED),
    Purpose.CHILDCARE_SUPPORT: (_T.CHILDCARE_ARRANGED, _T.JOB_ENTRY),
    Purpose.DEBT_ADVICE: (_T.DEBT_PLAN_AGREED, _T.BENEFIT_CLAIM_MADE, _T.BETTER_OFF_CALCULATION_DONE),
    Purpose.BENEFITS_ADVICE: (_T.BENEFIT_CLAIM_MADE, _T.BETTER_OFF_CALCULATION_DONE),
    Purpose.HOUSING_SUPPORT: (_T.ENGAGED_WITH_SERVICE, _T.BENEFIT_CLAIM_MADE),
    Purpose.HEALTH_VISITING: (_T.ENGAGED_WITH_SERVICE, _T.CONFIDENCE_IMPROVED),
    Purpose.FAMILY_SUPPORT: (_T.ENGAGED_WITH_SERVICE, _T.CONFIDENCE_IMPROVED, _T.CHILDCARE_ARRANGED),
    Purpose.VOLUNTEERING: (_T.VOLUNTEERING, _T.CONFIDENCE_IMPROVED),
    Purpose.DOMESTIC_ABUSE_SUPPORT: (_T.ENGAGED_WITH_SERVICE, _T.CONFIDENCE_IMPROVED),
    Purpose.MENTAL_HEALTH_SUPPORT: (_T.ENGAGED_WITH_SERVICE, _T.CONFIDENCE_IMPROVED),
}


def outcome_kind(outcome_type: OutcomeType) -> OutcomeKind:
    return OutcomeKind.HARD if outcome_type in HARD_OUTCOMES else OutcomeKind.SOFT


class OutcomeBase(SQLModel):
    type: OutcomeType = Field(sa_type=enum_type(OutcomeType))
    occurred_on: date
    note: str | None = Field(default=None, max_length=2000)


class Outcome(OutcomeBase, table=True):
    __tablename__ = "outcomes"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    referral_id: uuid.UUID = Field(foreign_key="referrals.id", index=True)
    kind: OutcomeKind = Field(sa_type=enum_type(OutcomeKind))
    recorded_by_agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutcomeCreate(OutcomeBase):
    occurred_on: HappenedOn


class OutcomePublic(OutcomeBase):
    id: uuid.UUID
    referral_id: uuid.UUID
    kind: OutcomeKind
    recorded_by_agency_id: uuid.UUID
    recorded_at: datetime
