"""Distance travelled: a person's own 1-10 ratings on a referral, recorded by either agency."""

from fastapi import APIRouter, Response, status

from app.deps import IdempotencyClaim, ReadableReferral, SessionDep, WritableReferral
from app.errors import Responses
from app.models.measure import MeasureCreate, MeasurePublic
from app.pagination import Page
from app.services import measures

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])

PROBLEMS: Responses = {
    403: {"description": "The token lacks the scope, or the account belongs to no agency"},
    404: {"description": "No such referral, or the caller's agency is not a party to it"},
    422: {"description": "Invalid request; `errors` names each field"},
}


@router.get("/{referral_id}/measures", response_model=Page[MeasurePublic], responses=PROBLEMS)
async def list_measures(access: ReadableReferral, session: SessionDep) -> Page[MeasurePublic]:
    """The person's ratings on the referral, oldest first."""
    return Page(items=await measures.list_for(session, access))


@router.post(
    "/{referral_id}/measures",
    response_model=MeasurePublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Not accepted yet, or closed without service"}, **PROBLEMS},
)
async def record_measure(
    body: MeasureCreate,
    access: WritableReferral,
    session: SessionDep,
    claim: IdempotencyClaim,
    response: Response,
) -> MeasurePublic:
    """Record one of the person's own 1-10 ratings (also allowed after completion)."""
    public = await measures.record(session, access, body, claim)
    response.headers["Location"] = measures.location(public.referral_id)
    return public
