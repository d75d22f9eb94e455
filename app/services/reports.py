"""Management information, aggregated in the database; no personal data is read or returned.

Every figure is about referrals created in the period [from, to). The decision median uses
`percentile_cont` on PostgreSQL and a window-function equivalent elsewhere; days to the first
outcome are whole numbers, counted per day, and their median is read off the counts.
"""

import asyncio
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Select,
    SQLColumnExpression,
    Subquery,
    bindparam,
    case,
    cast,
    func,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import spreadsheet
from app.db import get_sessionmaker, utcnow
from app.errors import Forbidden
from app.models.directory import Agency
from app.models.referral import OUTCOME_BITS, OutcomeKind, OutcomeType, Referral, ReferralStatus, outcome_kind
from app.models.report import (
    UNDECIDED_STATUSES,
    GroupBy,
    OutcomeTally,
    OverdueReferral,
    ReportGroup,
    ReportQuery,
    ReportSummary,
)
from app.pagination import Keyset, Page, keyset_page
from app.security import Principal, agency_of
from app.services import directory

_GROUP_COLUMNS: dict[GroupBy, SQLColumnExpression[Any]] = {
    GroupBy.PURPOSE: col(Referral.purpose),
    GroupBy.FROM_AGENCY: col(Referral.from_agency_id),
    GroupBy.TO_AGENCY: col(Referral.to_agency_id),
}
Key = str | None
REPORT_WORK_MEM = "64MB"


@dataclass(frozen=True, slots=True)
class _Scope:
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

    def select(self, *columns: SQLColumnExpression[Any]) -> Select[Any]:
        """Referrals in scope, with the group key as the first column."""
        return select(self.key().label("key"), *columns).select_from(Referral).where(*self.conditions())


@dataclass
class _Tally:
    """The figures of one group, filled in query by query."""

    by_status: dict[ReferralStatus, int] = field(default_factory=lambda: dict.fromkeys(ReferralStatus, 0))
    decided: int = 0
    accepted_or_later: int = 0
    overdue: int = 0
    median_hours_to_decision: float | None = None
    first_outcome_days: Counter[int] = field(default_factory=Counter)
    with_outcome: int = 0
    outcomes: dict[OutcomeType, int] = field(default_factory=lambda: dict.fromkeys(OutcomeType, 0))


Tallies = defaultdict[Key, _Tally]


async def summarise(
    session: AsyncSession, principal: Principal, query: ReportQuery, *, now: datetime | None = None
) -> ReportSummary:
    """The report for the caller: agency accounts see only referrals their agency sent or received."""
    scope = _Scope(
        query.start,
        query.end,
        await _agency_in_scope(session, principal, query.agency_id),
        query.group_by,
        session.get_bind().dialect.name == "postgresql",
    )
    now = now or utcnow()
    tallies: Tallies = defaultdict(_Tally)
    await _read_figures(session, scope, now, tallies)
    if scope.group_by is None:
        tallies.setdefault(None, _Tally())  # an ungrouped report has its one group, even when empty
    labels = await _labels(session, scope.group_by, tallies.keys())
    groups = [_group(key, labels.get(key), tallies[key]) for key in sorted(tallies, key=lambda k: k or "")]
    return ReportSummary(
        start=scope.start,
        end=scope.end,
        agency_id=scope.agency_id,
        group_by=scope.group_by,
        generated_at=now,
        groups=groups,
    )


async def _read_figures(session: AsyncSession, scope: _Scope, now: datetime, tallies: Tallies) -> None:
    """The report's three scans of the referrals in scope.

    On PostgreSQL they run at once, each in a transaction of its own on a snapshot exported
    by this one: they see the same referrals, and each can have a CPU of its own (the
    medians' sorts cannot be split between parallel workers). Elsewhere they run in turn.
    """
    reads = (_count_statuses, _decision_medians, _outcome_figures)
    if not scope.postgres:
        for read in reads:
            await read(session, scope, now, tallies)
        return
    snapshot = str((await session.execute(text("SELECT pg_export_snapshot()"))).scalar_one())
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
    await asyncio.gather(*(_on_snapshot(snapshot, read, scope, now, tallies) for read in reads))


