"""The audit trail: events, the transparency log's tree and its signed checkpoints."""

import base64
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, PlainSerializer, WithJsonSchema
from pydantic import Field as QueryField
from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, SmallInteger, Text, text
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime, enum_type, format_time

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
    """One audit event: inserted by its unit of work, sealed into the log by the sequencer."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_seq", "seq", unique=True),
        # The sequencer's queue: what is committed and not yet sealed, in the order it was written.
        Index(
            "ix_audit_events_unsealed",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntKey, primary_key=True, autoincrement=True))
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
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
    leaf_hash: bytes | None = Field(default=None, sa_type=LargeBinary)


class AuditTreeTile(SQLModel, table=True):
    """Up to TILE_WIDTH consecutive node hashes of one level of the log's Merkle tree."""

    __tablename__ = "audit_tree_tiles"

    level: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    number: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hashes: bytes = Field(sa_type=LargeBinary)


class AuditCheckpoint(SQLModel, table=True):
    """A signed tree head, kept so any earlier one can be proved consistent with a later one."""

    __tablename__ = "audit_checkpoints"

    tree_size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root_hash: bytes = Field(sa_type=LargeBinary)
    note: str = Field(sa_type=Text)
    signed_at: datetime = Field(sa_type=UTCDateTime)


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


WireTime = Annotated[
    datetime,
    PlainSerializer(format_time, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class AuditEventPublic(SQLModel):
    seq: int | None = Field(description="The event's leaf index in the log; null until it is sealed.")
    at: WireTime
    actor: AuditActor
    action: str
    entity_type: str
    entity_id: str | None
    referral_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    details: dict[str, Any]
    leaf_hash: str | None = Field(
        description="Base64 SHA-256(0x00 || RFC 8785 JSON of the event without `seq` and `leaf_hash`); "
        "null until sealed."
    )

    @classmethod
    def from_event(cls, event: AuditEvent) -> "AuditEventPublic":
        """The wire shape, with the actor's three columns nested as `actor`."""
        actor = AuditActor(kind=event.actor_kind, id=event.actor_id, agency_id=event.actor_agency_id)
        values = event.model_dump(exclude={"id", "actor_kind", "actor_id", "actor_agency_id", "leaf_hash"})
        leaf = b64(event.leaf_hash) if event.leaf_hash is not None else None
        return cls(actor=actor, leaf_hash=leaf, **values)


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


class LogProblem(StrEnum):
    LEAF_MISSING = "leaf_missing"
    LEAF_CHANGED = "leaf_changed"
    TREE_MISMATCH = "tree_mismatch"
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"
    BAD_CHECKPOINT = "bad_checkpoint"
    KEPT_CHECKPOINT_MISMATCH = "kept_checkpoint_mismatch"


class LogVerification(SQLModel):
    """The outcome of recomputing the log: valid, or what is wrong and the first bad leaf, if known."""

    valid: bool
    events_checked: int
    tree_size: int
    root_hash: str
    first_invalid_seq: int | None
    unsealed: int = Field(description="Events committed and not yet sealed into the log.")
    problem: LogProblem | None = None
    detail: str | None = Field(default=None, description="What is wrong, in words.")


class InclusionProof(SQLModel):
    index: int
    tree_size: int
    leaf_hash: str
    hashes: list[str]


class ConsistencyProof(SQLModel):
    from_size: int
    to_size: int
    hashes: list[str]
