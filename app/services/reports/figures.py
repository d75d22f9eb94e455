"""The scans of the referrals in scope: statuses, decision times and outcomes.

The decision median uses `percentile_cont` on PostgreSQL and a window-function equivalent elsewhere;
days to the first outcome are whole numbers, counted per day, and their median is read off the counts.
"""

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Date,
    Select,
    SQLColumnExpression,
    Subquery,
    case,
    cast,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models.outcome import OUTCOME_BITS
from app.models.referral import Referral, ReferralStatus
from app.models.report import (
    UNDECIDED_STATUSES,
)
from app.services.reports.scope import ReportScope, Tallies, key_of


async def count_statuses(session: AsyncSession, scope: ReportScope, now: datetime, tallies: Tallies) -> None:
    status, decided_at = col(Referral.status), col(Referral.decided_at)
    past_due = func.sum(case((col(Referral.due_by) < now, 1), else_=0))
    query = scope.select(status, func.count(), func.count(decided_at), past_due)
    for key, code, count, decided, late in await session.execute(query.group_by(*scope.group_keys(), status)):
        tally = tallies[key_of(key)]
        tally.by_status[ReferralStatus(code)] += count
        tally.decided += decided
        # decided_at is set by acceptance or refusal: decided and not declined means accepted.
        tally.accepted_or_later += decided if code != ReferralStatus.DECLINED else 0
        tally.overdue += int(late or 0) if code in UNDECIDED_STATUSES else 0


async def decision_medians(
    session: AsyncSession, scope: ReportScope, _now: datetime, tallies: Tallies
) -> None:
    decided_at, created_at = col(Referral.decided_at), col(Referral.created_at)
    hours = _hours_between(scope, created_at, decided_at)
    rows = scope.select(hours.label("value")).where(decided_at.is_not(None)).subquery()
    for key, median in await _medians(session, scope, rows):
        tallies[key_of(key)].median_hours_to_decision = round(float(median), 2)


async def outcome_figures(
    session: AsyncSession, scope: ReportScope, _now: datetime, tallies: Tallies
) -> None:
    """Days to the first outcome, and referrals per outcome type, from each referral's rollup.

    The rollup holds the set of a referral's outcome types as bits, so a type recorded twice
    on one referral, or by both agencies, counts once. Days are whole numbers, so counting
    referrals per day gives the exact median without a sort.
    """
    types, first = col(Referral.outcome_types), col(Referral.first_outcome_on)
    days = _days_between(scope, col(Referral.created_at), first)
    with_type = [func.sum(case((types.op("&")(b) != 0, 1), else_=0)) for b in OUTCOME_BITS.values()]
    query = (
        scope.select(days.label("days"), func.count(), *with_type)
        .where(col(Referral.outcome_count) > 0)
        .group_by(*scope.group_keys(), days)
    )
    for key, day, referrals, *per_type in await session.execute(query):
        tally = tallies[key_of(key)]
        tally.first_outcome_days[round(day)] += referrals
        tally.with_outcome += referrals
        for outcome_type, count in zip(OUTCOME_BITS, per_type, strict=True):
            tally.outcomes[outcome_type] += int(count)


def _hours_between(
    scope: ReportScope, start: SQLColumnExpression[Any], end: SQLColumnExpression[Any]
) -> SQLColumnExpression[Any]:
    if scope.postgres:
        # date_part gives a float; EXTRACT gives numeric, which sorts several times slower.
        return func.date_part("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def _days_between(
    scope: ReportScope, created_at: SQLColumnExpression[Any], day: SQLColumnExpression[Any]
) -> SQLColumnExpression[Any]:
    """Whole days from the UTC date a referral was made to `day`; an earlier day counts as 0."""
    if scope.postgres:
        return func.greatest(day - cast(func.timezone("UTC", created_at), Date), 0)
    return func.max(func.julianday(day) - func.julianday(func.date(created_at)), 0)


async def _medians(session: AsyncSession, scope: ReportScope, rows: Subquery) -> list[tuple[Any, Any]]:
    """The median of `rows.c.value` per `rows.c.key` (groups without values are left out)."""
    if scope.postgres:
        query = _perkey_of(scope, rows, func.percentile_cont(0.5).within_group(rows.c.value))
    else:
        query = _window_median(scope, rows)
    return [(key, median) for key, median in await session.execute(query) if median is not None]


def median_of_counts(counts: Counter[int]) -> float | None:
    """The median of values given as value -> how many times it occurs (as percentile_cont(0.5))."""
    size = sum(counts.values())
    if not size:
        return None
    return (_value_at_rank(counts, (size + 1) // 2) + _value_at_rank(counts, (size + 2) // 2)) / 2


def _value_at_rank(counts: Counter[int], rank: int) -> int:
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    raise ValueError(f"rank {rank} is beyond {seen} values")


def _perkey_of(scope: ReportScope, rows: Subquery, *aggregates: SQLColumnExpression[Any]) -> Select[Any]:
    if scope.group_by is None:
        return select(null(), *aggregates).select_from(rows)
    return select(rows.c.key, *aggregates).group_by(rows.c.key)


def _window_median(scope: ReportScope, rows: Subquery) -> Select[Any]:
    """The portable median: the middle row, or the mean of the middle two, of each ordered group."""
    partition = rows.c.key if scope.group_by else None
    ranked = select(
        rows.c.key,
        rows.c.value,
        func.row_number().over(partition_by=partition, order_by=rows.c.value).label("position"),
        func.count().over(partition_by=partition).label("size"),
    ).subquery()
    middle = or_(ranked.c.position == (ranked.c.size + 1) // 2, ranked.c.position == (ranked.c.size + 2) // 2)
    return _perkey_of(scope, ranked, func.avg(ranked.c.value)).where(middle)
