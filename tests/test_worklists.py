"""Searching, filtering and sorting the inbox and sent lists through the API (the pages use the same
listing): by reference or the person's name as the agency was shown it, by urgency, in any order,
page by page, and never into another agency's referrals."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlmodel import col

from app.db import get_sessionmaker, utcnow
from app.models.audit import AuditEvent
from app.models.directory import Purpose
from app.models.referral import Referral
from tests.support.factories import make_service
from tests.support.journeys import post
from tests.support.referral_helpers import Network, consent_body, referral_body, subject_body
from tests.support.staff import make_staff


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    """The references of one page of the list."""
    response = await client.get("/v1/referrals", params={"box": "inbox", **params}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["items"]]


def person(given: str, family: str, **overrides: Any) -> dict[str, Any]:
    return subject_body(given_name=given, family_name=family, **overrides)


async def refer(
    client: httpx.AsyncClient, net: Network, given: str, family: str, **overrides: Any
) -> dict[str, Any]:
    body = referral_body(net.debt_service, subject=person(given, family), **overrides)
    return await post(client, body, net.centre_headers)


async def test_a_reference_is_found_however_it_is_typed(client: httpx.AsyncClient, net: Network) -> None:
    wanted = await refer(client, net, "Natalie", "Example")
    await refer(client, net, "Siân", "Jones")
    reference = wanted["reference"]
    letters = reference.replace("RX-", "").replace("-", "")

    for typed in (
        reference,
        reference.lower(),
        letters,
        letters.lower(),
        f" rx {letters[:5]} {letters[5:]} ",
    ):
        assert await listed(client, net.debt_headers, q=typed) == [reference], typed
    assert await listed(client, net.debt_headers, q="RX-AAAAA-AAAAA") == []


async def test_a_name_is_found_by_the_start_of_each_word_in_any_case(
    client: httpx.AsyncClient, net: Network
) -> None:
    natalie = (await refer(client, net, "Natalie", "Example"))["reference"]
    gareth = (await refer(client, net, "Gareth", "Example-Price"))["reference"]
    sian = (await refer(client, net, "Siân", "Ap Rhys"))["reference"]

    assert set(await listed(client, net.debt_headers, q="example")) == {natalie, gareth}
    assert await listed(client, net.debt_headers, q="NAT") == [natalie]
    assert await listed(client, net.debt_headers, q="natalie example") == [natalie]
    assert await listed(client, net.debt_headers, q="Example Natalie") == [natalie]
    assert await listed(client, net.debt_headers, q="example-pr") == [gareth]
    assert await listed(client, net.debt_headers, q="Siân") == [sian]
    assert await listed(client, net.debt_headers, q="ap rhys") == [sian]
    assert await listed(client, net.debt_headers, q="SIÂN  AP RH") == [sian]
    assert await listed(client, net.debt_headers, q="natalie jones") == []
    assert await listed(client, net.debt_headers, q="atalie") == []


async def test_a_name_that_could_be_a_reference_is_looked_for_as_both(
    client: httpx.AsyncClient, net: Network
) -> None:
    # Ten letters, every one of them in a reference's alphabet.
    named = (await refer(client, net, "Anna", "Fetherstan"))["reference"]
    other = await refer(client, net, "Bea", "Jones")
    letters = other["reference"].replace("RX-", "").replace("-", "")

    assert await listed(client, net.debt_headers, q="fetherstan") == [named]
    assert await listed(client, net.debt_headers, q=letters) == [other["reference"]]


@pytest.mark.parametrize("typed", ["%", "_", "%xample", "e_ample", "*", "'; --", "O'Brien"])
async def test_wildcards_and_quotes_in_a_search_are_nothing_special(
    client: httpx.AsyncClient, net: Network, typed: str
) -> None:
    await refer(client, net, "Natalie", "Example")

    assert await listed(client, net.debt_headers, q=typed) == []


async def test_a_search_never_finds_another_agencys_referrals(
    client: httpx.AsyncClient, net: Network
) -> None:
    ours = await refer(client, net, "Natalie", "Example")
    # The same person, between agencies the children's centre and debt advice are not both party to.
    jobcentre = await make_service(net.outsider, [Purpose.DEBT_ADVICE], name="Budgeting")
    theirs = await post(
        client, referral_body(jobcentre, subject=person("Natalie", "Example")), net.centre_headers
    )
    elsewhere = await post(
        client, referral_body(net.debt_service, subject=person("Natalie", "Example")), net.outsider_headers
    )

    assert await listed(client, net.debt_headers, q="example") == [elsewhere["reference"], ours["reference"]]
    assert await listed(client, net.debt_headers, q=theirs["reference"]) == []
    assert await listed(client, net.outsider_headers, q="natalie") == [theirs["reference"]]
    assert await listed(client, net.outsider_headers, q=ours["reference"]) == []
    sent = {"box": "sent"}
    assert await listed(client, net.centre_headers, q="example", **sent) == [
        theirs["reference"],
        ours["reference"],
    ]
    assert await listed(client, net.outsider_headers, q="example", **sent) == [elsewhere["reference"]]
    assert await listed(client, net.outsider_headers, q=ours["reference"], **sent) == []


async def test_a_name_search_matches_the_name_the_agency_was_shown(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await refer(client, net, "Natalie", "Example")
    corrected = await client.patch(
        f"/v1/referrals/{referral['id']}/subject",
        json={"family_name": "Sample"},
        headers={**net.centre_headers, "If-Match": '"1"'},
    )
    assert corrected.status_code == 200, corrected.text

    # The platform still knows the person as Example; the referral says Sample.
    assert await listed(client, net.debt_headers, q="example") == []
    assert await listed(client, net.debt_headers, q="sample") == [referral["reference"]]
    assert await listed(client, net.centre_headers, q="example", box="sent") == []


async def test_filters_narrow_by_urgency_status_and_purpose(client: httpx.AsyncClient, net: Network) -> None:
    routine = (await refer(client, net, "Ann", "One", urgency="routine"))["reference"]
    urgent = (await refer(client, net, "Bea", "Two", urgency="urgent"))["reference"]
    benefits = consent_body(purposes=["benefits_advice"])
    soon = await refer(
        client, net, "Cai", "Three", urgency="soon", purpose="benefits_advice", consent=benefits
    )
    soon_ref = soon["reference"]

    assert await listed(client, net.debt_headers, urgency="urgent") == [urgent]
    assert set(await listed(client, net.debt_headers, urgency=["urgent", "routine"])) == {urgent, routine}
    assert await listed(client, net.debt_headers, urgency="urgent", q="one") == []
    assert await listed(client, net.debt_headers, purpose="benefits_advice") == [soon_ref]
    assert await listed(client, net.debt_headers, status="accepted") == []
    bad = await client.get(
        "/v1/referrals", params={"box": "inbox", "urgency": "whenever"}, headers=net.debt_headers
    )
    assert bad.status_code == 422


async def _set_due(references: dict[str, int]) -> None:
    """Make each referral due so many days from now."""
    async with get_sessionmaker()() as session, session.begin():
        for reference, days in references.items():
            due = utcnow() + timedelta(days=days)
            await session.execute(
                update(Referral).where(col(Referral.reference) == reference).values(due_by=due)
            )


async def _all_pages(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    """Every reference in the list, two to a page, following the cursors."""
    found, cursor = [], None
    while True:
        page_params = {"box": "inbox", "limit": 2, **params} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/v1/referrals", params=page_params, headers=headers)
        assert response.status_code == 200, response.text
        found += [item["reference"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return found


async def test_each_order_pages_through_every_referral_once(client: httpx.AsyncClient, net: Network) -> None:
    made = [
        (await refer(client, net, name, "Example", urgency=urgency))["reference"]
        for name, urgency in [
            ("A", "soon"),
            ("B", "urgent"),
            ("C", "routine"),
            ("D", "urgent"),
            ("E", "soon"),
        ]
    ]
    await _set_due({made[0]: 3, made[1]: 9, made[2]: 1, made[3]: 5, made[4]: 7})

    assert await _all_pages(client, net.debt_headers) == made[::-1]
    assert await _all_pages(client, net.debt_headers, sort="created_at") == made
    assert await _all_pages(client, net.debt_headers, sort="due_by") == [made[i] for i in (2, 0, 3, 4, 1)]
    assert await _all_pages(client, net.debt_headers, sort="-due_by") == [made[i] for i in (1, 4, 3, 0, 2)]
    assert await _all_pages(client, net.debt_headers, sort="-urgency") == [made[i] for i in (3, 1, 4, 0, 2)]
    assert await _all_pages(client, net.debt_headers, sort="urgency", q="example") == [
        made[i] for i in (2, 0, 4, 1, 3)
    ]


async def test_a_cursor_works_only_in_the_order_it_came_from(client: httpx.AsyncClient, net: Network) -> None:
    for name in ("A", "B", "C"):
        await refer(client, net, name, "Example")
    first = await client.get(
        "/v1/referrals", params={"box": "inbox", "limit": 1, "sort": "due_by"}, headers=net.debt_headers
    )
    cursor = first.json()["next_cursor"]

    other = await client.get(
        "/v1/referrals",
        params={"box": "inbox", "sort": "-urgency", "cursor": cursor},
        headers=net.debt_headers,
    )
    same = await client.get(
        "/v1/referrals", params={"box": "inbox", "sort": "due_by", "cursor": cursor}, headers=net.debt_headers
    )

    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "cursor"
    assert same.status_code == 200


async def test_a_search_is_audited_with_the_ids_shown_never_the_term(
    client: httpx.AsyncClient, net: Network
) -> None:
    referral = await refer(client, net, "Natalie", "Example")

    await listed(client, net.debt_headers, q="Example")
    await listed(client, net.debt_headers)

    async with get_sessionmaker()() as session:
        query = (
            select(AuditEvent).where(col(AuditEvent.action) == "referral.listed").order_by(col(AuditEvent.at))
        )
        events = list((await session.execute(query)).scalars())
    assert [e.details for e in events] == [
        {"box": "inbox", "referral_ids": [referral["id"]], "searched": True},
        {"box": "inbox", "referral_ids": [referral["id"]]},
    ]
    assert "Example" not in str([e.details for e in events])


async def test_a_message_from_the_other_agency_is_new_until_the_reader_opens_the_referral(
    client: httpx.AsyncClient, net: Network
) -> None:
    ann, bob = await make_staff(client, net.debt), await make_staff(client, net.debt)
    referral = await refer(client, net, "Natalie", "Example")
    for reader in (ann, bob):
        await client.get(f"/v1/referrals/{referral['id']}", headers=reader.headers)

    def marks(items: list[dict[str, Any]]) -> tuple[bool, bool]:
        return items[0]["new_messages"], items[0]["unread"]

    async def seen_by(headers: dict[str, str], box: str = "inbox") -> tuple[bool, bool]:
        response = await client.get("/v1/referrals", params={"box": box}, headers=headers)
        return marks(response.json()["items"])

    assert await seen_by(ann.headers) == (False, False)
    posted = await client.post(
        f"/v1/referrals/{referral['id']}/messages",
        json={"body": "Is she free on Tuesday?"},
        headers=net.centre_headers,
    )
    assert posted.status_code == 201, posted.text
    assert await seen_by(ann.headers) == (True, True)
    await client.get(f"/v1/referrals/{referral['id']}", headers=ann.headers)
    assert await seen_by(ann.headers) == (False, False)
    assert await seen_by(bob.headers) == (True, True)
    # A message of one's own agency is not news: the sender's list does not mark it.
    assert (await seen_by(net.centre_headers, "sent"))[0] is False
