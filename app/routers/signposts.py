"""Signposting: telling someone about a service without referring them; no personal data."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.deps import IdempotencyClaim, KnownQueryOnly, ReferralReader, ReferralWriter, SessionDep
from app.errors import Responses
from app.models.directory import Purpose
from app.models.signpost import SignpostCreate, SignpostPublic
from app.pagination import CursorParam, LimitParam, Page
from app.services import signposts

router = APIRouter(prefix="/v1/signposts", tags=["signposts"])

PROBLEMS: Responses = {
    403: {"description": "The token lacks the scope, or the account belongs to no agency"},
    422: {"description": "Invalid request; `errors` names each field"},
}


@router.post("", response_model=SignpostPublic, status_code=status.HTTP_201_CREATED, responses=PROBLEMS)
async def record_signpost(
    body: SignpostCreate,
    session: SessionDep,
    principal: ReferralWriter,
    claim: IdempotencyClaim,
    response: Response,
) -> SignpostPublic:
    """Record that your agency told someone about a service; the note is about the service, not the person."""
    public = await signposts.record(session, principal, body, claim)
    response.headers["Location"] = signposts.location(public.id)
    return public


@router.get("", response_model=Page[SignpostPublic], dependencies=[KnownQueryOnly], responses=PROBLEMS)
async def list_signposts(
    session: SessionDep,
    principal: ReferralReader,
    purpose: Purpose | None = None,
    start: Annotated[date | None, Query(alias="from", description="Signposts on or after this day.")] = None,
    end: Annotated[date | None, Query(alias="to", description="Signposts before this day.")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[SignpostPublic]:
    """Your agency's signposts, the latest day first."""
    return await signposts.list_for(
        session, principal, purpose=purpose, start=start, end=end, cursor=cursor, limit=limit
    )


@router.get(
    "/{signpost_id}",
    response_model=SignpostPublic,
    responses={**PROBLEMS, 404: {"description": "No such signpost, or another agency's"}},
)
async def get_signpost(
    signpost_id: uuid.UUID, session: SessionDep, principal: ReferralReader
) -> SignpostPublic:
    """One of your agency's signposts."""
    return await signposts.get(session, principal, signpost_id)
