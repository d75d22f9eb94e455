"""What a unit of work has to tell: audit and domain events queued until commit."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.audit import AuditActor

_KEY = "journal"


@dataclass(frozen=True, slots=True)
class PendingAudit:
    actor: AuditActor
    action: str
    entity_type: str
    entity_id: str | None
    referral_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PendingEvent:
    type: str
    referral_id: uuid.UUID | None
    status: str | None
    from_agency_id: uuid.UUID | None
    to_agency_id: uuid.UUID | None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass
class Journal:
    audit: list[PendingAudit] = field(default_factory=list)
    events: list[PendingEvent] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.audit or self.events)


def journal_of(session: AsyncSession) -> Journal:
    """The pending entries of this session's transaction."""
    found = session.info.get(_KEY)
    if not isinstance(found, Journal):
        found = session.info[_KEY] = Journal()
    return found


def take_journal(session: AsyncSession) -> Journal:
    """Remove and return the pending entries (they are written, or dropped on rollback)."""
    found = session.info.pop(_KEY, None)
    return found if isinstance(found, Journal) else Journal()
