"""Management information: referral figures for evaluators, and each agency's overdue decisions."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from app.deps import CurrentPrincipal, ReportsReader, SessionDep
from app.errors import Forbidden, Responses
from app.models.identity import Scope
from app.models.measure import DistanceTravelledReport
from app.models.report import OverdueReferral, PeriodQuery, ReportQuery, ReportSummary
from app.models.signpost import SignpostReport
from app.pagination import CursorParam, LimitParam, Page
from app.security import Principal
from app.services import measures, reports, signposts

router = APIRouter(prefix="/v1/reports", tags=["reports"])

SUMMARY_RESPONSES: Responses = {
    200: {
        "description": "The figures as JSON, or as CSV (one row per group) with `Accept: text/csv`",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    403: {"description": "Missing reports:read, or an agency account naming another agency"},
    404: {"description": "No such agency"},
}
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def prefers_csv(accept: str | None) -> bool:
    """Whether the Accept header ranks text/csv above JSON; JSON wins ties and is the default."""
    ranks: dict[str, float] = {}
    for media_range in (accept or "").split(","):
        media, *params = (part.strip() for part in media_range.split(";"))
        quality = next((p.partition("=")[2] for p in params if p.partition("=")[0].strip() == "q"), "1")
        try:
            ranks[media.lower()] = float(quality)
        except ValueError:
            ranks[media.lower()] = 0.0
    return ranks.get("text/csv", 0.0) > ranks.get("application/json", 0.0)


OVERDUE_SCOPES = [Scope.REPORTS_READ.value, Scope.REFERRALS_READ.value]


async def overdue_reader(principal: CurrentPrincipal) -> Principal:
    """Agency staff with either referral or report access may see what awaits their decision."""
    if any(scope in principal.scopes for scope in OVERDUE_SCOPES):
        return principal
    raise Forbidden("This list needs the scope reports:read or referrals:read.", any_of_scopes=OVERDUE_SCOPES)


@router.get("/summary", response_model=ReportSummary, responses=SUMMARY_RESPONSES)
async def summary(
    session: SessionDep,
    principal: ReportsReader,
    query: Annotated[ReportQuery, Query()],
    accept: Annotated[str | None, Header()] = None,
) -> ReportSummary | Response:
    """Referral figures for a period, overall or per purpose or agency; JSON or CSV."""
    report = await reports.summarise(session, principal, query)
    if prefers_csv(accept):
        disposition = 'attachment; filename="referral-summary.csv"'
        return Response(
            reports.summary_csv(report),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": disposition},
        )
    return report


PERIOD_RESPONSES: Responses = {
    403: {"description": "Missing reports:read, or an agency account naming another agency"},
    404: {"description": "No such agency"},
}


@router.get("/signposts", response_model=SignpostReport, responses=PERIOD_RESPONSES)
async def signpost_report(
    session: SessionDep, principal: ReportsReader, query: Annotated[PeriodQuery, Query()]
) -> SignpostReport:
    """Signposts on days in the period, per purpose and service; counted apart from referrals."""
    return await signposts.report(session, principal, query)


@router.get("/distance-travelled", response_model=DistanceTravelledReport, responses=PERIOD_RESPONSES)
async def distance_travelled(
    session: SessionDep, principal: ReportsReader, query: Annotated[PeriodQuery, Query()]
) -> DistanceTravelledReport:
    """Per scale, people rated twice or more on referrals created in the period, and their mean change."""
    return await measures.report(session, principal, query)


@router.get(
    "/overdue",
    response_model=Page[OverdueReferral],
    responses={403: {"description": "Missing scope, or the account belongs to no agency"}},
    # Either scope will do: one security requirement each (OpenAPI's "or").
    openapi_extra={"security": [{"OAuth2": [scope]} for scope in OVERDUE_SCOPES]},
)
async def overdue(
    session: SessionDep,
    principal: Annotated[Principal, Depends(overdue_reader)],
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[OverdueReferral]:
    """Referrals awaiting your agency's decision past their due time, most overdue first."""
    return await reports.list_overdue(session, principal, cursor=cursor, limit=limit)
