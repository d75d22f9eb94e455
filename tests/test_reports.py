"""The summary report: exact figures on a hand-built network, CSV, and who may see what."""

import csv
import io
import unicodedata
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from app.models.identity import Role
from app.models.outcome import OutcomeType
from app.models.referral import ReferralStatus
from app.services.reports import CSV_COLUMNS
from tests.support.factories import bearer, make_agency, make_service
from tests.support.referral_helpers import create_referral, make_network, move
from tests.support.referral_rows import insert_referral
from tests.support.report_data import PERIOD, ReportNetwork, make_report_network

ADMIN = bearer(None, Role.PLATFORM_ADMIN)


@pytest.fixture
async def net() -> ReportNetwork:
    return await make_report_network()


async def summary(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await client.get("/v1/reports/summary", params={**PERIOD, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def statuses(**counts: int) -> dict[str, int]:
    return {s.value: counts.get(s.value, 0) for s in ReferralStatus}


def outcome_counts(group: dict[str, Any]) -> dict[str, int]:
    return {o["type"]: o["referrals"] for o in group["outcomes"] if o["referrals"]}


@pytest.mark.usefixtures("net")
async def test_platform_summary_figures_are_exact(client: httpx.AsyncClient) -> None:
    body = await summary(client, ADMIN)

    assert body["from"] == "2025-01-01T00:00:00Z"
    assert body["to"] == "2025-02-01T00:00:00Z"
    assert body["agency_id"] is None
    (group,) = body["groups"]
    assert group["key"] is None
    assert group["referrals"] == 8
    assert group["by_status"] == statuses(
        completed=1, declined=1, in_progress=1, submitted=2, received=1, cancelled=2
    )
    assert (group["decided"], group["accepted_or_later"], group["acceptance_rate"]) == (4, 3, 0.75)
    assert group["median_hours_to_decision"] == 9.0  # 2, 6, 12, 24
    assert group["median_days_to_first_outcome"] == 2.0  # 1, 2, 10
    assert group["overdue"] == 2
    assert group["with_outcome"] == 3
    assert outcome_counts(group) == {
        "debt_plan_agreed": 1,  # recorded twice on r1, by both agencies: counted once
        "engaged_with_service": 1,
        "job_entry": 1,
        "better_off_calculation_done": 1,
    }
    assert (group["hard_outcomes"], group["soft_outcomes"]) == (3, 1)
    kinds = {o["type"]: o["kind"] for o in group["outcomes"]}
    assert kinds["job_entry"] == "hard"
    assert kinds["engaged_with_service"] == "soft"
    assert len(group["outcomes"]) == len(OutcomeType)


@pytest.mark.usefixtures("net")
async def test_grouped_by_purpose(client: httpx.AsyncClient) -> None:
    body = await summary(client, bearer(None, Role.AUDITOR), group_by="purpose")

    groups = {g["key"]: g for g in body["groups"]}
    assert list(groups) == ["better_off_calculation", "debt_advice"]
    debt, better_off = groups["debt_advice"], groups["better_off_calculation"]
    assert debt["label"] == "debt_advice"
    assert (debt["referrals"], debt["decided"], debt["accepted_or_later"]) == (5, 3, 2)
    assert debt["acceptance_rate"] == 0.6667
    assert debt["median_hours_to_decision"] == 12.0  # 6, 12, 24
    assert debt["median_days_to_first_outcome"] == 6.0  # 2, 10
    assert (debt["overdue"], debt["with_outcome"]) == (1, 2)
    assert outcome_counts(debt) == {"debt_plan_agreed": 1, "engaged_with_service": 1, "job_entry": 1}
    assert (better_off["referrals"], better_off["acceptance_rate"], better_off["overdue"]) == (3, 1.0, 1)
    assert better_off["median_hours_to_decision"] == 2.0
    assert better_off["median_days_to_first_outcome"] == 1.0
    assert better_off["by_status"] == statuses(cancelled=2, submitted=1)


async def test_grouped_by_agency_is_labelled_with_names(
    client: httpx.AsyncClient, net: ReportNetwork
) -> None:
    sent = await summary(client, ADMIN, group_by="from_agency")
    received = await summary(client, ADMIN, group_by="to_agency")

    by_sender = {g["label"]: g["referrals"] for g in sent["groups"]}
    assert by_sender == {
        net.centre.name: 5,
        net.jcp.name: 1,
        net.debt.name: 1,
        net.outsider.name: 1,
    }
    assert {g["key"] for g in sent["groups"]} == {
        str(a.id) for a in (net.centre, net.jcp, net.debt, net.outsider)
    }
    by_receiver = {g["label"]: (g["referrals"], g["overdue"]) for g in received["groups"]}
    assert by_receiver == {net.debt.name: (5, 1), net.jcp.name: (3, 1)}


@pytest.mark.parametrize(("agency", "expected"), [("centre", 5), ("debt", 6), ("jcp", 4), ("outsider", 1)])
async def test_agency_accounts_see_only_what_they_sent_or_received(
    client: httpx.AsyncClient, net: ReportNetwork, agency: str, expected: int
) -> None:
    own = getattr(net, agency)

    mine = await summary(client, bearer(own, Role.AGENCY_ADMIN))
    named = await summary(client, bearer(own, Role.AGENCY_ADMIN), agency_id=str(own.id))
    by_admin = await summary(client, ADMIN, agency_id=str(own.id))

    assert mine["agency_id"] == str(own.id)
    assert mine["groups"][0]["referrals"] == expected
    assert named == {**mine, "generated_at": named["generated_at"]}
    assert by_admin["groups"] == mine["groups"]


async def test_agency_account_naming_another_agency_is_refused(
    client: httpx.AsyncClient, net: ReportNetwork
) -> None:
    response = await client.get(
        "/v1/reports/summary",
        params={"agency_id": str(net.debt.id)},
        headers=bearer(net.centre, Role.AGENCY_ADMIN),
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_agency_is_404_for_platform_accounts(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/v1/reports/summary", params={"agency_id": "00000000-0000-0000-0000-000000000000"}, headers=ADMIN
    )
    assert response.status_code == 404


async def test_caseworker_without_reports_scope_is_refused(
    client: httpx.AsyncClient, net: ReportNetwork
) -> None:
    response = await client.get("/v1/reports/summary", headers=bearer(net.centre, Role.CASEWORKER))

    assert response.status_code == 403
    assert response.json()["required_scopes"] == ["reports:read"]


async def test_unauthenticated_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/reports/summary")).status_code == 401


async def test_csv_has_the_documented_columns_and_one_row_per_group(
    client: httpx.AsyncClient, net: ReportNetwork
) -> None:
    response = await client.get(
        "/v1/reports/summary",
        params={**PERIOD, "group_by": "from_agency"},
        headers={**ADMIN, "Accept": "text/csv"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    reader = csv.DictReader(io.StringIO(response.text))
    assert reader.fieldnames == CSV_COLUMNS
    rows = {row["key"]: row for row in reader}
    assert len(rows) == 4
    centre = rows[str(net.centre.id)]
    assert centre["group_by"] == "from_agency"
    assert centre["from"] == "2025-01-01T00:00:00+00:00"
    assert (centre["referrals"], centre["status_completed"], centre["status_declined"]) == ("5", "1", "1")
    assert (centre["decided"], centre["accepted_or_later"], centre["acceptance_rate"]) == ("3", "2", "0.6667")
    assert centre["median_hours_to_decision"] == "6.0"  # 2, 6, 24
    assert centre["outcome_debt_plan_agreed"] == "1"
    assert centre["outcome_job_entry"] == "0"
    # A name that a spreadsheet would run as a formula is neutralised.
    assert rows[str(net.outsider.id)]["label"] == "'=Housing Options"
    assert rows[str(net.outsider.id)]["median_hours_to_decision"] == ""


@pytest.mark.usefixtures("net")
async def test_json_is_the_default_and_wins_ties(client: httpx.AsyncClient) -> None:
    for accept in ("application/json", "application/json, text/csv", "*/*"):
        response = await client.get("/v1/reports/summary", headers={**ADMIN, "Accept": accept})
        assert response.headers["content-type"] == "application/json", accept
    preferred = await client.get(
        "/v1/reports/summary", headers={**ADMIN, "Accept": "application/json;q=0.5, text/csv"}
    )
    assert preferred.headers["content-type"].startswith("text/csv")


async def test_empty_report_still_has_its_group(client: httpx.AsyncClient) -> None:
    body = await summary(client, ADMIN)

    (group,) = body["groups"]
    assert group["referrals"] == 0
    assert group["acceptance_rate"] is None
    assert group["median_hours_to_decision"] is None
    assert group["median_days_to_first_outcome"] is None


@pytest.mark.usefixtures("net")
async def test_dates_are_read_as_midnight_utc_and_the_period_can_be_open(client: httpx.AsyncClient) -> None:
    by_date = await summary(client, ADMIN, **{"from": "2025-01-01", "to": "2025-02-01"})
    everything = await client.get("/v1/reports/summary", headers=ADMIN)

    assert by_date["from"] == "2025-01-01T00:00:00Z"
    assert by_date["groups"][0]["referrals"] == 8
    assert everything.json()["groups"][0]["referrals"] == 10


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-02-01", "to": "2025-01-01"}, "to"),
        ({"from": "2025-01-01T00:00:00"}, "from"),
        ({"from": "0001-01-01T00:00:00+14:00"}, "from"),
        ({"group_by": "postcode"}, "group_by"),
    ],
)
async def test_bad_parameters_are_422_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await client.get("/v1/reports/summary", params=params, headers=ADMIN)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_report_holds_no_personal_data(client: httpx.AsyncClient, net: ReportNetwork) -> None:
    json_body = (await client.get("/v1/reports/summary", headers=ADMIN)).text
    csv_body = (await client.get("/v1/reports/summary", headers={**ADMIN, "Accept": "text/csv"})).text

    for text in (json_body, csv_body):
        for personal in ("Natalie", "Example", "LL13", "07700900123", "1994", "Rent arrears"):
            assert personal not in text
    assert net.referrals


async def test_outcomes_recorded_through_the_api_are_counted(client: httpx.AsyncClient) -> None:
    net = await make_network()
    referral = await create_referral(client, net)
    assert (await move(client, referral, net.debt_headers, "accepted")).status_code == 200
    for headers in (net.debt_headers, net.centre_headers, net.debt_headers):
        recorded = await client.post(
            f"/v1/referrals/{referral['id']}/outcomes",
            json={"type": "debt_plan_agreed", "occurred_on": date.today().isoformat()},
            headers=headers,
        )
        assert recorded.status_code == 201, recorded.text

    response = await client.get("/v1/reports/summary", headers=ADMIN)
    (group,) = response.json()["groups"]

    assert (group["referrals"], group["accepted_or_later"], group["with_outcome"]) == (1, 1, 1)
    assert outcome_counts(group) == {"debt_plan_agreed": 1}
    assert group["median_days_to_first_outcome"] == 0.0


# Each would run as a formula in a spreadsheet splitting on `,` or `;` (OWASP CSV injection),
# and how the CSV writes it.
FORMULAS = {
    "x;=cmd|' /C calc'!A0": "x;'=cmd|' /C calc'!A0",
    " =1+1": "' =1+1",
    '"\n=1+1"': "'\"\n'=1+1\"",
    "\n=1+1": "'\n'=1+1",
    "=Housing, Options": "'=Housing, Options",
    "@SUM(A1)": "'@SUM(A1)",
    "\t-2+3": "'\t-2+3",
    # A spreadsheet skips a no-break space or an invisible formatting character before a formula too.
    '\u00a0=HYPERLINK("http://evil.example")': '\'\u00a0=HYPERLINK("http://evil.example")',
    "\u200b=1+1": "'\u200b=1+1",
    "x;\ufeff\u2060+1": "x;'\ufeff\u2060+1",
}


def _skipped(character: str) -> bool:
    """Whether a spreadsheet looks past the character for the start of a formula."""
    return character.isspace() or character == '"' or unicodedata.category(character) == "Cf"


def runs_as_formula(cell: str) -> bool:
    """Whether a spreadsheet would run the cell: `'` first (after spaces, quotes or invisible
    characters) makes it text."""
    first = next((c for c in cell if not _skipped(c)), "")
    return first != "'" and (cell.startswith(("\t", "\r")) or first in ("=", "+", "-", "@"))


async def test_no_csv_cell_runs_as_a_formula_with_either_separator(client: httpx.AsyncClient) -> None:
    service = await make_service(await make_agency(name="Debt advice"))
    for name in FORMULAS:
        await insert_referral(
            await make_agency(name=name), service, created_at=datetime(2025, 1, 10, tzinfo=UTC)
        )

    response = await client.get(
        "/v1/reports/summary",
        params={**PERIOD, "group_by": "from_agency"},
        headers={**ADMIN, "Accept": "text/csv"},
    )

    labels = [row["label"] for row in csv.DictReader(io.StringIO(response.text))]
    assert sorted(labels) == sorted(FORMULAS.values())
    for separator in ",;":
        cells = [cell for row in csv.reader(io.StringIO(response.text), delimiter=separator) for cell in row]
        assert [cell for cell in cells if runs_as_formula(cell)] == [], separator
