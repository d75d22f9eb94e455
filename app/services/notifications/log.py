"""The notification log an agency admin reads: what was sent to whom about which referral, and how."""

import uuid
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import Unprocessable
from app.models.identity import NotificationKind
from app.models.notification import Notification, NotificationPublic, NotificationStatus
from app.pagination import Keyset, Page, keyset_page
from app.security import Principal

LOG_ORDER = Keyset(
    "notifications",
    (col(Notification.created_at), col(Notification.id)),
    (datetime, uuid.UUID),
    descending=True,
)


async def list_log(
    session: AsyncSession,
    principal: Principal,
    *,
    status: NotificationStatus | None,
    kind: NotificationKind | None,
    referral_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[NotificationPublic]:
    """Notifications to the caller's agency (every agency's for a platform admin), newest first;
    queued from `since` and before `until` when given."""
    if since is not None and until is not None and since > until:
        raise Unprocessable.field("until", "must not be before since")
    query = _queued_within(select(Notification), since, until)
    if principal.agency_id is not None:
        query = query.where(col(Notification.agency_id) == principal.agency_id)
    if status is not None:
        query = query.where(col(Notification.status) == status)
    if kind is not None:
        query = query.where(col(Notification.kind) == kind)
    if referral_id is not None:
        query = query.where(col(Notification.referral_id) == referral_id)
    found, next_cursor = await keyset_page(session, query, LOG_ORDER, cursor, limit)
    return Page(items=[NotificationPublic.of(n) for n in found], next_cursor=next_cursor)


def _queued_within(
    query: Select[tuple[Notification]], since: datetime | None, until: datetime | None
) -> Select[tuple[Notification]]:
    if since is not None:
        query = query.where(col(Notification.created_at) >= since)
    if until is not None:
        query = query.where(col(Notification.created_at) < until)
    return query
