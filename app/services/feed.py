"""An agency's feed of domain events: the polling alternative to webhooks."""

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.audit import AuditActor
from app.models.events import DomainEvent, DomainEventPublic, EventFeedPage
from app.pagination import Keyset, encode_cursor
from app.security import agency_of

# The feed's cursor is handed back even at its end, so a poller can store it and ask again.
FEED_ORDER = Keyset("events", (col(DomainEvent.position),), (int,))


async def read_feed(session: AsyncSession, actor: AuditActor, after: str | None, limit: int) -> EventFeedPage:
    """The agency's events after the cursor, in the order the sequencer positioned them."""
    agency_id = agency_of(actor)
    after_position = _position(after)
    involved = or_(col(DomainEvent.from_agency_id) == agency_id, col(DomainEvent.to_agency_id) == agency_id)
    # Unpositioned events have a NULL position, which no comparison matches: they wait for the sequencer.
    query = select(DomainEvent).where(involved, col(DomainEvent.position) > after_position)
    rows = list((await session.execute(query.order_by(col(DomainEvent.position)).limit(limit + 1))).scalars())
    more, rows = len(rows) > limit, rows[:limit]
    # At the end of the feed the cursor stays where it was, so the caller can store it and poll again.
    last = rows[-1].position if rows else after_position
    return EventFeedPage(
        items=[DomainEventPublic.model_validate(r) for r in rows],
        next_cursor=encode_cursor(FEED_ORDER.name, [last or 0]),
        has_more=more,
    )


def _position(cursor: str | None) -> int:
    values = FEED_ORDER.decode(cursor)
    return values[0] if values and isinstance(values[0], int) else 0
