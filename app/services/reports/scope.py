"""What a report covers (period, agency, grouping) and the tallies its scans fill in."""

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    null,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import Forbidden
from app.models.follow_up import FollowUpKind
from app.models.outcome import OutcomeType
from app.models.referral import Referral, ReferralStatus
from app.models.report import (
    GroupBy,
)
from app.security import Principal
from app.services import directory

_GROUP_COLUMNS: dict[GroupBy, SQLColumnExpression[Any]] = {
    GroupBy.PURPOSE: col(Referral.purpose),
    GroupBy.FROM_AGENCY: col(Referral.from_agency_id),
    GroupBy.TO_AGENCY: col(Referral.to_agency_id),
}
Key = str | None
SUSTAINMENT_FIGURES = ("due", "followed_up", "sustained", "not_sustained", "unable_to_contact")
SUSTAINMENT_KINDS = (FollowUpKind.JOB_SUSTAINMENT_13_WEEKS, FollowUpKind.JOB_SUSTAINMENT_26_WEEKS)
REPORT_WORK_MEM = "64MB"


@dataclass(frozen=True, slots=True)
class ReportScope:
    """Which referrals a report covers and how they are grouped."""

    start: datetime | None
    end: datetime | None
    agency_id: uuid.UUID | None
    group_by: GroupBy | None
    postgres: bool

    def conditions(self) -> list[ColumnElement[bool]]:
        created = col(Referral.created_at)
        found: list[ColumnElement[bool]] = []
        if self.start is not None:
            found.append(created >= self.start)
        if self.end is not None:
            found.append(created < self.end)
        if self.agency_id is not None:
            sent, received = col(Referral.from_agency_id), col(Referral.to_agency_id)
            found.append(or_(sent == self.agency_id, received == self.agency_id))
        return found

    def key(self) -> SQLColumnExpression[Any]:
        return _GROUP_COLUMNS[self.group_by] if self.group_by else null()

    def group_keys(self) -> list[SQLColumnExpression[Any]]:
        # PostgreSQL refuses a constant in GROUP BY, so an ungrouped report groups by nothing.
        return [self.key()] if self.group_by else []

    @property
    def platform_wide(self) -> bool:
        """Not one agency's report: outcomes are counted once per person per journey."""
        return self.agency_id is None

    def select(self, *columns: SQLColumnExpression[Any]) -> Select[Any]:
        """Referrals in scope, with the group key as the first column."""
        return select(self.key().label("key"), *columns).select_from(Referral).where(*self.conditions())


@dataclass
class Tally:
    """The figures of one group, filled in query by query."""

    by_status: dict[ReferralStatus, int] = field(default_factory=lambda: dict.fromkeys(ReferralStatus, 0))
    decided: int = 0
    accepted_or_later: int = 0
    overdue: int = 0
    median_hours_to_decision: float | None = None
    first_outcome_days: Counter[int] = field(default_factory=Counter)
    with_outcome: int = 0
    outcomes: dict[OutcomeType, int] = field(default_factory=lambda: dict.fromkeys(OutcomeType, 0))
    # Platform-wide reports only: journeys, in all and per outcome type (each counted once).
    journeys: int | None = None
    onward: int | None = None  # referrals made onward: journeys are the rest, for the whole platform
    outcome_journeys: dict[OutcomeType, int] = field(default_factory=lambda: dict.fromkeys(OutcomeType, 0))
    sustainment: dict[FollowUpKind, Counter[str]] = field(
        default_factory=lambda: {kind: Counter() for kind in SUSTAINMENT_KINDS}
    )


Tallies = defaultdict[Key, Tally]


async def agency_in_scope(
    session: AsyncSession, principal: Principal, requested: uuid.UUID | None
) -> uuid.UUID | None:
    """Platform accounts may name any agency (404 if unknown); agency accounts only their own (403)."""
    if principal.agency_id is None:
        if requested is not None:
            await directory.get_agency(session, requested)
        return requested
    if requested not in (None, principal.agency_id):
        raise Forbidden("An agency account can report only on its own agency's referrals.")
    return principal.agency_id


def key_of(value: object) -> Key:
    if value is None:
        return None
    return str(value.value) if isinstance(value, Enum) else str(value)


def first_day_from(moment: datetime | None) -> date | None:
    """The first whole day starting at or after `moment` (UTC): days are in a period if they start in it."""
    if moment is None:
        return None
    day = moment.date()
    return day if moment.timetz().replace(tzinfo=None) == time() else day + timedelta(days=1)
