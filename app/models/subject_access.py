"""A subject access export: everything held about one person, in one document."""

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.models.audit import ActorKind, AuditEventPublic
from app.models.consent import ConsentPublic
from app.models.directory import Purpose
from app.models.follow_up import FollowUpRecord
from app.models.measure import MeasurePublic
from app.models.message import MessagePublic
from app.models.outcome import OutcomePublic
from app.models.person import PersonRecordPublic
from app.models.referral import HandoverMode, ReferralStatus, StatusChangePublic, Urgency
from app.models.subject import SubjectPublic


class SubjectRecord(SubjectPublic):
    recorded_by_agency_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class OutcomeRecord(OutcomePublic):
    recorded_by: str


class MeasureRecord(MeasurePublic):
    recorded_by: str


class ReferralRecord(SQLModel):
    """One referral about the person: history, outcomes, messages, their own ratings and follow-ups."""

    id: uuid.UUID
    reference: str
    status: ReferralStatus
    purpose: Purpose
    reason: str
    urgency: Urgency
    handover_mode: HandoverMode
    from_agency_id: uuid.UUID
    from_actor_kind: ActorKind
    from_actor_id: str
    to_agency_id: uuid.UUID
    to_service_id: uuid.UUID
    consent_id: uuid.UUID
    subject: PersonRecordPublic = Field(description="The person as shared with this referral")
    created_at: datetime
    updated_at: datetime
    due_by: datetime
    first_viewed_at: datetime | None
    decided_at: datetime | None
    closed_at: datetime | None
    appointment: dict[str, Any] | None
    duplicate_reason: str | None
    outcome_count: int
    version: int
    history: list[StatusChangePublic]
    outcomes: list[OutcomeRecord]
    messages: list[MessagePublic]
    measures: list[MeasureRecord]
    follow_ups: list[FollowUpRecord]


class SubjectExport(SQLModel):
    exported_at: datetime
    subject: SubjectRecord
    consents: list[ConsentPublic]
    referrals: list[ReferralRecord]
    audit_events: list[AuditEventPublic]
