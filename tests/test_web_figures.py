"""The agency admin's figures without a browser: a period, the download, journeys and jobs
followed up, hard and soft outcomes explained, and never another agency's referrals."""

import csv
import html
import io
import re
from datetime import date, timedelta

import httpx
from fastapi import FastAPI

from app.models.directory import Agency
from app.models.identity import Role
from tests.support.figures import journey_with_a_job
from tests.support.referral_helpers import create_referral, make_network, move
from tests.support.web_support import api, browser, signed_in_as


def tile(page: httpx.Response, words: str) -> int:
    """The big number shown above `words` in the page's row of figures."""
    found = re.search(r'govuk-heading-xl govuk-!-margin-bottom-0">(\d+)</span>' + re.escape(words), page.text)
    assert found, f"no figure for {words!r}"
    return int(found.group(1))


def text_of(page: httpx.Response) -> str:
    """The words of the page's main content, as a reader meets them."""
    main = page.text[page.text.index("<main") : page.text.index("</main>")]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


async def figures(app: FastAPI, agency: Agency, query: str = "") -> httpx.Response:
    async with browser(app) as client:
        await signed_in_as(client, agency, Role.AGENCY_ADMIN)
        return await client.get(f"/admin{query}")


async def download(app: FastAPI, agency: Agency, query: str = "") -> dict[str, str]:
    async with browser(app) as client:
        await signed_in_as(client, agency, Role.AGENCY_ADMIN)
        response = await client.get(f"/admin/figures.csv{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    return rows[0]


async def test_an_agency_admin_s_figures_never_count_another_agency_s_referrals(app: FastAPI) -> None:
    async with api(app) as partner:
        journey = await journey_with_a_job(partner)
    net = journey.net
    debt = await figures(app, net.debt)
    jcp = await figures(app, net.outsider)
    debt_csv = await download(app, net.debt)

    # Debt advice is party to the onward referral only: not to the first, nor to its job entry.
    assert (tile(debt, "referrals"), tile(debt, "journeys"), tile(debt, "hard outcomes")) == (1, 1, 0)
    assert "No outcomes have been recorded on these referrals yet." in text_of(debt)
    assert "Started a job" not in re.sub(r"<details.*?</details>", "", debt.text, flags=re.S)
    assert (debt_csv["referrals"], debt_csv["journeys"], debt_csv["outcome_job_entry"]) == ("1", "1", "0")
    # Jobcentre Plus received the first and sent the onward one: two referrals of one journey.
    assert (tile(jcp, "referrals"), tile(jcp, "journeys"), tile(jcp, "hard outcomes")) == (2, 1, 1)
    assert "Started a job Hard outcome 1" in text_of(jcp)
    assert "Natalie" not in debt.text + jcp.text


async def test_jobs_are_followed_up_at_13_and_26_weeks(app: FastAPI) -> None:
    async with api(app) as partner:
        journey = await journey_with_a_job(partner)
    jcp = text_of(await figures(app, journey.net.outsider))
    debt = text_of(await figures(app, journey.net.debt))
    jcp_csv = await download(app, journey.net.outsider)

    assert "Jobs followed up at 13 and 26 weeks" in jcp
    assert "Check At 13 weeks At 26 weeks" in jcp
    assert "Checks due 1 1" in jcp
    assert "Checks done 0 0" in jcp
    assert (jcp_csv["job_sustainment_13_weeks_due"], jcp_csv["job_sustainment_26_weeks_due"]) == ("1", "1")
    assert "No checks are due yet." in debt  # the job is Jobcentre Plus's to follow up


async def test_the_figures_cover_the_dates_chosen(app: FastAPI) -> None:
    net = await make_network()
    async with api(app) as partner:
        await create_referral(partner, net)
    today, yesterday = date.today(), date.today() - timedelta(days=1)
    since_today = f"?from-day={today.day}&from-month={today.month}&from-year={today.year}"
    until_yesterday = f"?to-day={yesterday.day}&to-month={yesterday.month}&to-year={yesterday.year}"
    current = await figures(app, net.debt, since_today)
    before = await figures(app, net.debt, until_yesterday)
    empty = await figures(app, (await make_network()).debt)

    assert tile(current, "referrals") == 1
    assert f'href="/admin/figures.csv?from={today.isoformat()}"' in current.text
    assert tile(before, "referrals") == 0
    assert "Your agency did not send or receive any referrals in this period. Choose other dates" in text_of(
        before
    )
    assert (await download(app, net.debt, f"?to={yesterday.isoformat()}"))["referrals"] == "0"
    assert (await download(app, net.debt, f"?from={today.isoformat()}"))["referrals"] == "1"
    assert "Your agency has not sent or received any referrals yet." in text_of(empty)


async def test_dates_are_checked_as_govuk_asks(app: FastAPI) -> None:
    net = await make_network()
    today = date.today()
    unreal = await figures(app, net.debt, "?from-day=31&from-month=2&from-year=2026")
    partial = await figures(app, net.debt, "?to-day=1&to-year=2026")
    backwards = await figures(
        app,
        net.debt,
        f"?from-day={today.day}&from-month={today.month}&from-year={today.year}&to-day=1&to-month=1&to-year=2020",
    )
    for page in (unreal, partial, backwards):
        assert page.status_code == 400
        assert "There is a problem" in page.text
        assert "referrals</p>" not in page.text  # no figures for a period that is not valid
    assert "Date from must be a real date" in unreal.text
    assert "Date to must include a month" in partial.text
    assert 'href="#to-month"' in partial.text
    assert "Date to must be the same as or after" in backwards.text
    async with browser(app) as client:
        await signed_in_as(client, net.debt, Role.AGENCY_ADMIN)
        refused = await client.get("/admin/figures.csv?from=2026-02-01&to=2026-01-01")
    assert refused.status_code == 422


async def test_hard_and_soft_outcomes_are_explained_as_the_service_counts_them(app: FastAPI) -> None:
    page = text_of(await figures(app, (await make_network()).debt))
    hard = page[page.index("Hard outcomes Started a job") : page.index("Soft outcomes Engaged")]
    soft = page[page.index("Soft outcomes Engaged") : page.index("Each referral counts once")]

    assert "A hard outcome is a measurable change in the person's situation" in page
    for outcome in (
        "Debt plan agreed",
        "Benefit claim made",
        "Completed training",
        "Still in work after 13 weeks",
    ):
        assert outcome in hard
    for outcome in (
        "Confidence improved",
        "Engaged with the service",
        "Did not attend",
        "No longer in the job",
    ):
        assert outcome in soft


async def test_staff_and_auditors_cannot_open_an_agency_s_figures(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.debt, Role.CASEWORKER)
        page, sheet = await client.get("/admin"), await client.get("/admin/figures.csv")
    assert (page.status_code, sheet.status_code) == (403, 403)


async def test_moving_a_referral_is_reflected_in_the_status_table(app: FastAPI) -> None:
    net = await make_network()
    async with api(app) as partner:
        referral = await create_referral(partner, net)
        assert (await move(partner, referral, net.debt_headers, "accepted")).status_code == 200
    page = await figures(app, net.debt)
    accepted = (
        r'<th scope="row" class="govuk-table__header">Accepted</th><td class="govuk-table__cell[^"]*">1</td>'
    )
    assert re.search(accepted, page.text)
