"""The append-only, hash-chained audit trail."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel
from pydantic import Field as QueryField
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
    # The person referred, acting through the service (withdrawing their consent); no agency.
    SUBJECT = "subject"


class AuditActor(SQLModel):
    """Who did something: a user, an API client, the system, the person, or an unidentified caller."""

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

    @classmethod
    def from_event(cls, event: AuditEvent) -> "AuditEventPublic":
        """The wire shape, with the actor's three columns nested as `actor`."""
        actor = AuditActor(kind=event.actor_kind, id=event.actor_id, agency_id=event.actor_agency_id)
        return cls(actor=actor, **event.model_dump(exclude={"actor_kind", "actor_id", "actor_agency_id"}))


# Search filters are written into the audit trail, so they are held to the shape of ids and codes.
_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
_ACTION_PATTERN = r"^[a-z0-9_.]+$"


class AuditQuery(BaseModel):
    """Filters of an audit search, combined with AND; every one is optional."""

    referral_id: uuid.UUID | None = None
    subject_id: uuid.UUID | None = None
    actor_id: str | None = QueryField(default=None, max_length=80, pattern=_ID_PATTERN)
    agency_id: uuid.UUID | None = QueryField(default=None, description="The acting party's agency.")
    action: str | None = QueryField(default=None, max_length=60, pattern=_ACTION_PATTERN)
    since: AwareDatetime | None = QueryField(default=None, description="At or after this time (RFC 3339).")
    until: AwareDatetime | None = QueryField(default=None, description="Before this time (RFC 3339).")


class ChainProblem(StrEnum):
    SEQUENCE_GAP = "sequence_gap"
    HASH_MISMATCH = "hash_mismatch"
    BROKEN_LINK = "broken_link"
    HEAD_MISMATCH = "head_mismatch"


class ChainHeadPublic(SQLModel):
    seq: int
    hash: str


class ChainVerification(SQLModel):
    """The outcome of recomputing the chain: valid, or the first event at fault and why."""

    valid: bool
    events_checked: int
    head: ChainHeadPublic
    first_invalid_seq: int | None
    problem: ChainProblem | None
