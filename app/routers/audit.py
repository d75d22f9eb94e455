"""The audit trail, for auditors: search it, export one trail, and verify and prove the transparency log."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from app.deps import AuditReader, SessionDep, SettingsDep
from app.models.audit import AuditEventPublic, AuditQuery, ConsistencyProof, InclusionProof, LogVerification
from app.pagination import CursorParam, LimitParam, Page
from app.services import audit

router = APIRouter(prefix="/v1/audit", tags=["audit"])


class NDJSONResponse(Response):
    media_type = "application/x-ndjson"


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "JSON Lines: one `AuditEventPublic` object per line, in sequence order."}
}


@router.get("/events", response_model=Page[AuditEventPublic])
async def search_events(
    filters: Annotated[AuditQuery, Query()],
    session: SessionDep,
    principal: AuditReader,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[AuditEventPublic]:
    """Search audit events in sequence order; the search is itself audited."""
    rows, next_cursor = await audit.search_events(
        session, principal.actor, filters, cursor=cursor, limit=limit
    )
    return Page(items=[AuditEventPublic.from_event(e) for e in rows], next_cursor=next_cursor)


@router.get("/verify", response_model=LogVerification)
async def verify_log(session: SessionDep, settings: SettingsDep, principal: AuditReader) -> LogVerification:
    """Recompute the log against its signed checkpoints and name the first bad leaf, if any."""
    return await audit.verify_log_for(session, settings, principal.actor)


TEXT: dict[int | str, dict[str, Any]] = {200: {"content": {"text/plain": {"schema": {"type": "string"}}}}}
CHECKPOINT_RESPONSES = {**TEXT, 404: {"description": "No checkpoint has been signed yet"}}


@router.get("/checkpoint", response_class=PlainTextResponse, responses=CHECKPOINT_RESPONSES)
async def checkpoint(session: SessionDep, _principal: AuditReader) -> PlainTextResponse:
    """The latest checkpoint: a C2SP tlog-checkpoint in a C2SP signed note."""
    return PlainTextResponse(await audit.latest_checkpoint(session))


@router.get("/verifier-key", response_class=PlainTextResponse, responses=TEXT)
async def verifier_key(settings: SettingsDep) -> PlainTextResponse:
    """The C2SP signed-note verifier key that checkpoints are signed with."""
    return PlainTextResponse(audit.verifier_key(settings) + "\n")


@router.get("/proofs/inclusion", response_model=InclusionProof)
async def inclusion_proof(
    session: SessionDep,
    _principal: AuditReader,
    index: Annotated[int, Query(ge=0, description="The leaf index (an event's `seq`).")],
    tree_size: Annotated[int, Query(ge=1, description="The size of a checkpoint's tree.")],
) -> InclusionProof:
    """The RFC 9162 audit path from a leaf to the root of the tree of `tree_size` leaves."""
    return await audit.inclusion_proof(session, index, tree_size)


@router.get("/proofs/consistency", response_model=ConsistencyProof)
async def consistency_proof(
    session: SessionDep,
    _principal: AuditReader,
    from_size: Annotated[int, Query(ge=1, description="The size of the earlier tree.")],
    to_size: Annotated[int, Query(ge=1, description="The size of the later tree.")],
) -> ConsistencyProof:
    """The RFC 9162 proof that the tree of `from_size` leaves is a prefix of the tree of `to_size` leaves."""
    return await audit.consistency_proof(session, from_size, to_size)


@router.get("/export", response_class=NDJSONResponse, responses=EXPORT_RESPONSES)
async def export_trail(
    session: SessionDep,
    principal: AuditReader,
    referral_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None,
) -> NDJSONResponse:
    """Export one referral's or one subject's whole trail as JSON Lines; the export is audited."""
    body = await audit.export_trail(session, principal.actor, referral_id=referral_id, subject_id=subject_id)
    return NDJSONResponse(body)
