"""Making a referral page by page, without a browser: the referral service's checks apply."""

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.directory import Service
from app.unit_of_work import committed
from tests.support.referral_helpers import Network, make_network
from tests.support.web_support import api, browser, signed_in_as, submit

PERSON: dict[str, str | list[str]] = {
    "given_name": "Natalie",
    "family_name": "Example",
    "dob-day": "2",
    "dob-month": "3",
    "dob-year": "1994",
    "postcode": "LL13 9AA",
    "phone": "07700900123",
    "preferred_contact": "phone",
    "language": "en",
    "needs_interpreter": "no",
    "lone_parent": "yes",
    "benefits": ["universal_credit"],
    "barriers": ["debt", "childcare"],
}
CONSENT: dict[str, str | list[str]] = {
    "purposes": ["debt_advice"],
    "data_categories": ["contact", "circumstances"],
    "given_by": "subject",
    "method": "verbal",
    "lawful_basis": "consent",
    "agreed": "yes",
}
DETAILS: dict[str, str | list[str]] = {
    "purpose": "debt_advice",
    "reason": "Rent arrears and a catalogue debt; wants help before starting work.",
    "urgency": "soon",
    "handover_mode": "joint_appointment",
}


async def stop_taking_referrals(service_id: uuid.UUID) -> None:
    async def work(session: AsyncSession) -> None:
        service = await session.get(Service, service_id)
        assert service is not None
        service.accepting_referrals = False

    await committed(work)


async def received(app: FastAPI, net: Network, sent: httpx.Response) -> dict[str, Any]:
    """The person as the receiving agency sees them on the referral just sent."""
    referral_id = sent.headers["location"].rsplit("/", 1)[1]
    async with api(app) as partner:
        shown = await partner.get(f"/v1/referrals/{referral_id}", headers=net.debt_headers)
    person: dict[str, Any] = shown.json()["subject"]
    return person


async def _fill_in(client: httpx.AsyncClient, service_id: str) -> httpx.Response:
    chosen = await submit(client, "/referrals/new/service", {"service_id": service_id})
    assert chosen.headers["location"] == "/referrals/new/person"
    for page, data in (("person", PERSON), ("consent", CONSENT), ("details", DETAILS)):
        saved = await submit(client, f"/referrals/new/{page}", data)
        assert saved.status_code == 303, saved.text
    check = await client.get("/referrals/new/check")
    assert check.status_code == 200
    return check