_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")
Read = Callable[[AsyncSession, _Scope, datetime, Tallies], Awaitable[None]]


async def _on_snapshot(snapshot: str, read: Read, scope: _Scope, now: datetime, tallies: Tallies) -> None:
    """Run `read` in a read-only transaction that sees exactly what `snapshot` saw."""
    async with get_sessionmaker()() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        await session.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        await _prepare(session)
        await read(session, scope, now, tallies)
        await session.rollback()


async def _prepare(session: AsyncSession) -> None:
    """Give this transaction's sorts room and skip JIT for the report's queries (PostgreSQL).

    A median sorts every value in the period (a million, for a large network): with the
    default work_mem the sort spills to disk, and JIT compilation costs more than it saves
    on scans this short.
    """
    await session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
    await session.execute(text("SET LOCAL jit = off"))


async def _agency_in_scope(
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


def _key(value: object) -> Key:
    if value is None:
        return None
    return str(value.value) if isinstance(value, Enum) else str(value)


async def _count_statuses(session: AsyncSession, scope: _Scope, now: datetime, tallies: Tallies) -> None:
    status, decided_at = col(Referral.status), col(Referral.decided_at)
    past_due = func.sum(case((col(Referral.due_by) < now, 1), else_=0))
    query = scope.select(status, func.count(), func.count(decided_at), past_due)
    for key, code, count, decided, late in await session.execute(query.group_by(*scope.group_keys(), status)):
        tally = tallies[_key(key)]
        tally.by_status[ReferralStatus(code)] += count
        tally.decided += decided
        # decided_at is set by acceptance or refusal: decided and not declined means accepted.
        tally.accepted_or_later += decided if code != ReferralStatus.DECLINED else 0
        tally.overdue += int(late or 0) if code in UNDECIDED_STATUSES else 0


async def _decision_medians(session: AsyncSession, scope: _Scope, _now: datetime, tallies: Tallies) -> None:
    decided_at, created_at = col(Referral.decided_at), col(Referral.created_at)
    hours = _hours_between(scope, created_at, decided_at)
    rows = scope.select(hours.label("value")).where(decided_at.is_not(None)).subquery()
    for key, median in await _medians(session, scope, rows):
        tallies[_key(key)].median_hours_to_decision = round(float(median), 2)


async def _outcome_figures(session: AsyncSession, scope: _Scope, _now: datetime, tallies: Tallies) -> None:
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
        tally = tallies[_key(key)]
        tally.first_outcome_days[round(day)] += referrals
        tally.with_outcome += referrals
        for outcome_type, count in zip(OUTCOME_BITS, per_type, strict=True):
            tally.outcomes[outcome_type] += int(count)


def _hours_between(
    scope: _Scope, start: SQLColumnExpression[Any], end: SQLColumnExpression[Any]
) -> SQLColumnExpression[Any]:
    if scope.postgres:
        # date_part gives a float; EXTRACT gives numeric, which sorts several times slower.
        return func.date_part("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def _days_between(
    scope: _Scope, created_at: SQLColumnExpression[Any], day: SQLColumnExpression[Any]
) -> SQLColumnExpression[Any]:
    """Whole days from the UTC date a referral was made to `day`; an earlier day counts as 0."""
    if scope.postgres:
        return func.greatest(day - cast(func.timezone("UTC", created_at), Date), 0)
    return func.max(func.julianday(day) - func.julianday(func.date(created_at)), 0)


async def _medians(session: AsyncSession, scope: _Scope, rows: Subquery) -> list[tuple[Any, Any]]:
    """The median of `rows.c.value` per `rows.c.key` (groups without values are left out)."""
    if scope.postgres:
        query = _per_key(scope, rows, func.percentile_cont(0.5).within_group(rows.c.value))
    else:
        query = _window_median(scope, rows)
    return [(key, median) for key, median in await session.execute(query) if median is not None]


def _median_of_counts(counts: Counter[int]) -> float | None:
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


def _per_key(scope: _Scope, rows: Subquery, *aggregates: SQLColumnExpression[Any]) -> Select[Any]:
    if scope.group_by is None:
        return select(null(), *aggregates).select_from(rows)
    return select(rows.c.key, *aggregates).group_by(rows.c.key)


def _window_median(scope: _Scope, rows: Subquery) -> Select[Any]:
    """The portable median: the middle row, or the mean of the middle two, of each ordered group."""
    partition = rows.c.key if scope.group_by else None
    ranked = select(
        rows.c.key,
        rows.c.value,
        func.row_number().over(partition_by=partition, order_by=rows.c.value).label("position"),
        func.count().over(partition_by=partition).label("size"),
    ).subquery()
    middle = or_(ranked.c.position == (ranked.c.size + 1) // 2, ranked.c.position == (ranked.c.size + 2) // 2)
    return _per_key(scope, ranked, func.avg(ranked.c.value)).where(middle)


async def _labels(session: AsyncSession, group_by: GroupBy | None, keys: Iterable[Key]) -> dict[Key, str]:
    """What a reader sees for each group: the purpose code, or the agency's name."""
    present = [k for k in keys if k is not None]
    if group_by is None or not present:
        return {}
    if group_by is GroupBy.PURPOSE:
        return {k: k for k in present}
    names = select(col(Agency.id), col(Agency.name)).where(
        col(Agency.id).in_([uuid.UUID(k) for k in present])
    )
    return {str(agency_id): name for agency_id, name in await session.execute(names)}


def _group(key: Key, label: str | None, tally: _Tally) -> ReportGroup:
    outcomes = [OutcomeTally(type=t, kind=outcome_kind(t), referrals=n) for t, n in tally.outcomes.items()]
    return ReportGroup(
        key=key,
        label=label,
        referrals=sum(tally.by_status.values()),
        by_status=tally.by_status,
        decided=tally.decided,
        accepted_or_later=tally.accepted_or_later,
        acceptance_rate=round(tally.accepted_or_later / tally.decided, 4) if tally.decided else None,
        median_hours_to_decision=tally.median_hours_to_decision,
        median_days_to_first_outcome=_median_of_counts(tally.first_outcome_days),
        overdue=tally.overdue,
        with_outcome=tally.with_outcome,
        hard_outcomes=sum(o.referrals for o in outcomes if o.kind is OutcomeKind.HARD),
        soft_outcomes=sum(o.referrals for o in outcomes if o.kind is OutcomeKind.SOFT),
        outcomes=outcomes,
    )


# The CSV has one row per group and a fixed set of columns, whatever the data holds.
CSV_COLUMNS = [
    "group_by",
    "key",
    "label",
    "from",
    "to",
    "referrals",
    *(f"status_{s.value}" for s in ReferralStatus),
    "decided",
    "accepted_or_later",
    "acceptance_rate",
    "median_hours_to_decision",
    "median_days_to_first_outcome",
    "overdue",
    "with_outcome",
    "hard_outcomes",
    "soft_outcomes",
    *(f"outcome_{t.value}" for t in OutcomeType),
]


def summary_csv(summary: ReportSummary) -> str:
    """The summary as CSV with a header row, one row per group; safe to open in a spreadsheet."""
    rows: list[list[object]] = [list(CSV_COLUMNS), *(_csv_row(summary, group) for group in summary.groups)]
    return "".join(spreadsheet.line(row) for row in rows)


def _csv_row(summary: ReportSummary, group: ReportGroup) -> list[object]:
    period = [t and t.isoformat() for t in (summary.start, summary.end)]
    return [
        summary.group_by and summary.group_by.value,
        group.key,
        group.label,
        *period,
        group.referrals,
        *(group.by_status[s] for s in ReferralStatus),
        group.decided,
        group.accepted_or_later,
        group.acceptance_rate,
        group.median_hours_to_decision,
        group.median_days_to_first_outcome,
        group.overdue,
        group.with_outcome,
        group.hard_outcomes,
        group.soft_outcomes,
        *(o.referrals for o in group.outcomes),
    ]


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
