"""Follow-ups: the caller's agency's dates to get back to a person, and what it found."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import KnownQueryOnly, ReferralReader, ReferralWriter, SessionDep
from app.errors import Responses
from app.models.follow_up import FollowUpCompletion, FollowUpPublic, FollowUpSnooze, FollowUpStatus
from app.pagination import CursorParam, LimitParam, Page
from app.services import follow_ups

router = APIRouter(prefix="/v1/follow-ups", tags=["follow-ups"])

PROBLEMS: Responses = {
    403: {"description": "The token lacks the scope, or the account belongs to no agency"},
    404: {"description": "No such follow-up, or it is another agency's"},
    409: {"description": "The follow-up is already done"},
    422: {"description": "Invalid request; `errors` names each field"},
}


@router.get(
    "",
    response_model=Page[FollowUpPublic],
    responses={403: PROBLEMS[403], 422: PROBLEMS[422]},
    dependencies=[KnownQueryOnly],
)
async def list_follow_ups(
    session: SessionDep,
    principal: ReferralReader,
    status: Annotated[
        FollowUpStatus | None,
        Query(description="`due`: open and due by today; `upcoming`: open, due later; `done`: completed."),
    ] = None,
    due_before: Annotated[date | None, Query(description="Only those due before this date.")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[FollowUpPublic]:
    """Your agency's follow-ups, soonest due first."""
    return await follow_ups.list_own(
        session, principal, status=status, due_before=due_before, cursor=cursor, limit=limit
    )


@router.post("/{follow_up_id}/complete", response_model=FollowUpPublic, responses=PROBLEMS)
async def complete_follow_up(
    follow_up_id: uuid.UUID, body: FollowUpCompletion, session: SessionDep, principal: ReferralWriter
) -> FollowUpPublic:
    """Record what the follow-up found (an outcome on the referral), or that the person was not reached."""
    return await follow_ups.complete(session, principal, follow_up_id, body)


@router.post("/{follow_up_id}/snooze", response_model=FollowUpPublic, responses=PROBLEMS)
async def snooze_follow_up(
    follow_up_id: uuid.UUID, body: FollowUpSnooze, session: SessionDep, principal: ReferralWriter
) -> FollowUpPublic:
    """Move the due date to today or later, with a note; it is announced again when due."""
    return await follow_ups.snooze(session, principal, follow_up_id, body)
