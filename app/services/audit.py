"""Recording audit events and maintaining the hash chain."""

import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

import rfc8785
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.models.audit import AuditActor, AuditChainHead, AuditEvent
from app.services.journal import PendingAudit, journal_of

DetailValue = str | int | bool | None | list[str]


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


def canonical_bytes(event: AuditEvent) -> bytes:
    """RFC 8785 canonical JSON of everything the hash covers, `prev_hash` included."""
    return bytes(
        rfc8785.dumps(
            {
                "seq": event.seq,
                "at": format_time(event.at),
                "actor": {
                    "kind": str(event.actor_kind),
                    "id": event.actor_id,
                    "agency_id": _opt(event.actor_agency_id),
                },
                "action": event.action,
                "entity_type": event.entity_type,
                "entity_id": event.entity_id,
                "referral_id": _opt(event.referral_id),
                "subject_id": _opt(event.subject_id),
                "details": event.details,
                "prev_hash": event.prev_hash,
            }
        )
    )


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_bytes(event)).hexdigest()


def append_to_chain(session: AsyncSession, head: AuditChainHead, pending: list[PendingAudit]) -> None:
    """Number, time and hash each pending event after the locked chain head."""
    at = utcnow()
    for item in pending:
        event = AuditEvent(
            seq=head.seq + 1,
            at=at,
            actor_kind=item.actor.kind,
            actor_id=item.actor.id,
            actor_agency_id=item.actor.agency_id,
            action=item.action,
            entity_type=item.entity_type,
            entity_id=item.entity_id,
            referral_id=item.referral_id,
            subject_id=item.subject_id,
            details=item.details,
            prev_hash=head.hash,
            hash="",
        )
        event.hash = compute_hash(event)
        session.add(event)
        head.seq, head.hash = event.seq, event.hash
