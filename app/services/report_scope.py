"""Which agency a report covers, by the one rule every report follows."""

import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.security import Principal
from app.services.reports import _agency_in_scope


async def agency_in_scope(
    session: AsyncSession, principal: Principal, requested: uuid.UUID | None
) -> uuid.UUID | None:
    """Platform accounts may name any agency (404 if unknown); agency accounts only their own (403)."""
    return await _agency_in_scope(session, principal, requested)


def first_day_from(moment: datetime | None) -> date | None:
    """The first whole day starting at or after `moment` (UTC): days are in a period if they start in it."""
    if moment is None:
        return None
    day = moment.date()
    return day if moment.timetz().replace(tzinfo=None) == time() else day + timedelta(days=1)
