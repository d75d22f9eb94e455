"""The summary report: the scans run on one snapshot, then one group per key."""

import asyncio
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from sqlalchemy import (
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import get_sessionmaker, utcnow
from app.models.directory import Agency
from app.models.follow_up import FollowUpKind
from app.models.outcome import OutcomeKind, OutcomeType, outcome_kind
from app.models.report import (
    GroupBy,
    OutcomeRule,
    OutcomeTally,
    ReportGroup,
    ReportQuery,
    ReportSummary,
    Sustainment,
)
from app.security import Principal
from app.services.reports.figures import count_statuses, decision_medians, median_of_counts, outcome_figures
from app.services.reports.journeys import journey_figures, sustainment_figures
from app.services.reports.scope import (
    REPORT_WORK_MEM,
    SUSTAINMENT_FIGURES,
    SUSTAINMENT_KINDS,
    Key,
    ReportScope,
    Tallies,
    Tally,
    agency_in_scope,
)


async def summarise(
    session: AsyncSession, principal: Principal, query: ReportQuery, *, now: datetime | None = None
) -> ReportSummary:
    """The report for the caller: agency accounts see only referrals their agency sent or received."""
    scope = ReportScope(
        query.start,
        query.end,
        await agency_in_scope(session, principal, query.agency_id),
        query.group_by,
        session.get_bind().dialect.name == "postgresql",
    )
    now = now or utcnow()
    tallies: Tallies = defaultdict(Tally)
    await _read_figures(session, scope, now, tallies)
    if scope.group_by is None:
        tallies.setdefault(None, Tally())  # an ungrouped report has its one group, even when empty
    labels = await _labels(session, scope.group_by, tallies.keys())
    per_journey = scope.platform_wide
    groups = [
        _group(key, labels.get(key), tallies[key], per_journey)
        for key in sorted(tallies, key=lambda k: k or "")
    ]
    rule = OutcomeRule.ONCE_PER_PERSON_PER_JOURNEY if per_journey else OutcomeRule.ONCE_PER_REFERRAL
    return ReportSummary(
        start=scope.start,
        end=scope.end,
        agency_id=scope.agency_id,
        group_by=scope.group_by,
        outcome_rule=rule,
        generated_at=now,
        groups=groups,
    )


async def _read_figures(session: AsyncSession, scope: ReportScope, now: datetime, tallies: Tallies) -> None:
    """The report's three scans of the referrals in scope.

    On PostgreSQL they run at once, each in a transaction of its own on a snapshot exported
    by this one: they see the same referrals, and each can have a CPU of its own (the
    medians' sorts cannot be split between parallel workers). Elsewhere they run in turn.
    """
    reads = (count_statuses, decision_medians, outcome_figures, journey_figures, sustainment_figures)
    if not scope.postgres:
        for read in reads:
            await read(session, scope, now, tallies)
        return
    snapshot = str((await session.execute(text("SELECT pg_export_snapshot()"))).scalar_one())
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
    await asyncio.gather(*(_on_snapshot(snapshot, read, scope, now, tallies) for read in reads))


_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")
Read = Callable[[AsyncSession, ReportScope, datetime, Tallies], Awaitable[None]]


async def _on_snapshot(
    snapshot: str, read: Read, scope: ReportScope, now: datetime, tallies: Tallies
) -> None:
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


def _group(key: Key, label: str | None, tally: Tally, per_journey: bool) -> ReportGroup:
    outcomes = [_outcome_tally(t, n, tally, per_journey) for t, n in tally.outcomes.items()]
    return ReportGroup(
        key=key,
        label=label,
        referrals=sum(tally.by_status.values()),
        by_status=tally.by_status,
        decided=tally.decided,
        accepted_or_later=tally.accepted_or_later,
        acceptance_rate=round(tally.accepted_or_later / tally.decided, 4) if tally.decided else None,
        median_hours_to_decision=tally.median_hours_to_decision,
        median_days_to_first_outcome=median_of_counts(tally.first_outcome_days),
        overdue=tally.overdue,
        with_outcome=tally.with_outcome,
        hard_outcomes=sum(o.count for o in outcomes if o.kind is OutcomeKind.HARD),
        soft_outcomes=sum(o.count for o in outcomes if o.kind is OutcomeKind.SOFT),
        outcomes=outcomes,
        journeys=_journeys(tally),
        sustainment=[_sustainment(kind, tally.sustainment[kind]) for kind in SUSTAINMENT_KINDS],
    )


def _journeys(tally: Tally) -> int:
    if tally.onward is not None:
        return sum(tally.by_status.values()) - tally.onward
    return tally.journeys or 0


def _sustainment(kind: FollowUpKind, counts: Counter[str]) -> Sustainment:
    return Sustainment(kind=kind, **{figure: counts[figure] for figure in SUSTAINMENT_FIGURES})


def _outcome_tally(
    outcome_type: OutcomeType, referrals: int, tally: Tally, per_journey: bool
) -> OutcomeTally:
    journeys = tally.outcome_journeys[outcome_type] if per_journey else None
    return OutcomeTally(
        type=outcome_type,
        kind=outcome_kind(outcome_type),
        count=referrals if journeys is None else journeys,
        referrals=referrals,
        journeys=journeys,
    )
