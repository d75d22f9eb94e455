"""Who the sequencer tells about the domain events it positions: modules register (webhooks queues
its deliveries), so the journal imports none of them.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class SequencedEvent(Protocol):
    """A domain event as the sequencer hands it on."""

    id: uuid.UUID
    type: str
    from_agency_id: uuid.UUID | None
    to_agency_id: uuid.UUID | None


FanOut = Callable[[AsyncSession, Sequence[SequencedEvent]], Awaitable[None]]
_FAN_OUTS: list[FanOut] = []


def register(fan_out: FanOut) -> None:
    """Have `fan_out` run, in the sequencer's transaction, for every batch of newly positioned events."""
    if fan_out not in _FAN_OUTS:
        _FAN_OUTS.append(fan_out)


async def announce(session: AsyncSession, events: Sequence[SequencedEvent]) -> None:
    for fan_out in _FAN_OUTS:
        await fan_out(session, events)
