"""The inbox and a referral's page, worked without a browser: the same rules as the API."""

import re
from datetime import date, timedelta

import httpx
from fastapi import FastAPI

from tests.support.journeys import make_journey
from tests.support.referral_helpers import Network, consent_body, create_referral, make_network
from tests.support.web_support import api, browser, csrf_of, signed_in_as


async def _open(client: httpx.AsyncClient, referral_id: str) -> httpx.Response:
    page = await client.get(f"/referrals/{referral_id}")
    assert page.status_code == 200, page.text
    return page


def _version(page: httpx.Response) -> str:
    found = re.search(r'name="version" value="(\d+)"', page.text)
    assert found
    return found.group(1)


async def _press(
    client: httpx.AsyncClient, page: httpx.Response, referral_id: str, to: str
) -> httpx.Response:
    """Press the move's button; accepting and completing ask to confirm first, on a page of their own."""
    if to in ("accepted", "completed"):
        assert f'href="/referrals/{referral_id}/confirm/{to}"' in page.text
        page = await client.get(f"/referrals/{referral_id}/confirm/{to}")
        assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_of(page), "to": to, "version": _version(page)}
    return await client.post(f"/referrals/{referral_id}/move", data=data)


async def _setup(client: httpx.AsyncClient, app: FastAPI) -> tuple[Network, str]:
    net = await make_network()
    async with api(app) as partner:
        referral = await create_referral(partner, net)
    await signed_in_as(client, net.debt)
    return net, str(referral["id"])


async def test_the_inbox_lists_new_referrals_linked_by_reference(app: FastAPI) -> None:
    async with browser(app) as client:
        _net, referral_id = await _setup(client, app)
        inbox = await client.get("/inbox")
    assert inbox.status_code == 200
    assert '<h1 class="govuk-heading-l">Inbox</h1>' in inbox.text
    assert re.search(rf'<a class="govuk-link" href="/referrals/{referral_id}">RX-[A-Z0-9-]+</a>', inbox.text)
    assert "New (1)" in inbox.text
    assert "Natalie Example" in inbox.text
    assert "Natalie" not in inbox.text.split("<title>")[1].split("</title>")[0]


async def test_a_referral_is_accepted_scheduled_given_an_outcome_and_completed(app: FastAPI) -> None:
    async with browser(app) as client:
        _net, referral_id = await _setup(client, app)
        page = await _open(client, referral_id)
        for heading in ("Person", "Reason", "Consent", "History", "Outcomes", "Messages"):
            assert f'<h2 class="govuk-heading-m">{heading}</h2>' in page.text
        assert "Accept referral" in page.text
        assert "Complete referral" not in page.text
        accepted = await _press(client, page, referral_id, "accepted")
        assert accepted.status_code == 303
        schedule = await client.get(f"/referrals/{referral_id}/schedule")
        when = date.today() + timedelta(days=3)
        scheduled = await client.post(
            f"/referrals/{referral_id}/schedule",
            data={
                "csrf_token": csrf_of(schedule),
                "version": _version(schedule),
                "date-day": str(when.day),
                "date-month": str(when.month),
                "date-year": str(when.year),
                "time": "10:30am",
                "location": "Caia Park Children's Centre, room 2",
                "with_whom": "Debt adviser",
            },
        )
        assert scheduled.status_code == 303, scheduled.text
        outcome = await client.get(f"/referrals/{referral_id}/outcome")
        today = date.today()
        recorded = await client.post(
            f"/referrals/{referral_id}/outcome",
            data={
                "csrf_token": csrf_of(outcome),
                "type": "debt_plan_agreed",
                "date-day": str(today.day),
                "date-month": str(today.month),
                "date-year": str(today.year),
                "note": "Payment plan with the catalogue company.",
            },
        )
        assert recorded.status_code == 303, recorded.text
        page = await _open(client, referral_id)
        completed = await _press(client, page, referral_id, "completed")
        assert completed.status_code == 303
        final = await client.get(completed.headers["location"])
    assert "Referral completed" in final.text
    assert "Debt plan agreed" in final.text
    assert "Caia Park Children&#39;s Centre, room 2" in final.text


