"""The message thread between the two agencies on one referral."""

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, enum_type, utcnow
from app.models.audit import ActorKind, AuditActor


class MessageBase(SQLModel):
    body: str = Field(min_length=1, max_length=4000)


class Message(MessageBase, table=True):
    __tablename__ = "messages"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    referral_id: uuid.UUID = Field(foreign_key="referrals.id", index=True)
    from_agency_id: uuid.UUID = Field(foreign_key="agencies.id")
    author_kind: ActorKind = Field(sa_type=enum_type(ActorKind))
    author_id: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MessageCreate(MessageBase):
    pass


class MessagePublic(MessageBase):
    id: uuid.UUID
    referral_id: uuid.UUID
    from_agency_id: uuid.UUID
    author: AuditActor
    created_at: datetime
