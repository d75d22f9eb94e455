"""Recording audit events, maintaining the hash chain, and reading and verifying it."""

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.errors import Unprocessable
from app.models.audit import (
    GENESIS_HASH,
    AuditActor,
    AuditChainHead,
    AuditEvent,
    AuditEventPublic,
    AuditQuery,
    ChainHeadPublic,
    ChainProblem,
    ChainVerification,
)
from app.pagination import Keyset, keyset_page
from app.persistence import rows
from app.services.journal import PendingAudit, journal_of

DetailValue = str | int | bool | None | list[str]
# Rows held in memory at once while verifying; the chain itself may run to millions.
VERIFY_BATCH_SIZE = 1000
EVENT_ORDER = Keyset("audit-events", (col(AuditEvent.seq),), (int,))


def record(
    session: AsyncSession,
    actor: AuditActor,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    *,
    referral_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None,
    details: Mapping[str, DetailValue] | None = None,
) -> None:
    """Queue an audit event for this unit of work; it is chained and written at commit.

    Details must hold ids and codes only, never personal data.
    """
    journal_of(session).audit.append(
        PendingAudit(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id) if entity_id is not None else None,
            referral_id=referral_id,
            subject_id=subject_id,
            details=dict(details or {}),
        )
    )


def format_time(at: datetime) -> str:
    """The one textual form of a timestamp inside the hash: UTC, microseconds, `Z`."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _opt(value: object | None) -> str | None:
    return None if value is None else str(value)


HASHED_FIELDS = (
    "seq",
    "at",
    "actor_kind",
    "actor_id",
    "actor_agency_id",
    "action",
    "entity_type",
    "entity_id",
    "referral_id",
    "subject_id",
    "details",
    "prev_hash",
)


_EXACT_INTEGER = 2**53 - 1  # RFC 8785 numbers are IEEE doubles


def _plain(value: object) -> bool:
    """Whether `json.dumps` writes `value` exactly as RFC 8785 does.

    It does for text, booleans, null, integers a double holds exactly, and arrays and objects
    of those whose keys are ASCII (where code-point order is the UTF-16 order RFC 8785 sorts
    by). Floats are written differently.
    """
    if value is None or isinstance(value, str | bool):
        return True
    if isinstance(value, int):
        return -_EXACT_INTEGER <= value <= _EXACT_INTEGER
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and k.isascii() and _plain(v) for k, v in value.items())
    return False


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON: by the standard library's C encoder where its output is the same."""
    if _plain(value):
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not UTF-8, refused below as before
            pass
    return bytes(rfc8785.dumps(value))


def canonical_bytes(event: AuditEvent | Mapping[str, Any]) -> bytes:
    """RFC 8785 canonical JSON of everything the hash covers, `prev_hash` included."""
    f = event if isinstance(event, Mapping) else {name: getattr(event, name) for name in HASHED_FIELDS}
    return canonical_json(
        {
            "seq": f["seq"],
            "at": format_time(f["at"]),
            "actor": {
                "kind": str(f["actor_kind"]),
                "id": f["actor_id"],
                "agency_id": _opt(f["actor_agency_id"]),
            },
            "action": f["action"],
            "entity_type": f["entity_type"],
            "entity_id": f["entity_id"],
            "referral_id": _opt(f["referral_id"]),
            "subject_id": _opt(f["subject_id"]),
            "details": f["details"],
            "prev_hash": f["prev_hash"],
        }
    )


def compute_hash(event: AuditEvent | Mapping[str, Any]) -> str:
    """The event's hash: SHA-256 of its canonical JSON, which links it to the one before."""
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainEnd:
    """The last link of the chain: its sequence number and hash."""

    seq: int
    hash: str


_HEAD = rows.table_of(AuditChainHead)
# Built once: this runs in every committing unit of work.
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()


async def lock_chain(session: AsyncSession) -> ChainEnd:
    """Lock the chain head until commit: writers append (and commit) one at a time."""
    row = (await session.execute(_LOCK_HEAD)).one()
    return ChainEnd(row.seq, row.hash)


