"""What a party sees of the person is what was shared with that referral, and nothing else.

Each receiver sees the person as they were when the referral was sent, limited to the data
categories its consent covers; no later referral, onward referral or other agency changes it,
and only the referral's sender may correct it.
"""

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from app.db import get_engine
from app.models.directory import AgencyKind, Purpose, Service
from app.models.identity import Role
from tests.support.factories import bearer, make_agency, make_service, seal
from tests.support.journeys import jcp_service, onward_body, post, to_jcp
from tests.support.referral_helpers import Network, consent_body, move, referral_body, subject_body

CONTACT = ("phone", "postcode", "email")


@dataclass
class Elsewhere:
    """Health visiting and Communities First, beside the test network's three agencies."""

    health: Service
    health_headers: dict[str, str]
    families: Service
    families_headers: dict[str, str]


@pytest.fixture
async def elsewhere() -> Elsewhere:
    hv = await make_agency(AgencyKind.HEALTH_VISITING, name="Wrexham Health Visiting")
    cf = await make_agency(AgencyKind.COMMUNITIES_FIRST, name="Communities First Caia Park")
    return Elsewhere(
        await make_service(hv, [Purpose.HEALTH_VISITING], name="Health visitors"),
        bearer(hv, Role.CASEWORKER),
        await make_service(cf, [Purpose.FAMILY_SUPPORT, Purpose.DEBT_ADVICE], name="Family support"),
        bearer(cf, Role.CASEWORKER),
    )


Counting = Callable[[], AbstractContextManager[list[str]]]


