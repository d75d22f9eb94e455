"""A small hand-built referral network whose report figures are worked out by hand below.

January 2025, four agencies: a children's centre (centre), Jobcentre Plus (jcp), debt advice
(debt) and an outsider. In the period [2025-01-01, 2025-02-01):

| ref | from -> to     | purpose   | status      | decision after | first outcome after |
|-----|----------------|-----------|-------------|----------------|---------------------|
| r1  | centre -> debt | debt      | completed   | 6 h accepted   | 2 days (3 outcomes) |
| r2  | centre -> debt | debt      | declined    | 24 h declined  |                     |
| r3  | jcp -> debt    | debt      | in_progress | 12 h accepted  | 10 days             |
| r4  | centre -> debt | debt      | submitted   | overdue        |                     |
| r5  | centre -> debt | debt      | received    | not yet due    |                     |
| r6  | centre -> jcp  | better_off| cancelled   | 2 h accepted   | 1 day               |
| r7  | debt -> jcp    | better_off| cancelled   | never decided  |                     |
| r10 | outsider -> jcp| better_off| submitted   | overdue        |                     |

r1 has `debt_plan_agreed` twice (once by each agency): it counts once. r8 (the last hour
of 2024) and r9 (exactly 2025-02-01, the exclusive end) fall outside the period.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.db import utcnow
from app.models.directory import Agency, AgencyKind, Purpose, Service
from app.models.outcome import OutcomeType
from app.models.referral import Referral, ReferralStatus
from tests.support.factories import make_agency, make_service
from tests.support.referral_rows import OutcomeRow, insert_referral

S = ReferralStatus
PERIOD = {"from": "2025-01-01T00:00:00Z", "to": "2025-02-01T00:00:00Z"}
BETTER_OFF = Purpose.BETTER_OFF_CALCULATION


def at(day: int, hour: int = 9, month: int = 1, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass
class ReportNetwork:
    centre: Agency
    jcp: Agency
    debt: Agency
    outsider: Agency
    debt_service: Service
    jcp_service: Service
    referrals: dict[str, Referral]


async def make_report_network() -> ReportNetwork:
    centre = await make_agency(AgencyKind.CHILDRENS_CENTRE, name="Caia Park Children's Centre")
    jcp = await make_agency(AgencyKind.JOBCENTRE_PLUS, name="Wrexham Jobcentre Plus")
    debt = await make_agency(AgencyKind.DEBT_ADVICE, name="North Wales Debt Advice")
    outsider = await make_agency(AgencyKind.HOUSING, name="=Housing Options")
    debt_service = await make_service(debt, [Purpose.DEBT_ADVICE], response_target_days=5)
    jcp_service = await make_service(jcp, [BETTER_OFF], response_target_days=2)
    net = ReportNetwork(centre, jcp, debt, outsider, debt_service, jcp_service, {})
    await _debt_referrals(net)
    await _jcp_referrals(net)
    return net


async def _debt_referrals(net: ReportNetwork) -> None:
    r = net.referrals
    r["r1"] = await insert_referral(
        net.centre,
        net.debt_service,
        created_at=at(6, 9),
        status=S.COMPLETED,
        decided_at=at(6, 15),
        closed_at=at(20),
        outcomes=[
            OutcomeRow(OutcomeType.DEBT_PLAN_AGREED, date(2025, 1, 10), net.debt),
            OutcomeRow(OutcomeType.DEBT_PLAN_AGREED, date(2025, 1, 12), net.centre),
            OutcomeRow(OutcomeType.ENGAGED_WITH_SERVICE, date(2025, 1, 8), net.debt),
        ],
    )
    r["r2"] = await insert_referral(
        net.centre, net.debt_service, created_at=at(7, 10), status=S.DECLINED, decided_at=at(8, 10)
    )
    r["r3"] = await insert_referral(
        net.jcp,
        net.debt_service,
        created_at=at(8, 12),
        status=S.IN_PROGRESS,
        decided_at=at(9, 0),
        outcomes=[OutcomeRow(OutcomeType.JOB_ENTRY, date(2025, 1, 18), net.jcp)],
    )
    r["r4"] = await insert_referral(net.centre, net.debt_service, created_at=at(10, 8))
    r["r5"] = await insert_referral(
        net.centre, net.debt_service, created_at=at(11), status=S.RECEIVED, due_by=utcnow() + timedelta(30)
    )
    r["r8"] = await insert_referral(
        net.centre, net.debt_service, created_at=at(31, 23, 12, 2024), status=S.ACCEPTED, decided_at=at(2)
    )


async def _jcp_referrals(net: ReportNetwork) -> None:
    r = net.referrals
    r["r6"] = await insert_referral(
        net.centre,
        net.jcp_service,
        purpose=BETTER_OFF,
        created_at=at(12, 9),
        status=S.CANCELLED,
        decided_at=at(12, 11),
        closed_at=at(15),
        outcomes=[OutcomeRow(OutcomeType.BETTER_OFF_CALCULATION_DONE, date(2025, 1, 13), net.jcp)],
    )
    r["r7"] = await insert_referral(
        net.debt, net.jcp_service, purpose=BETTER_OFF, created_at=at(13), status=S.CANCELLED
    )
    r["r9"] = await insert_referral(net.centre, net.jcp_service, purpose=BETTER_OFF, created_at=at(1, 0, 2))
    r["r10"] = await insert_referral(net.outsider, net.jcp_service, purpose=BETTER_OFF, created_at=at(20))
