"""An agency's feed of domain events: the polling alternative to webhooks.

The feed is ordered by the sequencer's `position`, one series for the whole platform, so a cursor
that showed it would let an agency count, from the gap between two of its own events, how many
events the rest of the network had in between. Its cursors are therefore encrypted, not merely
signed like the other lists' cursors. Numbering each agency's feed on its own would hide the gap
too, but every event is in two agencies' feeds, so the sequencer would have to give it a number in
each and every published event would need numbering afresh; encryption changes the cursor alone.
"""

import base64
import binascii
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.encryption import derived_keys
from app.models.audit import AuditActor
from app.models.events import DomainEvent, DomainEventPublic, EventFeedPage
from app.pagination import NotOurCursor, decode_cursor
from app.security import agency_of

# Cursors are sealed with AES-SIV (RFC 5297) under a key derived from SECRETS_KEY, so every process
# reads every other's cursors, before and after a restart, and SECRETS_KEY's rotation applies.
# AES-SIV is deterministic: the same agency at the same position gets the same cursor, and that
# equality is all a cursor shows (a poller at the end of its feed is handed back the cursor it
# sent). Needing no nonce, it has no limit on how many cursors one key may seal. The agency's id is
# authenticated with the position, so a cursor one agency was given is refused for any other.
_CURSOR_PURPOSE = "event-feed-cursor-v1"
_CURSOR_KEY_BYTES = 64  # AES-256-SIV
# Every position is sealed at this width, so a cursor's length does not tell large from small.
_POSITION_BYTES = 8
# The list name the feed's cursors were signed for before they were encrypted.
_SIGNED_CURSOR_LIST = "events"


async def read_feed(session: AsyncSession, actor: AuditActor, after: str | None, limit: int) -> EventFeedPage:
    """The agency's events after the cursor, in the order the sequencer positioned them."""
    agency_id = agency_of(actor)
    after_position = _position(agency_id, after)
    involved = or_(col(DomainEvent.from_agency_id) == agency_id, col(DomainEvent.to_agency_id) == agency_id)
    # Unpositioned events have a NULL position, which no comparison matches: they wait for the sequencer.
    query = select(DomainEvent).where(involved, col(DomainEvent.position) > after_position)
    rows = list((await session.execute(query.order_by(col(DomainEvent.position)).limit(limit + 1))).scalars())
    more, rows = len(rows) > limit, rows[:limit]
    # At the end of the feed the cursor stays where it was, so the caller can store it and poll again.
    last = rows[-1].position if rows else after_position
    return EventFeedPage(
        items=[DomainEventPublic.model_validate(r) for r in rows],
        next_cursor=seal_cursor(agency_id, last or 0),
        has_more=more,
    )


def seal_cursor(agency_id: uuid.UUID, position: int) -> str:
    """The opaque cursor that resumes `agency_id`'s feed after `position`."""
    key = derived_keys(_CURSOR_PURPOSE, _CURSOR_KEY_BYTES)[0]
    sealed = AESSIV(key).encrypt(position.to_bytes(_POSITION_BYTES, "big"), [agency_id.bytes])
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def _position(agency_id: uuid.UUID, cursor: str | None) -> int:
    """The position a cursor issued to this agency resumes after; 422 for any other cursor."""
    if cursor is None:
        return 0
    if "." in cursor:  # never in a sealed cursor's alphabet
        return _signed_position(cursor)
    try:
        # Strictly: a character outside the alphabet is refused, not skipped.
        sealed = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise NotOurCursor() from None
    # The first key seals; older ones still open the cursors they sealed until they are dropped.
    for key in derived_keys(_CURSOR_PURPOSE, _CURSOR_KEY_BYTES):
        try:
            plain = AESSIV(key).decrypt(sealed, [agency_id.bytes])
        except InvalidTag:
            continue
        if len(plain) == _POSITION_BYTES:
            return int.from_bytes(plain, "big")
    raise NotOurCursor()


def _signed_position(cursor: str) -> int:
    # Cursors issued before they were encrypted are still read, so a poller that stored one
    # resumes where it was instead of starting over; every cursor it is given now is sealed.
    values = decode_cursor(_SIGNED_CURSOR_LIST, cursor, (int,))
    return values[0] if values and isinstance(values[0], int) else 0
