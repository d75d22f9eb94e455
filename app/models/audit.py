"""The append-only, hash-chained audit trail."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Integer
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime, enum_type

GENESIS_HASH = "0" * 64
# SQLite only auto-numbers INTEGER PRIMARY KEY columns, so wide keys fall back to INTEGER there.
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")


class ActorKind(StrEnum):
    USER = "user"
    CLIENT = "client"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"


class AuditActor(SQLModel):
    """Who did something: a user, an API client, the system, or an unidentified caller."""

    kind: ActorKind
    id: str | None = None
    agency_id: uuid.UUID | None = None


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"

    seq: int = Field(sa_column=Column(BigIntKey, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_kind: ActorKind = Field(sa_type=enum_type(ActorKind))
    actor_id: str | None = Field(default=None, max_length=80, index=True)
    actor_agency_id: uuid.UUID | None = Field(default=None, index=True)
    action: str = Field(max_length=60, index=True)
    entity_type: str = Field(max_length=40)
    entity_id: str | None = Field(default=None, max_length=80)
    referral_id: uuid.UUID | None = Field(default=None, index=True)
    subject_id: uuid.UUID | None = Field(default=None, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditChainHead(SQLModel, table=True):
    """The chain's last sequence number and hash; its row lock serialises appends."""

    __tablename__ = "audit_chain_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    hash: str = Field(max_length=64)


class AuditEventPublic(SQLModel):
    seq: int
    at: datetime
    actor: AuditActor
    action: str
    entity_type: str
    entity_id: str | None
    referral_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    details: dict[str, Any]
    prev_hash: str
    hash: str
