"""Steps from a referral's page: confirming, changing the appointment, consent withdrawn, refer onward."""

import re
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from tests.support.journeys import jcp_service, post, to_jcp
from tests.support.referral_helpers import Network, appointment, create_referral, make_network, move
from tests.support.web_support import api, browser, csrf_of, signed_in_as, submit


async def _sent_to(app: FastAPI, net: Network, **overrides: Any) -> dict[str, Any]:
    async with api(app) as partner:
        return await create_referral(partner, net, **overrides)


def _version(page: httpx.Response) -> str:
    found = re.search(r'name="version" value="(\d+)"', page.text)
    assert found
    return found.group(1)


async def test_accepting_asks_to_confirm_and_a_move_not_allowed_has_no_confirmation(app: FastAPI) -> None:
    net = await make_network()
    referral = await _sent_to(app, net)
    async with browser(app) as debt:
        await signed_in_as(debt, net.debt)
        page = await debt.get(f"/referrals/{referral['id']}")
        confirm = await debt.get(f"/referrals/{referral['id']}/confirm/accepted")
        not_yet = await debt.get(f"/referrals/{referral['id']}/confirm/completed")
        data = {"csrf_token": csrf_of(confirm), "to": "accepted", "version": _version(confirm)}
        accepted = await debt.post(f"/referrals/{referral['id']}/move", data=data)
    assert f'href="/referrals/{referral["id"]}/confirm/accepted"' in page.text
    assert "Accept this referral?" in confirm.text
    assert not_yet.status_code == 303
    assert accepted.status_code == 303


async def test_the_senders_first_action_is_not_a_red_button(app: FastAPI) -> None:
    net = await make_network()
    referral = await _sent_to(app, net)
    async with browser(app) as centre:
        await signed_in_as(centre, net.centre)
        page = await centre.get(f"/referrals/{referral['id']}")
    cancel = re.search(r'<a href="/referrals/[^"]+/cancel"[^>]*class="([^"]+)"', page.text)
    assert cancel is not None
    assert "govuk-button--warning" not in cancel.group(1)


async def test_the_decision_date_goes_once_decided(app: FastAPI) -> None:
    net = await make_network()
    referral = await _sent_to(app, net)
    async with browser(app) as debt:
        await signed_in_as(debt, net.debt)
        before = await debt.get(f"/referrals/{referral['id']}")
        async with api(app) as partner:
            assert (await move(partner, referral, net.debt_headers, "accepted")).status_code == 200
        after = await debt.get(f"/referrals/{referral['id']}")
    assert "Decision due by" in before.text
    assert "Decision due by" not in after.text


async def _scheduled(app: FastAPI, net: Network) -> dict[str, Any]:
    referral = await _sent_to(app, net)
    async with api(app) as partner:
        assert (await move(partner, referral, net.debt_headers, "accepted")).status_code == 200
        shown = await move(
            partner, referral, net.debt_headers, "handover_scheduled", appointment=appointment()
        )
        assert shown.status_code == 200, shown.text
    return referral


async def test_the_receiver_changes_the_appointment_and_the_history_says_so(app: FastAPI) -> None:
    net = await make_network()
    referral = await _scheduled(app, net)
    when = date.today() + timedelta(days=10)
    async with browser(app) as debt:
        await signed_in_as(debt, net.debt)
        page = await debt.get(f"/referrals/{referral['id']}")
        form = await debt.get(f"/referrals/{referral['id']}/appointment")
        data = {
            "csrf_token": csrf_of(form),
            "version": _version(form),
            "date-day": str(when.day),
            "date-month": str(when.month),
            "date-year": str(when.year),
            "time": "2:15pm",
            "location": "Rhosddu Community Hall",
            "with_whom": "Debt adviser",
        }
        changed = await debt.post(f"/referrals/{referral['id']}/appointment", data=data)
        final = await debt.get(changed.headers["location"])
    assert "Change appointment" in page.text
    assert 'value="Caia Park' in form.text or "Caia Park" in form.text  # the current appointment to change
    assert changed.status_code == 303, changed.text
    assert "Appointment changed" in final.text
    assert "Rhosddu Community Hall" in final.text


