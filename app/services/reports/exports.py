"""The summary as CSV, safe to open in a spreadsheet."""

from app import spreadsheet
from app.models.outcome import OutcomeType
from app.models.referral import ReferralStatus
from app.models.report import (
    ReportGroup,
    ReportSummary,
)
from app.services.reports.scope import SUSTAINMENT_FIGURES, SUSTAINMENT_KINDS

# The CSV has one row per group and a fixed set of columns, whatever the data holds; outcome
# columns follow the report's outcome_rule, which has a column of its own.
CSV_COLUMNS = [
    "outcome_rule",
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
    "journeys",
    *(f"{k.value}_{figure}" for k in SUSTAINMENT_KINDS for figure in SUSTAINMENT_FIGURES),
]


def summary_csv(summary: ReportSummary) -> str:
    """The summary as CSV with a header row, one row per group; safe to open in a spreadsheet."""
    rows: list[list[object]] = [list(CSV_COLUMNS), *(_csv_row(summary, group) for group in summary.groups)]
    return "".join(spreadsheet.line(row) for row in rows)


def _csv_row(summary: ReportSummary, group: ReportGroup) -> list[object]:
    period = [t and t.isoformat() for t in (summary.start, summary.end)]
    return [
        summary.outcome_rule.value,
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
        *(o.count for o in group.outcomes),
        group.journeys,
        *(getattr(s, figure) for s in group.sustainment for figure in SUSTAINMENT_FIGURES),
    ]
