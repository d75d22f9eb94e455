"""Recording audit events, and reading the log for auditors: search, export, verify and prove."""

import uuid
from collections.abc import Mapping

from sqlalchemy import ColumnElement, String, and_, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import Settings
from app.errors import NotFound, Unprocessable
from app.journal import keys, proofs, sequencer, tiles, verify
from app.journal.merkle import EMPTY_ROOT
from app.journal.notes import NoteError, open_checkpoint
from app.journal.pending import PendingAudit, journal_of
from app.models.audit import (
    AuditActor,
    AuditCheckpoint,
    AuditEvent,
    AuditEventPublic,
    AuditQuery,
    ConsistencyProof,
    InclusionProof,
    LogProblem,
    LogVerification,
    b64,
)
from app.pagination import Keyset, keyset_page

DetailValue = str | int | bool | None | list[str]
# Sealed events only: leaf order is final, so a cursor neither repeats nor skips an event.
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
    """Queue an audit event for this unit of work; it is written at commit and sealed after.

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


async def search_events(
    session: AsyncSession, actor: AuditActor, query: AuditQuery, *, cursor: str | None, limit: int
) -> tuple[list[AuditEvent], str | None]:
    """Sealed events matching every filter, in leaf order; the search is itself audited."""
    statement = select(AuditEvent).where(col(AuditEvent.seq).is_not(None), *_conditions(query))
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


# Sealed events in leaf order, then those still waiting for the sequencer in the order they were written.
LOG_ORDER = (col(AuditEvent.seq).asc().nulls_last(), col(AuditEvent.id))


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
    """One referral's or one subject's whole trail as JSON Lines in leaf order, unsealed events last; audited.

    Read in full inside the request's transaction, so the export and the event recording it
    commit together; a single referral's or person's trail is small enough for that.
    """
    field, key = _trail_key(referral_id, subject_id)
    condition = referral_trail(key) if field == "referral_id" else col(AuditEvent.subject_id) == key
    statement = select(AuditEvent).where(condition).order_by(*LOG_ORDER)
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


async def verify_log(
    session: AsyncSession, settings: Settings, kept_note: str | None = None
) -> LogVerification:
    """Recompute the log and check it against its checkpoints and, if given, one an auditor kept."""
    verifier = keys.verifier(settings)
    try:
        kept = open_checkpoint(kept_note, verifier, settings.audit_log_origin) if kept_note else None
    except NoteError as exc:
        return _refused_kept(f"the kept checkpoint: {exc}", await verify.unsealed_count(session))
    verdict = await verify.verify_log(session, verifier, settings.audit_log_origin, kept=kept)
    finding = verdict.finding
    return LogVerification(
        valid=finding is None,
        events_checked=verdict.events_checked,
        tree_size=verdict.tree_size,
        root_hash=b64(verdict.root),
        first_invalid_seq=finding.seq if finding else None,
        unsealed=verdict.unsealed,
        problem=finding.problem if finding else None,
        detail=finding.detail if finding else None,
    )


def _refused_kept(detail: str, unsealed: int) -> LogVerification:
    return LogVerification(
        valid=False,
        events_checked=0,
        tree_size=0,
        root_hash=b64(EMPTY_ROOT),
        first_invalid_seq=None,
        unsealed=unsealed,
        problem=LogProblem.BAD_CHECKPOINT,
        detail=detail,
    )


async def verify_log_for(session: AsyncSession, settings: Settings, actor: AuditActor) -> LogVerification:
    """Verify the log on a caller's behalf and record that they did, with the verdict."""
    result = await verify_log(session, settings)
    details: dict[str, DetailValue] = {"valid": result.valid, "events_checked": result.events_checked}
    if result.problem:
        details |= {"first_invalid_seq": result.first_invalid_seq, "problem": result.problem.value}
    record(session, actor, "audit.verified", "audit_trail", details=details)
    return result


async def latest_checkpoint(session: AsyncSession) -> str:
    """The latest signed checkpoint, as a C2SP signed note."""
    statement = select(col(AuditCheckpoint.note)).order_by(col(AuditCheckpoint.tree_size).desc()).limit(1)
    note = (await session.execute(statement)).scalar()
    if note is None:
        raise NotFound("No checkpoint has been signed yet: the sequencer has not run.")
    return note


def verifier_key(settings: Settings) -> str:
    """The note verifier key checkpoints are signed with."""
    return keys.verifier(settings).text()


async def _beyond_log(session: AsyncSession, field: str) -> Unprocessable:
    """The error for a tree size the log has not signed a checkpoint for."""
    signed = await sequencer.latest_size(session) or 0
    return Unprocessable.field(field, f"must be at most the size of the latest checkpoint, {signed}")


async def inclusion_proof(session: AsyncSession, index: int, tree_size: int) -> InclusionProof:
    """The RFC 9162 audit path of leaf `index` in the tree of `tree_size` leaves."""
    if index >= tree_size:
        raise Unprocessable.field("index", "must be less than tree_size")
    try:
        # The proof's nodes cover every leaf below tree_size: one is missing past the stored tree.
        leaf, path = await proofs.inclusion(session, index, tree_size)
    except tiles.MissingNode:
        raise await _beyond_log(session, "tree_size") from None
    return InclusionProof(
        index=index, tree_size=tree_size, leaf_hash=b64(leaf), hashes=[b64(h) for h in path]
    )


async def consistency_proof(session: AsyncSession, from_size: int, to_size: int) -> ConsistencyProof:
    """The RFC 9162 proof that the tree of `from_size` leaves is a prefix of the tree of `to_size`."""
    if from_size > to_size:
        raise Unprocessable.field("from_size", "must not be more than to_size")
    if from_size == to_size and to_size > (await sequencer.latest_size(session) or 0):
        raise await _beyond_log(session, "to_size")
    try:
        path = await proofs.consistency(session, from_size, to_size)
    except tiles.MissingNode:
        raise await _beyond_log(session, "to_size") from None
    return ConsistencyProof(from_size=from_size, to_size=to_size, hashes=[b64(h) for h in path])
