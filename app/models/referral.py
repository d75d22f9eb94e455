"""Referrals and their status history; outcomes and messages have modules of their own."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime
from sqlalchemy import Column, Index, Integer, text
from sqlmodel import Field, Relationship, SQLModel

from app.db import JSONType, UTCDateTime, enum_type, utcnow
from app.models.audit import ActorKind, AuditActor
from app.models.consent import ConsentCreate
from app.models.directory import Purpose
from app.models.person import PersonRecord, PersonRecordPublic
from app.models.subject import SubjectCreate

OPEN_KEY_INDEX = "ux_referrals_open_key"


class ReferralStatus(StrEnum):
    SUBMITTED = "submitted"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    HANDOVER_SCHEDULED = "handover_scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"


TERMINAL_STATUSES = frozenset(
    {ReferralStatus.DECLINED, ReferralStatus.COMPLETED, ReferralStatus.CANCELLED, ReferralStatus.WITHDRAWN}
)
OPEN_STATUSES = frozenset(ReferralStatus) - TERMINAL_STATUSES


class Urgency(StrEnum):
    ROUTINE = "routine"
    SOON = "soon"
    URGENT = "urgent"


class HandoverMode(StrEnum):
    WARM_INTRODUCTION = "warm_introduction"
    JOINT_APPOINTMENT = "joint_appointment"
    REFERRAL_ONLY = "referral_only"


class DeclineReason(StrEnum):
    NOT_ELIGIBLE = "not_eligible"
    NO_CAPACITY = "no_capacity"
    OUT_OF_AREA = "out_of_area"
    DUPLICATE = "duplicate"
    UNABLE_TO_CONTACT = "unable_to_contact"
    DECLINED_BY_PERSON = "declined_by_person"
    OTHER = "other"


class CancelReason(StrEnum):
    NO_LONGER_NEEDED = "no_longer_needed"
    REFERRED_ELSEWHERE = "referred_elsewhere"
    PERSON_MOVED = "person_moved"
    SENT_IN_ERROR = "sent_in_error"
    DECLINED_BY_PERSON = "declined_by_person"
    OTHER = "other"


class Appointment(SQLModel):
    starts_at: AwareDatetime
    location: str = Field(min_length=1, max_length=300)
    with_whom: str = Field(min_length=1, max_length=200)


class ReferralBase(SQLModel):
    purpose: Purpose = Field(sa_type=enum_type(Purpose))
    reason: str = Field(min_length=1, max_length=4000)
    urgency: Urgency = Field(default=Urgency.ROUTINE, sa_type=enum_type(Urgency))
    handover_mode: HandoverMode = Field(default=HandoverMode.REFERRAL_ONLY, sa_type=enum_type(HandoverMode))


class Referral(ReferralBase, table=True):
    __tablename__ = "referrals"
    __table_args__ = (
        # Inbox and sent lists: one agency's referrals, newest first.
        Index("ix_referrals_inbox", "to_agency_id", "created_at", "id"),
        Index("ix_referrals_sent", "from_agency_id", "created_at", "id"),
        # How many referrals each view of the lists holds (statuses, and overdue by due date),
        # counted from the index alone.
        Index("ix_referrals_inbox_status", "to_agency_id", "status", "due_by"),
        Index("ix_referrals_sent_status", "from_agency_id", "status", "due_by"),
        # The same lists by due date, and by urgency (then newest).
        Index("ix_referrals_inbox_due", "to_agency_id", "due_by", "id"),
        Index("ix_referrals_sent_due", "from_agency_id", "due_by", "id"),
        Index("ix_referrals_inbox_urgency", "to_agency_id", "urgency", "created_at", "id"),
        Index("ix_referrals_sent_urgency", "from_agency_id", "urgency", "created_at", "id"),
        # A person's referrals, and the duplicate check: their open referrals from one agency
        # to one service.
        Index("ix_referrals_person", "subject_id", "to_service_id", "from_agency_id"),
        # Overdue reports.
        Index("ix_referrals_service_status", "to_service_id", "status"),
        Index("ix_referrals_status_due", "status", "due_by"),
        # Referrals made onward (a minority): their parents' children, and their count in reports.
        Index(
            "ix_referrals_onward",
            "parent_referral_id",
            postgresql_where=text("parent_referral_id IS NOT NULL"),
            sqlite_where=text("parent_referral_id IS NOT NULL"),
        ),
        # One open referral per person, sending agency and receiving service, enforced by the
        # database: two creates at the same moment cannot both pass the duplicate check.
        Index(
            OPEN_KEY_INDEX,
            "open_key",
            unique=True,
            postgresql_where=text("open_key IS NOT NULL"),
            sqlite_where=text("open_key IS NOT NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    reference: str = Field(max_length=20, unique=True)
    from_agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    from_actor_kind: ActorKind = Field(sa_type=enum_type(ActorKind))
    from_actor_id: str = Field(max_length=80)
    to_agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    to_service_id: uuid.UUID = Field(foreign_key="services.id")
    subject_id: uuid.UUID = Field(foreign_key="subjects.id")
    consent_id: uuid.UUID = Field(foreign_key="consents.id", index=True)
    status: ReferralStatus = Field(default=ReferralStatus.SUBMITTED, sa_type=enum_type(ReferralStatus))
    due_by: datetime = Field(sa_type=UTCDateTime)
    first_viewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    appointment: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    duplicate_reason: str | None = Field(default=None, max_length=500)
    # A hash of the sending agency, receiving service and person while the referral is open and
    # not an allowed duplicate; cleared when it closes.
    open_key: str | None = Field(default=None, max_length=64)
    outcome_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    # Kept with every outcome recorded, so reports count each type once per referral, and time
    # the first outcome, without reading the outcomes table.
    outcome_types: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    first_outcome_on: date | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # Who in the receiving agency has it in hand.
    assigned_to_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", index=True)
    # The last change each agency made (created, moved, a message, an outcome): what makes the
    # referral unread for the other agency's staff until they open it.
    changed_by_sender_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    changed_by_receiver_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Referrals made onward from one another share a journey (a random id, so that it names
    # none of them); the parent is the referral whose receiver made this one.
    journey_id: uuid.UUID = Field(default_factory=uuid.uuid4, index=True)
    parent_referral_id: uuid.UUID | None = Field(default=None, foreign_key="referrals.id")
    # The sender expects the person back when the receiver's work ends.
    return_to_referrer: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})

    # What the two parties see of the person: this referral's own record, read with it.
    person: PersonRecord = Relationship(
        sa_relationship_kwargs={"lazy": "joined", "innerjoin": True, "uselist": False}
    )


class Assignee(SQLModel):
    id: uuid.UUID
    display_name: str


class ReferralRead(SQLModel, table=True):
    """When one reader (a member of staff, or a partner system) last opened a referral."""

    __tablename__ = "referral_reads"

    referral_id: uuid.UUID = Field(foreign_key="referrals.id", primary_key=True)
    reader_kind: ActorKind = Field(sa_type=enum_type(ActorKind), primary_key=True)
    reader_id: str = Field(max_length=80, primary_key=True)
    read_at: datetime = Field(sa_type=UTCDateTime)


class AssignmentRequest(SQLModel):
    user_id: uuid.UUID | None = Field(description="A user of the receiving agency, or null to unassign.")


class ReferralCreate(ReferralBase):
    to_service_id: uuid.UUID
    subject: SubjectCreate | None = None
    consent: ConsentCreate | None = None
    consent_id: uuid.UUID | None = None
    allow_duplicate: bool = False
    duplicate_reason: str | None = Field(default=None, max_length=500)
    parent_referral_id: uuid.UUID | None = Field(
        default=None,
        description="A referral your agency received for the same person: the new one joins its journey, "
        "reusing its subject and, if it covers the new purpose, its consent.",
    )
    return_to_referrer: bool = Field(
        default=False, description="You expect the person back: a follow-up is due to you when it closes."
    )


class JourneyReferral(SQLModel):
    """A referral on the same journey that the caller's agency is party to."""

    id: uuid.UUID
    reference: str
    status: ReferralStatus
    purpose: Purpose
    from_agency_id: uuid.UUID
    to_agency_id: uuid.UUID
    created_at: datetime


