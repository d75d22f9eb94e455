"""What auditors look up: a referral by its reference, its trail, and whether the log verifies."""

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import Settings
from app.models.audit import AuditActor, AuditEvent, AuditQuery
from app.models.referral import Referral
from app.services import audit


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether every event in the audit log checks out, and where it first does not."""

    valid: bool
    events_checked: int
    first_invalid_seq: int | None


def normalised(reference: str) -> str:
    """A reference as staff might type it (any case, spaces, no dashes) in its printed form."""
    letters = "".join(ch for ch in reference.upper() if ch.isalnum())
    return f"{letters[:2]}-{letters[2:7]}-{letters[7:]}" if len(letters) == 12 else reference.strip().upper()


async def find_by_reference(session: AsyncSession, actor: AuditActor, reference: str) -> uuid.UUID | None:
    """The referral with this reference; the search is audited whether or not it finds one."""
    wanted = normalised(reference)[:40]
    found = await session.scalar(select(col(Referral.id)).where(col(Referral.reference) == wanted))
    audit.record(
        session,
        actor,
        "audit.searched",
        "audit_trail",
        referral_id=found,
        details={"by": "reference", "found": found is not None},
    )
    return found


async def reference_of(session: AsyncSession, referral_id: uuid.UUID) -> str | None:
    """A referral's reference (no personal data), or None when there is no such referral."""
    reference: str | None = await session.scalar(
        select(col(Referral.reference)).where(col(Referral.id) == referral_id)
    )
    return reference


async def trail(
    session: AsyncSession, actor: AuditActor, referral_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[AuditEvent], str | None]:
    """The referral's sealed audit events in leaf order (an audited search, as through the API)."""
    return await audit.search_events(
        session, actor, AuditQuery(referral_id=referral_id), cursor=cursor, limit=limit
    )


async def verify(session: AsyncSession, settings: Settings, actor: AuditActor) -> Verdict:
    """Check the whole log on the auditor's behalf (recorded, with the verdict)."""
    result = await audit.verify_log_for(session, settings, actor)
    return Verdict(result.valid, result.events_checked, result.first_invalid_seq)
