"""The agency's event feed: the polling alternative to webhooks."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import ReferralReader, SessionDep
from app.models.events import EventFeedPage
from app.pagination import LimitParam
from app.services import feed

router = APIRouter(prefix="/v1", tags=["events"])

AfterParam = Annotated[
    str | None,
    Query(
        description=(
            "Cursor from a previous page's `next_cursor`; omit to read from the beginning. "
            "Opaque, and valid only for the agency it was issued to."
        )
    ),
]


@router.get("/events", response_model=EventFeedPage)
async def list_events(
    session: SessionDep, principal: ReferralReader, after: AfterParam = None, limit: LimitParam = 50
) -> EventFeedPage:
    """The caller's agency's events in commit order, resumable from `next_cursor`."""
    return await feed.read_feed(session, principal.actor, after, limit)