async def test_a_stale_page_says_the_referral_was_changed_by_someone_else(app: FastAPI) -> None:
    async with browser(app) as client:
        _net, referral_id = await _setup(client, app)
        # Two tabs open on the confirmation: the second confirms what the first already changed.
        confirm = await client.get(f"/referrals/{referral_id}/confirm/accepted")
        data = {"csrf_token": csrf_of(confirm), "to": "accepted", "version": _version(confirm)}
        assert (await client.post(f"/referrals/{referral_id}/move", data=data)).status_code == 303
        stale = await client.post(f"/referrals/{referral_id}/move", data=data)
    assert stale.status_code == 412
    assert "This referral was changed by someone else" in stale.text
    assert "Accepted" in stale.text


async def test_declining_needs_a_reason_shown_as_govuk_errors(app: FastAPI) -> None:
    async with browser(app) as client:
        _net, referral_id = await _setup(client, app)
        page = await client.get(f"/referrals/{referral_id}/decline")
        refused = await client.post(
            f"/referrals/{referral_id}/decline", data={"csrf_token": csrf_of(page), "version": _version(page)}
        )
        assert refused.status_code == 400
        assert 'href="#reason"' in refused.text
        assert "Select why you are declining the referral" in refused.text
        declined = await client.post(
            f"/referrals/{referral_id}/decline",
            data={"csrf_token": csrf_of(page), "version": _version(page), "reason": "no_capacity"},
        )
        assert declined.status_code == 303
        final = await client.get(declined.headers["location"])
    assert "We have no capacity" in final.text


async def test_an_outcome_date_in_the_future_is_refused_against_its_field(app: FastAPI) -> None:
    async with browser(app) as client:
        _net, referral_id = await _setup(client, app)
        assert (
            await _press(client, await _open(client, referral_id), referral_id, "accepted")
        ).status_code == 303
        page = await client.get(f"/referrals/{referral_id}/outcome")
        later = date.today() + timedelta(days=2)
        refused = await client.post(
            f"/referrals/{referral_id}/outcome",
            data={
                "csrf_token": csrf_of(page),
                "type": "job_entry",
                "date-day": str(later.day),
                "date-month": str(later.month),
                "date-year": str(later.year),
            },
        )
    assert refused.status_code == 400
    assert 'href="#date-day"' in refused.text


async def test_messages_are_sent_and_an_empty_one_is_an_error(app: FastAPI) -> None:
    async with browser(app) as client:
        _net, referral_id = await _setup(client, app)
        page = await _open(client, referral_id)
        empty = await client.post(
            f"/referrals/{referral_id}/messages", data={"csrf_token": csrf_of(page), "message": ""}
        )
        assert empty.status_code == 400
        assert "Enter a message" in empty.text
        sent = await client.post(
            f"/referrals/{referral_id}/messages",
            data={"csrf_token": csrf_of(page), "message": "Can we call her on Tuesday?"},
        )
        final = await client.get(sent.headers["location"])
    assert "Can we call her on Tuesday?" in final.text


async def test_another_agencys_referral_is_page_not_found(app: FastAPI) -> None:
    async with browser(app) as client:
        net, referral_id = await _setup(client, app)
    async with browser(app) as outsider:
        await signed_in_as(outsider, net.outsider)
        page = await outsider.get(f"/referrals/{referral_id}")
        moved = await outsider.post(
            f"/referrals/{referral_id}/move", data={"csrf_token": csrf_of(page), "to": "accepted"}
        )
        bad_id = await outsider.get("/referrals/not-an-id")
    assert page.status_code == 404
    assert "Page not found" in page.text
    assert "Natalie" not in page.text
    assert moved.status_code == 404
    assert bad_id.status_code == 404


async def test_the_sender_sees_the_latest_outcome_in_sent_referrals(app: FastAPI) -> None:
    async with browser(app) as receiver:
        net, referral_id = await _setup(receiver, app)
        assert (
            await _press(receiver, await _open(receiver, referral_id), referral_id, "accepted")
        ).status_code == 303
        page = await receiver.get(f"/referrals/{referral_id}/outcome")
        today = date.today()
        await receiver.post(
            f"/referrals/{referral_id}/outcome",
            data={
                "csrf_token": csrf_of(page),
                "type": "engaged_with_service",
                "date-day": str(today.day),
                "date-month": str(today.month),
                "date-year": str(today.year),
            },
        )
    async with browser(app) as sender:
        await signed_in_as(sender, net.centre)
        sent = await sender.get("/sent")
    assert '<h1 class="govuk-heading-l">Sent referrals</h1>' in sent.text
    assert "Engaged with the service" in sent.text


