"""The directory, the auditor's pages and the agency's figures, without a browser."""

import re

from fastapi import FastAPI

from app.models.identity import Role
from tests.support.factories import seal
from tests.support.referral_helpers import create_referral, make_network
from tests.support.web_support import api, browser, csrf_of, signed_in_as


async def test_the_directory_lists_agencies_and_finds_services(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        everything = await client.get("/directory")
        money = await client.get("/directory?q=MONEY&purpose=debt_advice")
        nothing = await client.get("/directory?q=zzz")
    assert "North Wales Debt Advice" in everything.text
    assert "Wrexham Jobcentre Plus" in everything.text
    assert "Money advice" in money.text
    assert "No service matches your search." in nothing.text


async def test_an_auditor_finds_a_referral_by_reference_and_reads_its_trail(app: FastAPI) -> None:
    net = await make_network()
    async with api(app) as partner:
        referral = await create_referral(partner, net)
    await seal()  # as the worker does within a second: the trail lists sealed events
    async with browser(app) as client:
        await signed_in_as(client, None, Role.AUDITOR)
        home = await client.get("/audit")
        typed = referral["reference"].lower().replace("-", " ")
        found = await client.post("/audit/search", data={"csrf_token": csrf_of(home), "reference": typed})
        assert found.headers["location"] == f"/audit/referrals/{referral['id']}"
        trail = await client.get(found.headers["location"])
        missing = await client.post(
            "/audit/search", data={"csrf_token": csrf_of(home), "reference": "RX-AAAAA-AAAAA"}
        )
        verified = await client.post("/audit/verify", data={"csrf_token": csrf_of(home)})
        inbox = await client.get("/inbox")
    assert referral["reference"] in trail.text
    assert "made the referral" in trail.text
    assert "Natalie" not in trail.text
    assert missing.status_code == 400
    assert "No referral has that reference" in missing.text
    assert "Verified" in verified.text
    assert inbox.status_code == 403  # auditors read trails, not inboxes


async def test_caseworkers_cannot_open_the_audit_pages(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        page = await client.get("/audit")
    assert page.status_code == 403
    assert "You cannot use this page" in page.text


async def test_an_agency_admin_sees_its_figures_as_a_chart_and_a_table(app: FastAPI) -> None:
    net = await make_network()
    async with api(app) as partner:
        await create_referral(partner, net)
    async with browser(app) as client:
        await signed_in_as(client, net.centre, Role.AGENCY_ADMIN)
        page = await client.get("/admin")
    assert page.status_code == 200
    assert '<svg class="app-chart" role="img"' in page.text
    row = r'<th scope="row" class="govuk-table__header">New</th><td class="govuk-table__cell[^"]*">1</td>'
    assert re.search(row, page.text)
    assert "Natalie" not in page.text