async def test_a_referral_is_made_checked_and_sent_with_its_reference(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        start = await client.get("/referrals/new")
        assert "Make a referral" in start.text
        search = await client.get("/referrals/new/service?q=money&purpose=debt_advice&postcode=LL13+9AA")
        assert "Money advice" in search.text
        check = await _fill_in(client, str(net.debt_service.id))
        assert "Check your answers before sending the referral" in check.text
        assert "Natalie Example" in check.text
        sent = await submit(client, "/referrals/new/check", {}, action="/referrals/new/send")
        assert sent.status_code == 303, sent.text
        confirmation = await client.get(sent.headers["location"])
        again = await client.get("/referrals/new/check")
    assert "govuk-panel--confirmation" in confirmation.text
    assert "Referral sent" in confirmation.text
    assert "RX-" in confirmation.text
    assert again.headers["location"] == "/referrals/new/service"  # the draft went with the referral


async def test_missing_answers_are_shown_as_errors_against_their_fields(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        await submit(client, "/referrals/new/service", {"service_id": str(net.debt_service.id)})
        person = await submit(
            client,
            "/referrals/new/person",
            {"given_name": "Natalie", "dob-day": "31", "dob-month": "2", "dob-year": "1994"},
        )
        consent = await submit(client, "/referrals/new/consent", {"method": "verbal"})
    assert person.status_code == 400
    assert 'href="#family_name"' in person.text
    assert "Date of birth must be a real date" in person.text
    assert consent.status_code == 400
    assert "Confirm that you read the words to the person and they agreed" in consent.text


async def test_the_duplicate_check_shows_the_open_referral_and_asks_for_a_reason(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        await _fill_in(client, str(net.debt_service.id))
        first = await submit(client, "/referrals/new/check", {}, action="/referrals/new/send")
        assert first.status_code == 303
        await _fill_in(client, str(net.debt_service.id))
        duplicate = await submit(client, "/referrals/new/check", {}, action="/referrals/new/send")
        assert duplicate.status_code == 409
        assert "This person already has an open referral to this service" in duplicate.text
        existing = duplicate.text.split('name="existing" value="')[1].split('"')[0]
        no_reason = await submit(
            client,
            "/referrals/new/check",
            {"duplicate": "yes", "existing": existing},
            action="/referrals/new/send",
        )
        assert no_reason.status_code == 409
        assert "Enter why this person needs another referral to this service" in no_reason.text
        anyway = await submit(
            client,
            "/referrals/new/check",
            {"duplicate": "yes", "existing": existing, "duplicate_reason": "A second, separate debt."},
            action="/referrals/new/send",
        )
    assert anyway.status_code == 303
    assert anyway.headers["location"].startswith("/referrals/new/sent/")


async def test_the_persons_details_are_checked_as_the_referral_service_will(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        await submit(client, "/referrals/new/service", {"service_id": str(net.debt_service.id)})
        person = await submit(client, "/referrals/new/person", {**PERSON, "email": "not an address"})
    assert person.status_code == 400
    assert 'href="#email"' in person.text


async def test_sharing_less_than_everything_sends_only_what_the_consent_covers(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        await _fill_in(client, str(net.debt_service.id))
        await submit(client, "/referrals/new/consent", {**CONSENT, "data_categories": ["contact"]})
        check = await client.get("/referrals/new/check")
        sent = await submit(client, "/referrals/new/check", {}, action="/referrals/new/send")
    assert "Not shared: the person did not agree to share them" in check.text
    assert "Universal Credit" not in check.text
    assert sent.status_code == 303, sent.text
    referral_id = sent.headers["location"].rsplit("/", 1)[1]
    async with api(app) as partner:
        shown = await partner.get(f"/v1/referrals/{referral_id}", headers=net.debt_headers)
    assert (shown.json()["subject"]["phone"], shown.json()["subject"]["circumstances"]) == (
        "07700900123",
        None,
    )


async def test_blank_optional_details_are_absent(app: FastAPI) -> None:
    net = await make_network()
    blank = {**PERSON, "postcode": "", "phone": "", "lone_parent": "unknown", "benefits": [], "barriers": []}
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        await _fill_in(client, str(net.debt_service.id))
        assert (await submit(client, "/referrals/new/person", blank)).status_code == 303
        sent = await submit(client, "/referrals/new/check", {}, action="/referrals/new/send")
    assert sent.status_code == 303, sent.text
    referral_id = sent.headers["location"].rsplit("/", 1)[1]
    async with api(app) as partner:
        person = (await partner.get(f"/v1/referrals/{referral_id}", headers=net.debt_headers)).json()[
            "subject"
        ]
    assert (person["postcode"], person["phone"], person["circumstances"]) == (None, None, None)


async def test_check_answers_shows_what_the_receiver_will_see(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        await _fill_in(client, str(net.debt_service.id))
        await submit(
            client, "/referrals/new/person", {**PERSON, "postcode": "ll13 9aa", "nhs_number": "9434765919"}
        )
        check = await client.get("/referrals/new/check")
    for shown in ("2 March 1994", "LL13 9AA", "943 476 5919", "Phone", "English", "Needs an interpreter"):
        assert shown in check.text
    assert "Lone parent" in check.text


async def test_a_refused_referral_links_the_problem_to_the_page_that_asks_for_it(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        await _fill_in(client, str(net.debt_service.id))
        await stop_taking_referrals(net.debt_service.id)
        refused = await submit(client, "/referrals/new/check", {}, action="/referrals/new/send")
    assert refused.status_code == 409
    assert "<title>Error:" in refused.text
    assert 'href="/referrals/new/service#service"' in refused.text
    assert "This service is not taking referrals at the moment. Choose another service" in refused.text


async def test_an_nhs_number_that_is_not_one_is_refused_on_its_field(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        await submit(client, "/referrals/new/service", {"service_id": str(net.debt_service.id)})
        person = await submit(client, "/referrals/new/person", {**PERSON, "nhs_number": "943 476 5918"})
    assert person.status_code == 400
    assert 'href="#nhs_number"' in person.text
    assert "Enter a real NHS number" in person.text


async def test_not_choosing_a_service_shows_the_error_summary(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        chosen = await submit(client, "/referrals/new/service", {"service_id": ""})
        page = await client.get(chosen.headers["location"])
    assert "<title>Error:" in page.text
    assert 'href="#service"' in page.text
    assert "There is a problem" in page.text