def chained(end: ChainEnd, pending: list[PendingAudit]) -> tuple[list[dict[str, Any]], ChainEnd]:
    """The pending events numbered, timed and hashed after `end`, and the chain's new end."""
    at = utcnow()
    events = []
    for item in pending:
        event = _linked(item, at, end)
        end = ChainEnd(event["seq"], event["hash"])
        events.append(event)
    return events, end


def _linked(item: PendingAudit, at: datetime, end: ChainEnd) -> dict[str, Any]:
    event: dict[str, Any] = {
        "seq": end.seq + 1,
        "at": at,
        "actor_kind": item.actor.kind,
        "actor_id": item.actor.id,
        "actor_agency_id": item.actor.agency_id,
        "action": item.action,
        "entity_type": item.entity_type,
        "entity_id": item.entity_id,
        "referral_id": item.referral_id,
        "subject_id": item.subject_id,
        "details": item.details,
        "prev_hash": end.hash,
    }
    event["hash"] = compute_hash(event)
    return event


async def search_events(
    session: AsyncSession, actor: AuditActor, query: AuditQuery, *, cursor: str | None, limit: int
) -> tuple[list[AuditEvent], str | None]:
    """Events matching every filter, in sequence order; the search is itself audited."""
    statement = select(AuditEvent).where(*_conditions(query))
    rows, next_cursor = await keyset_page(session, statement, EVENT_ORDER, cursor, limit)
    details: dict[str, DetailValue] = {**_filter_details(query), "count": len(rows)}
    after = EVENT_ORDER.decode(cursor)
    if after and isinstance(after[0], int):
        details["after_seq"] = after[0]
    record(
        session,
        actor,
        "audit.searched",
        "audit_trail",
        referral_id=query.referral_id,
        subject_id=query.subject_id,
        details=details,
    )
    return rows, next_cursor


def _conditions(query: AuditQuery) -> list[ColumnElement[bool]]:
    if query.since and query.until and query.since > query.until:
        raise Unprocessable.field("until", "must not be before since")
    equal_to = [
        (col(AuditEvent.subject_id), query.subject_id),
        (col(AuditEvent.actor_id), query.actor_id),
        (col(AuditEvent.actor_agency_id), query.agency_id),
        (col(AuditEvent.action), query.action),
    ]
    conditions = [column == value for column, value in equal_to if value is not None]
    if query.referral_id:
        conditions.append(referral_trail(query.referral_id))
    if query.since:
        conditions.append(col(AuditEvent.at) >= query.since)
    if query.until:
        conditions.append(col(AuditEvent.at) < query.until)
    return conditions


def referral_trail(referral_id: uuid.UUID) -> ColumnElement[bool]:
    """Events about the referral, and the listings that showed it (they name every id shown)."""
    shown_in_list = and_(
        col(AuditEvent.action) == "referral.listed",
        cast(col(AuditEvent.details), String).contains(str(referral_id)),
    )
    return or_(col(AuditEvent.referral_id) == referral_id, shown_in_list)


def _filter_details(query: AuditQuery) -> dict[str, DetailValue]:
    return {name: str(value) for name, value in query.model_dump(mode="json", exclude_none=True).items()}


async def export_trail(
    session: AsyncSession, actor: AuditActor, *, referral_id: uuid.UUID | None, subject_id: uuid.UUID | None
) -> str:
    """One referral's or one subject's whole trail as JSON Lines in sequence order; audited.

    Read in full inside the request's transaction, so the export and the event recording it
    commit together; a single referral's or person's trail is small enough for that.
    """
    field, key = _trail_key(referral_id, subject_id)
    condition = referral_trail(key) if field == "referral_id" else col(AuditEvent.subject_id) == key
    statement = select(AuditEvent).where(condition).order_by(col(AuditEvent.seq))
    events = list((await session.execute(statement)).scalars())
    record(
        session,
        actor,
        "audit.exported",
        field.removesuffix("_id"),
        key,
        referral_id=referral_id,
        subject_id=subject_id,
        details={field: str(key), "count": len(events)},
    )
    return "".join(AuditEventPublic.from_event(event).model_dump_json() + "\n" for event in events)


def _trail_key(referral_id: uuid.UUID | None, subject_id: uuid.UUID | None) -> tuple[str, uuid.UUID]:
    if referral_id is not None and subject_id is None:
        return "referral_id", referral_id
    if subject_id is not None and referral_id is None:
        return "subject_id", subject_id
    message = "give exactly one of referral_id and subject_id"
    raise Unprocessable(
        "Give exactly one of referral_id and subject_id.",
        errors=[{"field": name, "message": message} for name in ("referral_id", "subject_id")],
    )


