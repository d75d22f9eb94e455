"""Referrals between agencies: the inbox, the sent box, status changes, outcomes and messages."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import AwareDatetime

from app.deps import (
    IdempotencyClaim,
    ReadableReferral,
    ReferralReader,
    ReferralWriter,
    SessionDep,
    WritableReferral,
)
from app.errors import Responses
from app.models.directory import Purpose
from app.models.message import MessageCreate, MessagePublic
from app.models.outcome import OutcomeCreate, OutcomePublic
from app.models.person import PersonCorrection
from app.models.referral import (
    Appointment,
    AssignmentRequest,
    ReferralCreate,
    ReferralPublic,
    ReferralStatus,
    StatusChangePublic,
    TransitionRequest,
    Urgency,
)
from app.pagination import CursorParam, LimitParam, Page
from app.services import messages, outcomes, referrals
from app.services.referrals import Box, BoxSort

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])

SEARCH_HELP = (
    "A reference (any case, with or without `RX-` and dashes), or the start of each of the person's "
    "names as shared with the referral (any case)."
)
SORT_HELP = (
    "`-created_at` (newest first), `created_at`, `due_by` (soonest first), `-due_by`, `-urgency` "
    "(most urgent first, then newest) or `urgency`. A cursor works only with the sort it came from."
)
PROBLEMS: Responses = {
    403: {"description": "The token lacks the scope, or the account belongs to no agency"},
    404: {"description": "No such referral, or the caller's agency is not a party to it"},
    422: {"description": "Invalid request; `errors` names each field"},
}


@router.post(
    "",
    response_model=ReferralPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "Duplicate open referral, or the service is not accepting"},
        **PROBLEMS,
    },
)
async def create_referral(
    body: ReferralCreate,
    session: SessionDep,
    principal: ReferralWriter,
    claim: IdempotencyClaim,
    response: Response,
) -> ReferralPublic:
    """Send a consented referral to another agency's service."""
    public = await referrals.create(session, principal, body, claim)
    response.headers.update(referrals.resource_headers(public))
    return public


@router.get("", response_model=Page[ReferralPublic], responses={403: PROBLEMS[403], 422: PROBLEMS[422]})
async def list_referrals(
    session: SessionDep,
    principal: ReferralReader,
    box: Annotated[Box, Query(description="`inbox`: referrals to your agency; `sent`: referrals from it.")],
    status_: Annotated[list[ReferralStatus] | None, Query(alias="status")] = None,
    purpose: Purpose | None = None,
    updated_after: AwareDatetime | None = None,
    assigned_to: Annotated[
        str | None, Query(description="`me`, `none` or a user id of the receiving agency.")
    ] = None,
    unread: Annotated[
        bool | None, Query(description="Changed by the other agency since you opened it.")
    ] = None,
    overdue: Annotated[bool | None, Query(description="Past `due_by`, not yet accepted or declined.")] = None,
    needs_cover: Annotated[
        bool | None, Query(description="Open, and assigned to someone away or no longer active.")
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description=SEARCH_HELP)] = None,
    urgency: Annotated[list[Urgency] | None, Query(description="Any of these urgencies.")] = None,
    sort: Annotated[BoxSort, Query(description=SORT_HELP)] = BoxSort.NEWEST,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[ReferralPublic]:
    """List the agency's inbox or sent referrals, newest first unless `sort` says otherwise."""
    filters = referrals.BoxFilters(
        statuses=status_,
        purpose=purpose,
        updated_after=updated_after,
        assigned_to=assigned_to,
        unread=unread,
        overdue=overdue,
        needs_cover=needs_cover,
        search=q.strip() if q and q.strip() else None,
        urgencies=urgency,
    )
    return await referrals.list_box(session, principal, box, filters, sort=sort, cursor=cursor, limit=limit)


@router.get("/{referral_id}", response_model=ReferralPublic, responses=PROBLEMS)
async def get_referral(access: ReadableReferral, session: SessionDep, response: Response) -> ReferralPublic:
    """One referral, with its ETag; the receiving agency's first view is recorded."""
    public = await referrals.view_and_stamp(session, access)
    response.headers["ETag"] = referrals.etag(public)
    return public


