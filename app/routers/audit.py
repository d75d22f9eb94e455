"""The audit trail, for auditors: search it, verify its hash chain, export one trail."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.deps import AuditReader, SessionDep
from app.models.audit import AuditEventPublic, AuditQuery, ChainVerification
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


@router.get("/verify", response_model=ChainVerification)
async def verify_chain(session: SessionDep, principal: AuditReader) -> ChainVerification:
    """Recompute the hash chain and name the first bad event, if any."""
    return await audit.verify_chain_for(session, principal.actor)


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