@dataclass
class _ChainWalk:
    """How far a walk along the chain has got: the next sequence number and the hash it links to."""

    next_seq: int = 1
    prev_hash: str = GENESIS_HASH
    checked: int = 0

    def step(self, event: AuditEvent) -> ChainProblem | None:
        """Check one event against its position; on a problem, `next_seq` names the bad event."""
        self.checked += 1
        if event.seq != self.next_seq:
            return ChainProblem.SEQUENCE_GAP
        if compute_hash(event) != event.hash:
            return ChainProblem.HASH_MISMATCH
        if event.prev_hash != self.prev_hash:
            return ChainProblem.BROKEN_LINK
        self.next_seq, self.prev_hash = event.seq + 1, event.hash
        return None


async def verify_chain(session: AsyncSession, *, batch_size: int = VERIFY_BATCH_SIZE) -> ChainVerification:
    """Recompute every hash, link and sequence number, then check the head names the last event."""
    head, last_seq = await _chain_bounds(session)
    walk = _ChainWalk()
    async for event in _events_up_to(session, head.seq, batch_size):
        if problem := walk.step(event):
            return _verdict(walk, head, problem, walk.next_seq)
    bad_seq = _head_mismatch(walk, head, last_seq)
    return _verdict(walk, head, None if bad_seq is None else ChainProblem.HEAD_MISMATCH, bad_seq)


async def verify_chain_for(session: AsyncSession, actor: AuditActor) -> ChainVerification:
    """Verify the chain on a caller's behalf and record that they did, with the verdict."""
    result = await verify_chain(session)
    details: dict[str, DetailValue] = {"valid": result.valid, "events_checked": result.events_checked}
    if result.problem:
        details |= {"first_invalid_seq": result.first_invalid_seq, "problem": result.problem.value}
    record(session, actor, "audit.verified", "audit_trail", details=details)
    return result


async def _chain_bounds(session: AsyncSession) -> tuple[ChainHeadPublic, int]:
    """The chain head (seq 0 and no hash if its row is gone) and the highest stored seq."""
    # One statement, so the head and the last event come from one snapshot even under
    # READ COMMITTED while other transactions keep appending.
    head = col(AuditChainHead.id) == 1
    statement = select(
        select(col(AuditChainHead.seq)).where(head).scalar_subquery(),
        select(col(AuditChainHead.hash)).where(head).scalar_subquery(),
        select(func.max(col(AuditEvent.seq))).scalar_subquery(),
    )
    seq, hash_, last = (await session.execute(statement)).one()
    return ChainHeadPublic(seq=seq or 0, hash=hash_ or ""), last or 0


async def _events_up_to(session: AsyncSession, last_seq: int, batch_size: int) -> AsyncIterator[AuditEvent]:
    """Events 1..last_seq in order, a batch at a time (keyset, so each batch is an index range)."""
    after = 0
    while after < last_seq:
        statement = (
            select(AuditEvent)
            .where(col(AuditEvent.seq) > after, col(AuditEvent.seq) <= last_seq)
            .order_by(col(AuditEvent.seq))
            .limit(batch_size)
        )
        batch = list((await session.execute(statement)).scalars())
        if not batch:
            return
        for event in batch:
            yield event
        after = batch[-1].seq


def _head_mismatch(walk: _ChainWalk, head: ChainHeadPublic, last_seq: int) -> int | None:
    """The first event the head disagrees about, or None when it names the last event."""
    if walk.next_seq <= head.seq:
        return walk.next_seq  # the head counts events that are gone: a removed tail
    if last_seq > head.seq:
        return head.seq + 1  # events past the head were not appended through the chain
    return head.seq if walk.prev_hash != head.hash else None


def _verdict(
    walk: _ChainWalk, head: ChainHeadPublic, problem: ChainProblem | None, bad_seq: int | None
) -> ChainVerification:
    return ChainVerification(
        valid=problem is None,
        events_checked=walk.checked,
        head=head,
        first_invalid_seq=bad_seq,
        problem=problem,
    )
