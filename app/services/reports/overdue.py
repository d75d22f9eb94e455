"""An agency's referrals awaiting its decision past their due time."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    bindparam,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.models.referral import Referral
from app.models.report import (
    UNDECIDED_STATUSES,
    OverdueReferral,
)
from app.pagination import Keyset, Page, keyset_page
from app.security import Principal, agency_of

_OVERDUE_COLUMNS = [
    col(c)
    for c in (
        Referral.id,
        Referral.reference,
        Referral.status,
        Referral.purpose,
        Referral.urgency,
        Referral.from_agency_id,
        Referral.to_service_id,
        Referral.created_at,
        Referral.due_by,
    )
]

OVERDUE_ORDER = Keyset("overdue", (col(Referral.due_by), col(Referral.id)), (datetime, uuid.UUID))


async def list_overdue(
    session: AsyncSession,
    principal: Principal,
    *,
    cursor: str | None,
    limit: int,
    now: datetime | None = None,
) -> Page[OverdueReferral]:
    """The caller's agency's referrals awaiting its decision past due_by, most overdue first."""
    agency_id = agency_of(principal)
    now = now or utcnow()
    due_by = col(Referral.due_by)
    # Statuses inline, not as parameters, so a cached generic plan can still use the partial index.
    undecided: BindParameter[Any] = bindparam(
        "undecided", list(UNDECIDED_STATUSES), expanding=True, literal_execute=True
    )
    query = select(*_OVERDUE_COLUMNS).where(
        col(Referral.to_agency_id) == agency_id, col(Referral.status).in_(undecided), due_by < now
    )
    rows, next_cursor = await keyset_page(session, query, OVERDUE_ORDER, cursor, limit, scalars=False)
    items = [OverdueReferral(**row._mapping, days_overdue=(now - row.due_by).days) for row in rows]
    return Page(items=items, next_cursor=next_cursor)
