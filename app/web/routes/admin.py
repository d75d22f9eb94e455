"""Agency admins: the agency's figures for a period, as charts and tables, and as a download."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.deps import SessionDep
from app.errors import Unprocessable
from app.models.outcome import OutcomeKind, OutcomeType, outcome_kind
from app.models.referral import ReferralStatus
from app.models.report import ReportGroup, ReportQuery, ReportSummary
from app.services import reports
from app.services.reports.scope import SUSTAINMENT_FIGURES
from app.web import labels
from app.web.auth import ReportReader
from app.web.charts import bar_chart
from app.web.forms import Form
from app.web.i18n import N_, gettext
from app.web.periods import Period, PeriodInput, read_period
from app.web.sessions import SignedIn
from app.web.templating import render

router = APIRouter(prefix="/admin")
FromParam = Annotated[date | None, Query(alias="from")]
ToParam = Annotated[date | None, Query(alias="to")]
DATE_BOXES = [f"{name}-{part}" for name in ("from", "to") for part in ("day", "month", "year")]
# What each job-sustainment figure means, as the table's rows say it.
SUSTAINMENT_LABELS = {
    "due": N_("Checks due"),
    "followed_up": N_("Checks done"),
    "sustained": N_("Still in work"),
    "not_sustained": N_("No longer in the job"),
    "unable_to_contact": N_("Could not be contacted"),
}


@router.get("")
async def report(request: Request, session: SessionDep, who: ReportReader) -> Response:
    """Referrals the agency sent or received in the period chosen, and what came of them; no personal data."""
    form = Form(values={k: request.query_params.get(k, "").strip() for k in DATE_BOXES})
    chosen = read_period(form)
    if chosen.period is None:
        return _render(request, form, chosen, None)
    summary = await _summary(session, who, chosen.period)
    return _render(request, form, chosen, summary)


@router.get("/figures.csv")
async def figures_csv(
    session: SessionDep, who: ReportReader, start: FromParam = None, end: ToParam = None
) -> Response:
    """The figures shown for the period, as the reports API gives them in CSV."""
    period = Period(start, end)
    if not period.in_order():
        raise Unprocessable.field("to", "must not be before from")
    summary = await _summary(session, who, period)
    return Response(
        reports.summary_csv(summary),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="agency-figures.csv"'},
    )


async def _summary(session: SessionDep, who: SignedIn, period: Period) -> ReportSummary:
    """The reports service's summary for the admin's own agency: never another agency's referrals."""
    query = ReportQuery(start=period.since(), end=period.until(), agency_id=who.principal.agency_id)
    return await reports.summarise(session, who.principal, query)


def _render(request: Request, form: Form, chosen: PeriodInput, summary: ReportSummary | None) -> Response:
    context: dict[str, object] = {
        "form": form,
        "highlight": chosen.highlight,
        "period": chosen.period,
        "summary": summary,
        "kinds": _kinds(),
    }
    if summary is not None:
        context |= _figures(summary.groups[0])
    return render(request, "admin/report.html", context, 200 if form.ok else 400)


def _figures(group: ReportGroup) -> dict[str, object]:
    statuses = [(gettext(labels.STATUSES[s]), group.by_status.get(s, 0)) for s in ReferralStatus]
    outcomes = [(gettext(labels.OUTCOMES[t.type]), t.count) for t in group.outcomes if t.count]
    kinds = {gettext(labels.OUTCOMES[t.type]): gettext(labels.OUTCOME_KINDS[t.kind]) for t in group.outcomes}
    sustainment = [
        (gettext(SUSTAINMENT_LABELS[figure]), *(getattr(s, figure) for s in group.sustainment))
        for figure in SUSTAINMENT_FIGURES
    ]
    return {
        "group": group,
        "statuses": statuses,
        "status_chart": bar_chart(statuses),
        "outcomes": outcomes,
        "outcome_kinds": kinds,
        "outcome_chart": bar_chart(outcomes),
        "sustainment": sustainment,
        "followed_up": any(s.due or s.followed_up for s in group.sustainment),
    }


def _kinds() -> dict[OutcomeKind, list[str]]:
    """Which outcomes count as hard and which as soft, as the outcome model classes them."""
    found: dict[OutcomeKind, list[str]] = {OutcomeKind.HARD: [], OutcomeKind.SOFT: []}
    for outcome_type in OutcomeType:
        found[outcome_kind(outcome_type)].append(gettext(labels.OUTCOMES[outcome_type]))
    return found
