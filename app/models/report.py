"""Management information: figures about referrals, never about the people referred."""

import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import Index
from sqlmodel import col

from app.models.directory import Purpose
from app.models.follow_up import FollowUpKind
from app.models.outcome import Outcome, OutcomeKind, OutcomeType
from app.models.referral import Referral, ReferralStatus, Urgency

# Decisions still awaited: the only statuses a referral can be overdue in.
UNDECIDED_STATUSES = (ReferralStatus.SUBMITTED, ReferralStatus.RECEIVED)

# Declared here, next to the queries they serve, and created by migration 0005.
# Period reports read only these columns: on PostgreSQL the index covers them, so once the
# table is vacuumed a report reads the narrow index, not the rows with their free text.
Index(
    "ix_referrals_report",
    col(Referral.created_at),
    postgresql_include=[
        "id",
        "status",
        "purpose",
        "from_agency_id",
        "to_agency_id",
        "decided_at",
        "due_by",
        "outcome_count",
    ],
)
# An agency's overdue list: partial, so it holds only referrals still awaiting a decision.
Index(
    "ix_referrals_overdue",
    col(Referral.to_agency_id),
    col(Referral.due_by),
    col(Referral.id),
    postgresql_where=col(Referral.status).in_([s.value for s in UNDECIDED_STATUSES]),
    sqlite_where=col(Referral.status).in_([s.value for s in UNDECIDED_STATUSES]),
)
# Outcome figures, and outcomes per journey, read only referrals with an outcome: on PostgreSQL
# this partial index covers what those scans read, in journey order, so that a journey's
# referrals are combined as they are read rather than hashed.
Index(
    "ix_referrals_outcomes",
    col(Referral.journey_id),
    postgresql_include=[
        "created_at",
        "outcome_types",
        "first_outcome_on",
        "purpose",
        "from_agency_id",
        "to_agency_id",
    ],
    postgresql_where=col(Referral.outcome_count) > 0,
    sqlite_where=col(Referral.outcome_count) > 0,
)
# Outcome figures per referral (first date, types) without reading the notes.
Index("ix_outcomes_report", col(Outcome.referral_id), col(Outcome.type), col(Outcome.occurred_on))


class GroupBy(StrEnum):
    PURPOSE = "purpose"
    FROM_AGENCY = "from_agency"
    TO_AGENCY = "to_agency"


class PeriodQuery(BaseModel):
    """The period [from, to) and agency a report covers; a bare date means midnight UTC at its start."""

    model_config = ConfigDict(populate_by_name=True)

    start: AwareDatetime | None = Field(
        default=None, alias="from", description="The period starts at this time (or date), inclusive."
    )
    end: AwareDatetime | None = Field(
        default=None, alias="to", description="The period ends before this time (or date)."
    )
    agency_id: uuid.UUID | None = Field(
        default=None, description="Only this agency's figures (an agency account: its own only)."
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_is_midnight_utc(cls, value: object) -> object:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return f"{value.strip()}T00:00:00Z"
        return value

    @field_validator("start", "end")
    @classmethod
    def _representable_in_utc(cls, value: datetime | None) -> datetime | None:
        try:
            return value.astimezone(UTC) if value is not None else None
        except OverflowError:
            raise ValueError("is out of range") from None

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("start")
        if value is not None and start is not None and value <= start:
            raise ValueError("must be later than from")
        return value


class ReportQuery(PeriodQuery):
    """The period and scope of a referral summary: referrals created in [from, to)."""

    start: AwareDatetime | None = Field(
        default=None, alias="from", description="Referrals created at or after this time (or date)."
    )
    end: AwareDatetime | None = Field(
        default=None, alias="to", description="Referrals created before this time (or date)."
    )
    agency_id: uuid.UUID | None = Field(
        default=None, description="Only referrals this agency sent or received."
    )
    group_by: GroupBy | None = Field(default=None, description="One group per purpose or agency.")


class OutcomeRule(StrEnum):
    """How the report counts an outcome recorded more than once."""

    ONCE_PER_REFERRAL = "once_per_referral"
    ONCE_PER_PERSON_PER_JOURNEY = "once_per_person_per_journey"


class OutcomeTally(BaseModel):
    type: OutcomeType
    kind: OutcomeKind
    count: int = Field(description="By the report's outcome_rule: journeys platform-wide, else referrals.")
    referrals: int = Field(description="Referrals with at least one outcome of this type.")
    journeys: int | None = Field(
        default=None,
        description="Platform-wide reports: journeys with this outcome, once however many of their "
        "referrals recorded it (one person per journey); null in an agency's report.",
    )


class Sustainment(BaseModel):
    """Job entries followed up at 13 or 26 weeks: counted per journey platform-wide, else per follow-up."""

    kind: FollowUpKind
    due: int = Field(description="Follow-ups of this kind due by the time of the report.")
    followed_up: int = Field(description="Of those due, the ones done.")
    sustained: int = Field(description="Done with the job still held.")
    not_sustained: int
    unable_to_contact: int


class ReportGroup(BaseModel):
    """The figures for one group (or for everything, when the report is not grouped)."""

    key: str | None = Field(description="Purpose code or agency id; null when not grouped.")
    label: str | None = Field(description="Purpose code or agency name; null when not grouped.")
    referrals: int
    by_status: dict[ReferralStatus, int]
    decided: int = Field(description="Referrals accepted or declined.")
    accepted_or_later: int = Field(description="Decided referrals that were accepted.")
    acceptance_rate: float | None = Field(description="accepted_or_later / decided; null when none decided.")
    median_hours_to_decision: float | None
    median_days_to_first_outcome: float | None
    overdue: int = Field(description="Submitted or received, past due_by, at the time of the report.")
    with_outcome: int = Field(description="Referrals with at least one outcome recorded.")
    hard_outcomes: int = Field(description="Hard outcomes counted by the report's outcome_rule.")
    soft_outcomes: int = Field(description="Soft outcomes counted by the report's outcome_rule.")
    outcomes: list[OutcomeTally]
    journeys: int | None = Field(
        default=None,
        description="Journeys with a referral in the group: a person's referrals made onward from one "
        "another count as one. In an agency's report, journeys of the referrals it sent or received.",
    )
    sustainment: list[Sustainment]


class ReportSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: datetime | None = Field(alias="from")
    end: datetime | None = Field(alias="to")
    agency_id: uuid.UUID | None
    group_by: GroupBy | None
    outcome_rule: OutcomeRule = Field(
        description="once_per_person_per_journey in platform-wide reports (an outcome recorded on "
        "several referrals of one journey counts once), once_per_referral in an agency's report."
    )
    generated_at: datetime
    groups: list[ReportGroup]


class OverdueReferral(BaseModel):
    """A referral awaiting the caller's decision past its due time; no details of the person."""

    id: uuid.UUID
    reference: str
    status: ReferralStatus
    purpose: Purpose
    urgency: Urgency
    from_agency_id: uuid.UUID
    to_service_id: uuid.UUID
    created_at: datetime
    due_by: datetime
    days_overdue: int = Field(description="Whole days since due_by.")