async def test_changing_an_appointment_through_the_api_needs_the_receiver_a_handover_and_if_match(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await create_referral(client, net)
    url = f"/v1/referrals/{referral['id']}/appointment"
    body = appointment(days=9)
    not_scheduled = await client.put(url, json=body, headers=net.debt_headers | {"If-Match": '"1"'})
    assert (await move(client, referral, net.debt_headers, "accepted")).status_code == 200
    scheduled = await move(
        client, referral, net.debt_headers, "handover_scheduled", appointment=appointment()
    )
    version = scheduled.headers["ETag"]
    answers = [
        await client.put(url, json=body, headers=net.centre_headers | {"If-Match": version}),
        await client.put(url, json=body, headers=net.debt_headers),
        await client.put(url, json=body, headers=net.debt_headers | {"If-Match": '"1"'}),
        await client.put(url, json=body, headers=net.debt_headers | {"If-Match": version}),
    ]
    history = await client.get(f"/v1/referrals/{referral['id']}/history", headers=net.centre_headers)

    assert not_scheduled.status_code == 409
    assert [a.status_code for a in answers] == [403, 428, 412, 200]
    assert answers[-1].json()["appointment"]["location"] == body["location"]
    last = history.json()["items"][-1]
    assert (last["kind"], last["to_status"]) == ("appointment_changed", "handover_scheduled")


async def test_recording_consent_withdrawn_closes_the_referral(app: FastAPI) -> None:
    net = await make_network()
    referral = await _sent_to(app, net)
    async with browser(app) as debt:
        await signed_in_as(debt, net.debt)
        page = await debt.get(f"/referrals/{referral['id']}")
        withdrawn = await submit(
            debt, f"/referrals/{referral['id']}/withdraw-consent", {"reason": "Rang to say stop"}
        )
        final = await debt.get(withdrawn.headers["location"])
    assert "Record consent withdrawn" in page.text
    assert withdrawn.status_code == 303
    assert "Consent withdrawn: the referral is closed" in final.text
    assert "Record consent withdrawn" not in final.text
    async with api(app) as partner:
        shown = await partner.get(f"/v1/referrals/{referral['id']}", headers=net.centre_headers)
    assert shown.json()["status"] == "withdrawn"


async def test_outcomes_that_fit_the_purpose_are_offered_first(app: FastAPI) -> None:
    net = await make_network()
    referral = await _sent_to(app, net)
    async with api(app) as partner:
        assert (await move(partner, referral, net.debt_headers, "accepted")).status_code == 200
    async with browser(app) as debt:
        await signed_in_as(debt, net.debt)
        page = await debt.get(f"/referrals/{referral['id']}/outcome")
    offered = re.findall(r'name="type" type="radio" value="([a-z_0-9]+)"', page.text)
    assert offered[0] == "debt_plan_agreed"
    assert offered[-3:] == ["job_sustained_13_weeks", "job_sustained_26_weeks", "job_not_sustained"]
    assert "Usual for Debt advice" in page.text
    assert "Soft outcomes" in page.text


async def _onward_draft(app: FastAPI, net: Network, jcp: httpx.AsyncClient, **first: Any) -> dict[str, Any]:
    """The centre refers Natalie to Jobcentre Plus; its adviser presses Refer onward."""
    async with api(app) as partner:
        received = await post(partner, to_jcp(await jcp_service(net), **first), net.centre_headers)
    await signed_in_as(jcp, net.outsider)
    page = await jcp.get(f"/referrals/{received['id']}")
    assert "Refer onward" in page.text
    started = await jcp.post(f"/referrals/{received['id']}/onward", data={"csrf_token": csrf_of(page)})
    assert started.headers["location"] == "/referrals/new"
    return received


DETAILS = {
    "purpose": "debt_advice",
    "reason": "Arrears are in the way of starting work.",
    "urgency": "soon",
    "handover_mode": "warm_introduction",
}


async def test_a_referral_is_made_onward_with_the_person_and_consent_carried_over(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as jcp:
        received = await _onward_draft(app, net, jcp)
        tasks = await jcp.get("/referrals/new")
        await submit(jcp, "/referrals/new/service", {"service_id": str(net.debt_service.id)})
        person = await jcp.get("/referrals/new/person")
        missing = await submit(jcp, "/referrals/new/details", DETAILS)
        details = await submit(jcp, "/referrals/new/details", {**DETAILS, "return_to_referrer": "yes"})
        check = await jcp.get(details.headers["location"])
        sent = await submit(jcp, "/referrals/new/check", {}, action="/referrals/new/send")
    assert received["reference"] in tasks.text
    assert 'value="Natalie"' in person.text
    assert "Do you want them back when the work is done?" in missing.text
    assert "Select whether you want them back when the work is done" in missing.text
    assert details.headers["location"] == "/referrals/new/check"
    assert f"The consent given for referral {received['reference']}" in check.text
    assert sent.status_code == 303, sent.text
    onward_id = sent.headers["location"].rsplit("/", 1)[1]
    async with api(app) as partner:
        onward = (await partner.get(f"/v1/referrals/{onward_id}", headers=net.outsider_headers)).json()
    assert (onward["parent_referral_id"], onward["return_to_referrer"]) == (received["id"], True)
    assert onward["consent_id"] == received["consent_id"]
    assert [j["id"] for j in onward["journey"]] == [received["id"], onward_id]


async def test_onward_a_consent_that_does_not_cover_the_purpose_is_asked_for(app: FastAPI) -> None:
    net = await make_network()
    job_only = {
        "consent": {
            "given_by": "subject",
            "method": "verbal",
            "given_at": "2026-11-20T10:15:00Z",
            "lawful_basis": "consent",
            "purposes": ["job_search_support"],
            "data_categories": ["contact"],
        },
        "subject": {
            "given_name": "Natalie",
            "family_name": "Example",
            "date_of_birth": "1994-03-02",
            "phone": "07700900123",
        },
    }
    async with browser(app) as jcp:
        await _onward_draft(app, net, jcp, **job_only)
        await submit(jcp, "/referrals/new/service", {"service_id": str(net.debt_service.id)})
        details = await submit(jcp, "/referrals/new/details", {**DETAILS, "return_to_referrer": "no"})
        consent = await jcp.get(details.headers["location"])
    assert details.headers["location"] == "/referrals/new/consent"
    assert "does not cover Debt advice" in consent.text
