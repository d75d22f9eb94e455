"""The inbox and sent pages' search, filters, sorting, marks and empty states, worked without a
browser."""

import re
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI

from app.web.routes import boxes
from tests.support.referral_helpers import create_referral, make_network, move, subject_body
from tests.support.web_support import api, browser, signed_in_as, submit
from tests.support.worklists import refer_people, references_in


async def _search(client: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    """Post the page's search form; the answer is a redirect to the list."""
    answer = await submit(client, path, fields)
    assert answer.status_code == 303, answer.text
    return answer


async def test_a_search_finds_by_name_in_every_view_without_the_name_reaching_an_address(
    app: FastAPI,
) -> None:
    net = await make_network()
    natalie, _gareth = await refer_people(app, net, ("Natalie", "Example"), ("Gareth", "Jones"))
    async with api(app) as partner:
        closed = await create_referral(
            partner, net, subject=subject_body(given_name="Nat", date_of_birth="1990-01-01")
        )
        declined = await move(partner, closed, net.debt_headers, "declined", reason_code="not_eligible")
        assert declined.status_code == 200, declined.text
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        answer = await _search(client, "/inbox?view=new", q="Example", view="new", sort="-created_at")
        found = await client.get(answer.headers["location"])

    where = unquote(answer.headers["location"])
    assert where.startswith("/inbox?view=new&search=")
    assert "example" not in where.lower()
    assert references_in(found) == [closed["reference"], natalie]  # the closed one too: every view
    assert re.search(r'<input[^>]*name="q"[^>]*value="Example"', found.text)
    assert "Search results</caption>" in found.text
    assert "New (2)" in found.text  # a view counts its referrals, whatever the search
    assert "Closed (1)" in found.text
    assert 'aria-current="page"' not in found.text.split('aria-label="Inbox views"')[1].split("</nav>")[0]
    links = re.findall(r'href="([^"]*)"', found.text)
    assert not [link for link in links if "example" in unquote(link).lower()]
    assert "Clear search and filters" in found.text


async def test_each_view_counts_up_to_a_limit(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boxes, "COUNT_UP_TO", 2)
    net = await make_network()
    await refer_people(app, net, ("Ann", "One"), ("Bea", "Two"), ("Cai", "Three"))
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        inbox = await client.get("/inbox")

    assert "New (2+)" in inbox.text
    assert "Closed (0)" in inbox.text
    assert len(references_in(inbox)) == 3


async def test_a_search_by_reference_and_a_search_that_finds_nothing(app: FastAPI) -> None:
    net = await make_network()
    natalie, gareth = await refer_people(app, net, ("Natalie", "Example"), ("Gareth", "Jones"))
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        typed = gareth.lower().replace("-", "").replace("rx", "")
        by_reference = await client.get((await _search(client, "/inbox", q=typed)).headers["location"])
        nothing = await client.get(
            (await _search(client, "/inbox", q="Nobody-by-this-name")).headers["location"]
        )

    assert references_in(by_reference) == [gareth]
    assert natalie not in by_reference.text
    assert "No referrals match your search." in nothing.text
    assert "clear the search and filters" in nothing.text


async def test_a_sealed_search_opens_for_the_user_who_made_it_only(app: FastAPI) -> None:
    net = await make_network()
    await refer_people(app, net, ("Natalie", "Example"), ("Gareth", "Jones"))
    async with browser(app) as first, browser(app) as second:
        await signed_in_as(first, net.debt)
        await signed_in_as(second, net.debt)
        location = (await _search(first, "/inbox", q="Example", view="open")).headers["location"]
        theirs = await second.get(location)
        tampered = await first.get(location[:-4] + "AAAA")

    for page in (theirs, tampered):
        assert page.status_code == 200
        assert len(references_in(page)) == 2  # the search is dropped, not applied
        assert 'value="Example"' not in page.text


async def test_filters_and_sorting_are_links_that_say_how_the_list_is_sorted(app: FastAPI) -> None:
    net = await make_network()
    urgent = await refer_people(app, net, ("Ann", "Urgent"), urgency="urgent")
    routine = await refer_people(app, net, ("Bea", "Routine"), urgency="routine")
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        newest = await client.get("/inbox?view=open")
        by_urgency = await client.get("/inbox?view=open&sort=-urgency")
        least_urgent = await client.get("/inbox?view=open&sort=urgency")
        only_urgent = await client.get("/inbox?view=open&urgency=urgent")
        posted = await _search(client, "/inbox?view=open", view="open", urgency="routine", purpose="", q="")

    assert references_in(newest) == routine + urgent
    assert re.search(r'aria-sort="descending">\s*<a[^>]*href="\?view=open&amp;sort=created_at"', newest.text)
    assert references_in(by_urgency) == urgent + routine
    assert re.search(r'aria-sort="descending">\s*<a[^>]*>Urgency', by_urgency.text)
    assert references_in(least_urgent) == routine + urgent
    assert re.search(r'aria-sort="ascending">\s*<a[^>]*>Urgency', least_urgent.text)
    assert references_in(only_urgent) == urgent
    assert "<th" in only_urgent.text
    assert ">Urgency<" in only_urgent.text
    assert posted.headers["location"] == "/inbox?view=open&urgency=routine"


async def test_rows_mark_new_messages_interpreters_and_welsh(app: FastAPI) -> None:
    net = await make_network()
    needs = {"language": "cy", "needs_interpreter": True}
    [reference] = await refer_people(app, net, ("Ffion", "Example"), subject=needs)
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        inbox = await client.get("/inbox")
        referral_id = re.findall(r'href="/referrals/([0-9a-f-]+)"', inbox.text)[0]
        await client.get(f"/referrals/{referral_id}")
        async with api(app) as partner:
            said = await partner.post(
                f"/v1/referrals/{referral_id}/messages",
                json={"body": "Any news?"},
                headers=net.centre_headers,
            )
            assert said.status_code == 201, said.text
        after_message = await client.get("/inbox")

    assert "Unread" in inbox.text
    assert "New message" not in inbox.text
    assert "Interpreter needed" in inbox.text
    assert "Welsh language" in inbox.text
    assert reference in after_message.text
    assert "New message" in after_message.text


async def test_empty_lists_say_what_to_do_next(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        inbox = await client.get("/inbox")
        mine = await client.get("/inbox?view=mine")
        sent = await client.get("/sent")

    assert "No referrals are waiting for a decision." in inbox.text
    assert "select Assign to me" in mine.text
    assert "To send one, use Make a referral in the menu." in sent.text
    assert "No referrals match" not in inbox.text
