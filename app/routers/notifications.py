"""The log of notifications sent to an agency's staff."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from app.deps import SessionDep, UserManager
from app.models.identity import NotificationKind
from app.models.notification import NotificationPublic, NotificationStatus
from app.pagination import CursorParam, LimitParam, Page
from app.services.notifications import log

router = APIRouter(prefix="/v1", tags=["notifications"])


@router.get(
    "/notifications",
    response_model=Page[NotificationPublic],
    responses={
        403: {"description": "Needs the users:manage scope (agency and platform admins)"},
        422: {"description": "Invalid filters; `errors` names each field"},
    },
)
async def list_notifications(
    session: SessionDep,
    principal: UserManager,
    status: NotificationStatus | None = None,
    kind: NotificationKind | None = None,
    referral_id: uuid.UUID | None = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Only those queued at or after this time.")
    ] = None,
    until: Annotated[AwareDatetime | None, Query(description="Only those queued before this time.")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[NotificationPublic]:
    """Notifications to your agency's staff, newest first, with every attempt to send each."""
    return await log.list_log(
        session,
        principal,
        status=status,
        kind=kind,
        referral_id=referral_id,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