@router.post(
    "/{referral_id}/transitions",
    response_model=ReferralPublic,
    responses={
        403: {"description": "The other agency's move"},
        409: {"description": "Move not allowed now"},
        412: {"description": "Stale If-Match"},
        428: {"description": "If-Match missing"},
        **PROBLEMS,
    },
)
async def transition_referral(
    body: TransitionRequest,
    access: WritableReferral,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header(description="The ETag you last read.")] = None,
) -> ReferralPublic:
    """Move the referral to another status (needs If-Match)."""
    public = await referrals.transition(session, access, body, if_match)
    response.headers["ETag"] = referrals.etag(public)
    return public


@router.patch(
    "/{referral_id}/subject",
    response_model=ReferralPublic,
    responses={
        403: {"description": "Not the referral's sender, or no referrals:write scope"},
        409: {"description": "Consent withdrawn, or the details were removed under retention"},
        412: {"description": "Stale If-Match"},
        428: {"description": "If-Match missing"},
        **PROBLEMS,
    },
)
async def correct_subject(
    body: PersonCorrection,
    access: WritableReferral,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header(description="The ETag you last read.")] = None,
) -> ReferralPublic:
    """Correct the person's details on this referral (its sender only; needs If-Match)."""
    public = await referrals.correct_person(session, access, body, if_match)
    response.headers["ETag"] = referrals.etag(public)
    return public


@router.put(
    "/{referral_id}/appointment",
    response_model=ReferralPublic,
    responses={
        403: {"description": "Not the receiving agency, or no referrals:write scope"},
        409: {"description": "No handover is scheduled"},
        412: {"description": "Stale If-Match"},
        428: {"description": "If-Match missing"},
        **PROBLEMS,
    },
)
async def change_appointment(
    body: Appointment,
    access: WritableReferral,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header(description="The ETag you last read.")] = None,
) -> ReferralPublic:
    """Move the handover appointment of a referral in `handover_scheduled` (needs If-Match)."""
    public = await referrals.change_appointment(session, access, body, if_match)
    response.headers["ETag"] = referrals.etag(public)
    return public


@router.post(
    "/{referral_id}/assignment",
    response_model=ReferralPublic,
    responses={403: {"description": "Not the receiving agency, or no referrals:write scope"}, **PROBLEMS},
)
async def assign_referral(
    body: AssignmentRequest, access: WritableReferral, session: SessionDep
) -> ReferralPublic:
    """Take a referral, hand it to a colleague, or let it go (`user_id` null); no If-Match needed."""
    return await referrals.assign(session, access, body)


@router.get("/{referral_id}/history", response_model=Page[StatusChangePublic], responses=PROBLEMS)
async def referral_history(access: ReadableReferral, session: SessionDep) -> Page[StatusChangePublic]:
    """Every status change with who made it, when and why."""
    return Page(items=await referrals.history(session, access))


@router.get("/{referral_id}/outcomes", response_model=Page[OutcomePublic], responses=PROBLEMS)
async def list_outcomes(access: ReadableReferral, session: SessionDep) -> Page[OutcomePublic]:
    """The outcomes recorded for the referral."""
    return Page(items=await outcomes.list_for(session, access))


@router.post(
    "/{referral_id}/outcomes",
    response_model=OutcomePublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "Not accepted yet, or closed without service"},
        **PROBLEMS,
    },
)
async def record_outcome(
    body: OutcomeCreate, access: WritableReferral, session: SessionDep, claim: IdempotencyClaim
) -> OutcomePublic:
    """Record an outcome (also allowed after completion)."""
    return await outcomes.record(session, access, body, claim)


@router.get("/{referral_id}/messages", response_model=Page[MessagePublic], responses=PROBLEMS)
async def list_messages(access: ReadableReferral, session: SessionDep) -> Page[MessagePublic]:
    """The message thread between the two agencies."""
    return Page(items=await messages.list_for(session, access))


@router.post(
    "/{referral_id}/messages",
    response_model=MessagePublic,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "Consent withdrawn"}, **PROBLEMS},
)
async def post_message(
    body: MessageCreate, access: WritableReferral, session: SessionDep, claim: IdempotencyClaim
) -> MessagePublic:
    """Add a message to the thread between the two agencies."""
    return await messages.post(session, access, body, claim)
