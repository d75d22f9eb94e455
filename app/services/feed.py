"""An agency's feed of domain events: the polling alternative to webhooks."""

import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import Forbidden, Unprocessable
from app.models.audit import AuditActor
from app.models.events import DomainEvent, DomainEventPublic, EventFeedPage
from app.pagination import decode_cursor, encode_cursor


def require_agency(actor: AuditActor) -> uuid.UUID:
    """The caller's agency; partner events and webhooks belong to an agency, not to the platform."""
    if actor.agency_id is None:
        raise Forbidden("This operation is for callers who act for an agency.")
    return actor.agency_id


async def read_feed(session: AsyncSession, actor: AuditActor, after: str | None, limit: int) -> EventFeedPage:
    """The agency's events after the cursor, in commit order."""
    agency_id = require_agency(actor)
    after_seq = _seq(after)
    involved = or_(col(DomainEvent.from_agency_id) == agency_id, col(DomainEvent.to_agency_id) == agency_id)
    query = select(DomainEvent).where(involved, col(DomainEvent.seq) > after_seq)
    rows = list((await session.execute(query.order_by(col(DomainEvent.seq)).limit(limit + 1))).scalars())
    more, rows = len(rows) > limit, rows[:limit]
    # At the end of the feed the cursor stays where it was, so the caller can store it and poll again.
    last = rows[-1].seq if rows else after_seq
    return EventFeedPage(
        items=[DomainEventPublic.model_validate(r) for r in rows],
        next_cursor=encode_cursor(last),
        has_more=more,
    )


def _seq(cursor: str | None) -> int:
    values = decode_cursor(cursor, 1)
    if values is None:
        return 0
    if not isinstance(values[0], int) or values[0] < 0:
        raise Unprocessable.field("cursor", "is not a cursor this service issued")
    return values[0]
