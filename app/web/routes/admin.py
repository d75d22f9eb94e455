"""Agency admins: the agency's figures, as a chart and a table."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.deps import SessionDep
from app.models.referral import ReferralStatus
from app.models.report import ReportQuery
from app.services import reports
from app.web import labels
from app.web.auth import ReportReader
from app.web.charts import bar_chart
from app.web.i18n import gettext
from app.web.templating import render

router = APIRouter(prefix="/admin")


@router.get("")
async def report(request: Request, session: SessionDep, who: ReportReader) -> Response:
    """Referrals the agency sent or received, by status, and the outcomes recorded; no personal data."""
    summary = await reports.summarise(session, who.principal, ReportQuery(agency_id=who.principal.agency_id))
    group = summary.groups[0]
    statuses = [(gettext(labels.STATUSES[s]), group.by_status.get(s, 0)) for s in ReferralStatus]
    outcomes = [(gettext(labels.OUTCOMES[t.type]), t.count) for t in group.outcomes if t.count]
    context = {
        "group": group,
        "summary": summary,
        "statuses": statuses,
        "status_chart": bar_chart(statuses),
        "outcomes": outcomes,
        "outcome_chart": bar_chart(outcomes),
    }
    return render(request, "admin/report.html", context)