async def test_a_signed_in_form_post_without_its_token_changes_nothing(app: FastAPI) -> None:
    async with browser(app) as client:
        _net, referral_id = await _setup(client, app)
        await _open(client, referral_id)
        forged = await client.post(f"/referrals/{referral_id}/move", data={"to": "accepted", "version": "1"})
        after = await _open(client, referral_id)
    assert forged.status_code == 403
    assert "Sorry, we could not accept that form" in forged.text
    assert "Accept referral" in after.text  # still awaiting a decision


async def test_pages_with_personal_data_are_never_stored_by_the_browser(app: FastAPI) -> None:
    async with browser(app) as client:
        _net, referral_id = await _setup(client, app)
        page = await _open(client, referral_id)
        inbox = await client.get("/inbox")
    assert page.headers["cache-control"] == "no-store"
    assert inbox.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"


async def test_a_details_page_for_a_move_no_longer_allowed_returns_to_the_referral(app: FastAPI) -> None:
    async with browser(app) as client:
        _net, referral_id = await _setup(client, app)
        outcome_too_early = await client.get(f"/referrals/{referral_id}/outcome")
        assert (
            await _press(client, await _open(client, referral_id), referral_id, "accepted")
        ).status_code == 303
        decline_too_late = await client.get(f"/referrals/{referral_id}/decline")
    assert outcome_too_early.headers["location"] == f"/referrals/{referral_id}"
    assert decline_too_late.headers["location"] == f"/referrals/{referral_id}"


async def test_a_caseworker_assigns_a_referral_to_themselves(app: FastAPI) -> None:
    async with browser(app) as client:
        _net, referral_id = await _setup(client, app)
        page = await _open(client, referral_id)
        assert "Assign to me" in page.text
        taken = await client.post(f"/referrals/{referral_id}/assignment", data={"csrf_token": csrf_of(page)})
        after = await client.get(taken.headers["location"])
        mine = await client.get("/inbox?view=mine")
    assert "Referral assigned to you" in after.text
    assert "Assign to me" not in after.text
    assert "Assigned to me (1)" in mine.text
    assert referral_id in mine.text


async def test_a_referral_page_shows_the_journey_as_far_as_the_agency_is_party_to_it(app: FastAPI) -> None:
    net = await make_network()
    async with api(app) as partner:
        journey = await make_journey(partner, net)
    first, onward = journey.first, journey.onward

    async with browser(app) as jcp, browser(app) as centre:
        await signed_in_as(jcp, net.outsider)
        await signed_in_as(centre, net.centre)
        seen_by_jcp = await _open(jcp, first["id"])
        seen_by_centre = await _open(centre, first["id"])

    assert "Journey" in seen_by_jcp.text
    assert onward["reference"] in seen_by_jcp.text
    assert onward["reference"] not in seen_by_centre.text


async def test_the_page_shows_the_person_and_consent_as_the_api_does(app: FastAPI) -> None:
    net = await make_network()
    async with api(app) as partner:
        # Jobcentre Plus refers on under the centre's consent, sharing nothing but who she is.
        journey = await make_journey(partner, net, consent=consent_body(data_categories=[]))
    async with browser(app) as debt:
        await signed_in_as(debt, net.debt)
        page = await _open(debt, journey.onward["id"])

    assert "Natalie Example" in page.text
    for not_shared in ("07700900123", "LL13 9AA", "Universal Credit", "Lone parent"):
        assert not_shared not in page.text
    assert "did not agree to share their contact details" in page.text


async def test_an_inherited_consent_does_not_show_when_or_by_whom_it_was_recorded(app: FastAPI) -> None:
    net = await make_network()
    async with api(app) as partner:
        journey = await make_journey(partner, net)
    async with browser(app) as debt:
        await signed_in_as(debt, net.debt)
        page = await _open(debt, journey.onward["id"])

    consent = page.text.split(">Consent</h2>")[1].split("</dl>")[0]
    # The consent's other purposes are the centre's business: the page shows only this one.
    assert "Debt advice" in consent
    assert "Job search support" not in consent
    assert "20 November 2026" not in consent