@pytest.fixture
def count_statements() -> Counting:
    """A context that collects the SQL statements sent while it is open."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        sent: list[str] = []

        def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            sent.append(statement)

        engine = get_engine().sync_engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield sent
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


async def seen(
    client: httpx.AsyncClient, referral: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.get(f"/v1/referrals/{referral['id']}", headers=headers)
    assert response.status_code == 200, response.text
    subject: dict[str, Any] = response.json()["subject"]
    return subject


def to_health(elsewhere: Elsewhere, **overrides: Any) -> dict[str, Any]:
    consent = consent_body(purposes=["health_visiting"])
    return referral_body(elsewhere.health, purpose="health_visiting", consent=consent) | overrides


async def test_an_onward_referral_under_a_consent_sharing_nothing_more_carries_identity_only(
    client: httpx.AsyncClient, net: Network
) -> None:
    first = await post(client, to_jcp(await jcp_service(net)), net.centre_headers)
    narrow = consent_body(data_categories=[])
    onward = await post(client, onward_body(net, first, consent=narrow), net.outsider_headers)

    person = await seen(client, onward, net.debt_headers)

    assert (person["given_name"], person["family_name"], person["date_of_birth"]) == (
        "Natalie",
        "Example",
        "1994-03-02",
    )
    assert {name: person[name] for name in (*CONTACT, "preferred_contact", "circumstances")} == dict.fromkeys(
        (*CONTACT, "preferred_contact", "circumstances")
    )
    assert "07700900123" not in str(onward)


async def test_a_later_referral_of_the_same_person_does_not_change_an_earlier_one(
    client: httpx.AsyncClient, net: Network, elsewhere: Elsewhere
) -> None:
    contact_only = consent_body(data_categories=["contact"])
    first = await post(
        client,
        referral_body(net.debt_service, consent=contact_only, subject=subject_body(circumstances=None)),
        net.centre_headers,
    )
    disability = {"lone_parent": True, "benefits": [], "barriers": ["disability"]}
    await post(
        client, to_health(elsewhere, subject=subject_body(circumstances=disability)), net.centre_headers
    )

    person = await seen(client, first, net.debt_headers)

    assert person["circumstances"] is None
    assert "disability" not in str(person)


async def test_a_withdrawn_referral_keeps_the_details_it_was_sent_with(
    client: httpx.AsyncClient, net: Network, elsewhere: Elsewhere
) -> None:
    first = await post(client, referral_body(net.debt_service), net.centre_headers)
    withdrawn = await client.post(
        f"/v1/consents/{first['consent_id']}/withdraw", json={}, headers=net.centre_headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await post(client, to_health(elsewhere, subject=subject_body(phone="07700900999")), net.centre_headers)

    assert (await seen(client, first, net.debt_headers))["phone"] == "07700900123"
    assert (await seen(client, first, net.centre_headers))["phone"] == "07700900123"


async def test_an_agency_not_party_to_a_referral_cannot_change_what_is_seen_on_it(
    client: httpx.AsyncClient, net: Network, elsewhere: Elsewhere
) -> None:
    first = await post(client, to_jcp(await jcp_service(net)), net.centre_headers)
    onward = await post(
        client, onward_body(net, first, consent=consent_body(data_categories=[])), net.outsider_headers
    )
    # Debt advice, without accepting, refers on with newer details of its own.
    newer = subject_body(phone="07700900555", postcode="SW1A 1AA")
    body = onward_body(
        net, onward, to_service_id=str(elsewhere.families.id), subject=newer, consent=consent_body()
    )
    third = await post(client, body, net.debt_headers)

    for headers in (net.centre_headers, net.outsider_headers):
        person = await seen(client, first, headers)
        assert (person["phone"], person["postcode"]) == ("07700900123", "LL13 9AA")
    assert (await seen(client, third, elsewhere.families_headers))["postcode"] == "SW1A 1AA"


async def test_an_onward_referral_copies_what_its_sender_was_given(
    client: httpx.AsyncClient, net: Network, elsewhere: Elsewhere
) -> None:
    contact_only = consent_body(purposes=["job_search_support", "debt_advice"], data_categories=["contact"])
    first = await post(
        client,
        to_jcp(await jcp_service(net), consent=contact_only, subject=subject_body(circumstances=None)),
        net.centre_headers,
    )
    # The centre learns more of her later, and tells health visiting: Jobcentre Plus is not told.
    await post(client, to_health(elsewhere, subject=subject_body(phone="07700900999")), net.centre_headers)
    onward = await post(client, onward_body(net, first), net.outsider_headers)

    person = await seen(client, onward, net.debt_headers)

    assert (person["phone"], person["circumstances"]) == ("07700900123", None)


async def test_each_referral_has_a_record_of_its_own(client: httpx.AsyncClient, net: Network) -> None:
    first = await post(client, to_jcp(await jcp_service(net)), net.centre_headers)
    second = await post(client, referral_body(net.debt_service), net.centre_headers)

    ids = {
        first["subject"]["id"],
        second["subject"]["id"],
        (await seen(client, second, net.debt_headers))["id"],
    }
    assert len(ids) == 2  # the receiver sees the same record as the sender, a record per referral


async def test_an_nhs_number_is_checked_and_travels_with_identity(
    client: httpx.AsyncClient, net: Network
) -> None:
    nothing_else = consent_body(data_categories=[])
    given = subject_body(nhs_number="943 476 5919", phone=None, postcode=None, circumstances=None)
    referral = await post(
        client, referral_body(net.debt_service, subject=given, consent=nothing_else), net.centre_headers
    )
    wrong = subject_body(nhs_number="9434765918")
    refused = await client.post(
        "/v1/referrals", json=referral_body(net.debt_service, subject=wrong), headers=net.centre_headers
    )

    assert (await seen(client, referral, net.debt_headers))["nhs_number"] == "9434765919"
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["subject.nhs_number"]


async def correct(
    client: httpx.AsyncClient,
    referral: dict[str, Any],
    headers: dict[str, str],
    body: dict[str, Any],
    version: Any = 1,
) -> httpx.Response:
    extra = {"If-Match": f'"{version}"'} if version is not None else {}
    return await client.patch(f"/v1/referrals/{referral['id']}/subject", json=body, headers=headers | extra)


async def test_the_sender_corrects_the_details_on_its_referral_and_the_history_says_so(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await post(client, referral_body(net.debt_service), net.centre_headers)

    corrected = await correct(client, referral, net.centre_headers, {"phone": "07700900777"})

    assert corrected.status_code == 200, corrected.text
    assert corrected.headers["ETag"] == '"2"'
    assert (await seen(client, referral, net.debt_headers))["phone"] == "07700900777"
    history = (await client.get(f"/v1/referrals/{referral['id']}/history", headers=net.debt_headers)).json()
    last = history["items"][-1]
    assert (last["kind"], last["from_status"], last["to_status"]) == (
        "details_corrected",
        "submitted",
        "submitted",
    )
    assert "07700900777" not in str(history)


async def test_a_correction_is_the_senders_within_the_consent_and_needs_the_current_version(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await post(
        client,
        referral_body(
            net.debt_service,
            consent=consent_body(data_categories=[]),
            subject=subject_body(phone=None, postcode=None, circumstances=None),
        ),
        net.centre_headers,
    )
    answers = [
        await correct(client, referral, net.debt_headers, {"given_name": "Nat"}),
        await correct(client, referral, net.outsider_headers, {"given_name": "Nat"}),
        await correct(client, referral, net.centre_headers, {"phone": "07700900777"}),
        await correct(client, referral, net.centre_headers, {"given_name": None}),
        await correct(client, referral, net.centre_headers, {"given_name": "Nat"}, version=None),
        await correct(client, referral, net.centre_headers, {"given_name": "Nat"}, version=7),
    ]

    assert [a.status_code for a in answers] == [403, 404, 422, 422, 428, 412]
    assert answers[2].json()["errors"][0]["field"] == "phone"
    assert (await seen(client, referral, net.debt_headers))["given_name"] == "Natalie"


async def test_a_correction_is_audited_by_field_name_only(client: httpx.AsyncClient, net: Network) -> None:
    referral = await post(client, referral_body(net.debt_service), net.centre_headers)
    assert (await correct(client, referral, net.centre_headers, {"postcode": "ll11 1aa"})).status_code == 200
    await seal()

    events = await client.get(
        "/v1/audit/events", params={"referral_id": referral["id"]}, headers=bearer(None, Role.AUDITOR)
    )
    (event,) = [e for e in events.json()["items"] if e["action"] == "referral.details_corrected"]
    assert event["details"] == {"fields": ["postcode"]}
    assert "LL11" not in events.text


async def test_a_consent_carried_onward_does_not_name_who_recorded_it(
    client: httpx.AsyncClient, net: Network
) -> None:
    first = await post(client, to_jcp(await jcp_service(net)), net.centre_headers)
    assert (await move(client, first, net.outsider_headers, "accepted")).status_code == 200
    onward = await post(client, onward_body(net, first), net.outsider_headers)
    url = f"/v1/consents/{onward['consent_id']}"

    debt = (await client.get(url, headers=net.debt_headers)).json()
    jcp = (await client.get(url, headers=net.outsider_headers)).json()

    assert {
        k: debt[k] for k in ("recorded_by_agency_id", "given_at", "created_at", "subject_id")
    } == dict.fromkeys(("recorded_by_agency_id", "given_at", "created_at", "subject_id"))
    assert (debt["status"], debt["purposes"]) == ("in_force", ["debt_advice"])
    assert str(net.centre.id) not in str(debt)
    # Jobcentre Plus took the referral from the centre: it knows who asked the person.
    assert jcp["recorded_by_agency_id"] == str(net.centre.id)


async def test_a_withdrawal_reason_is_shown_only_to_the_agency_that_wrote_it(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await post(client, referral_body(net.debt_service), net.centre_headers)
    url = f"/v1/consents/{referral['consent_id']}"
    reason = {"reason": "Phoned debt advice: upset about the housing officer"}
    assert (await client.post(f"{url}/withdraw", json=reason, headers=net.debt_headers)).status_code == 200

    centre = (await client.get(url, headers=net.centre_headers)).json()
    debt = (await client.get(url, headers=net.debt_headers)).json()

    assert (centre["status"], centre["withdrawal_reason"]) == ("withdrawn", None)
    assert centre["withdrawn_at"] is not None
    assert debt["withdrawal_reason"] == reason["reason"]


async def test_another_agencys_consent_and_no_consent_take_the_same_work(
    client: httpx.AsyncClient, net: Network, count_statements: Counting
) -> None:
    referral = await post(client, referral_body(net.debt_service), net.centre_headers)
    await client.get("/v1/me", headers=net.outsider_headers)  # the caller's first request records them
    statuses, statements = [], []
    for consent_id in (referral["consent_id"], "6f1c0000-0000-4000-8000-000000000000"):
        with count_statements() as sent:
            response = await client.get(f"/v1/consents/{consent_id}", headers=net.outsider_headers)
        statuses.append(response.status_code)
        statements.append(sent)

    assert statuses == [404, 404]
    # The request deadline's time left, set on each transaction, differs by the milliseconds between.
    queries = [[re.sub(r"\d+", "N", text) for text in sent] for sent in statements]
    assert queries[0] == queries[1]


async def test_a_consent_recorded_onward_and_reused_carries_only_what_that_agency_was_given(
    client: httpx.AsyncClient, net: Network, elsewhere: Elsewhere
) -> None:
    first = await post(client, to_jcp(await jcp_service(net)), net.centre_headers)
    own_consent = consent_body(purposes=["debt_advice", "family_support"])
    onward = await post(client, onward_body(net, first, consent=own_consent), net.outsider_headers)
    # The centre later learns a new phone number and tells health visiting, not Jobcentre Plus.
    await post(client, to_health(elsewhere, subject=subject_body(phone="07700900999")), net.centre_headers)
    again = referral_body(
        elsewhere.families,
        purpose="family_support",
        subject=None,
        consent=None,
        consent_id=onward["consent_id"],
    )
    reused = await post(client, again, net.outsider_headers)

    assert (await seen(client, reused, elsewhere.families_headers))["phone"] == "07700900123"