class ReferralPublic(ReferralBase):
    id: uuid.UUID
    reference: str
    status: ReferralStatus
    from_agency_id: uuid.UUID
    to_agency_id: uuid.UUID
    to_service_id: uuid.UUID
    subject: PersonRecordPublic = Field(
        description="The person as shared with this referral, limited to what its consent covers."
    )
    consent_id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    due_by: datetime
    first_viewed_at: datetime | None
    decided_at: datetime | None
    closed_at: datetime | None
    appointment: Appointment | None
    outcome_count: int
    version: int
    allowed_actions: list[ReferralStatus]
    assigned_to: Assignee | None = None
    unread: bool = Field(
        default=False, description="Whether the other agency changed it since you opened it."
    )
    new_messages: bool = Field(
        default=False,
        description="Whether the other agency sent a message since you last opened it (lists only).",
    )
    return_to_referrer: bool = False
    parent_referral_id: uuid.UUID | None = Field(
        default=None, description="The referral this one was made onward from; shown to its sender only."
    )
    journey: list[JourneyReferral] | None = Field(
        default=None,
        description="Linked referrals your agency is party to, this one included (single referral only).",
    )


class HistoryKind(StrEnum):
    STATUS_CHANGED = "status_changed"
    # The sender corrected the person's details; the history does not say to what.
    DETAILS_CORRECTED = "details_corrected"
    # The receiver moved the handover appointment; the entry carries the new one.
    APPOINTMENT_CHANGED = "appointment_changed"


class StatusChange(SQLModel, table=True):
    """One move through the state machine (the creation is the move from nothing to `submitted`),
    or a change that leaves the status as it was: the person's details corrected, the
    appointment moved."""

    __tablename__ = "referral_status_changes"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    referral_id: uuid.UUID = Field(foreign_key="referrals.id", index=True)
    from_status: ReferralStatus | None = Field(default=None, sa_type=enum_type(ReferralStatus))
    to_status: ReferralStatus = Field(sa_type=enum_type(ReferralStatus))
    actor_kind: ActorKind = Field(sa_type=enum_type(ActorKind))
    actor_id: str | None = Field(default=None, max_length=80)
    actor_agency_id: uuid.UUID | None = None
    reason_code: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=2000)
    appointment: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: HistoryKind = Field(
        default=HistoryKind.STATUS_CHANGED,
        sa_type=enum_type(HistoryKind),
        sa_column_kwargs={"server_default": HistoryKind.STATUS_CHANGED.value},
    )


class StatusChangePublic(SQLModel):
    kind: HistoryKind = HistoryKind.STATUS_CHANGED
    from_status: ReferralStatus | None
    to_status: ReferralStatus
    actor: AuditActor
    at: datetime
    reason_code: str | None
    note: str | None
    appointment: Appointment | None


class TransitionRequest(SQLModel):
    to: ReferralStatus
    reason_code: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=2000)
    appointment: Appointment | None = None
