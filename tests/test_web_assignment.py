"""Assigning a referral from its page to anyone in the receiving team, or nobody, and showing a
colleague's absence up to the last day they are away."""

import re
from datetime import date, timedelta

from fastapi import FastAPI

from app.models.identity import Role, User
from tests.support.factories import make_user
from tests.support.referral_helpers import Network, make_network
from tests.support.web_support import PASSWORD, browser, csrf_of, signed_in_as, submit
from tests.support.worklists import refer_people, references_in


def _uk(day: date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


async def _mark_away(app: FastAPI, net: Network, member: User, last_day: date) -> None:
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        form = {"role": "caseworker", "active": "yes"} | {
            "away-day": str(last_day.day),
            "away-month": str(last_day.month),
            "away-year": str(last_day.year),
        }
        changed = await submit(admin, f"/admin/staff/{member.id}", form)
        assert changed.status_code == 303, changed.text
        staff = await admin.get("/admin/staff")
        member_page = await admin.get(f"/admin/staff/{member.id}")
    assert f"Away until {_uk(last_day)}" in staff.text
    assert f'name="away-day" type="text" value="{last_day.day}"' in member_page.text


async def test_a_referral_is_assigned_to_a_colleague_who_is_shown_away_to_their_last_day(
    app: FastAPI,
) -> None:
    net = await make_network()
    [reference] = await refer_people(app, net, ("Natalie", "Example"))
    colleague = await make_user(net.debt, Role.CASEWORKER, password=PASSWORD, username="bethan")
    last_day = date.today() + timedelta(days=10)
    await _mark_away(app, net, colleague, last_day)
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        inbox = await client.get("/inbox")
        page_path = "/referrals/" + re.findall(r'href="/referrals/([0-9a-f-]+)"', inbox.text)[0]
        page = await client.get(page_path)
        given = await client.post(
            page_path + "/assignment", data={"csrf_token": csrf_of(page), "assign_to": str(colleague.id)}
        )
        after = await client.get(given.headers["location"])
        theirs = await client.get(f"/inbox?view=open&assigned={colleague.id}")
        cover = await client.get("/inbox?view=cover")
        released = await client.post(
            page_path + "/assignment", data={"csrf_token": csrf_of(after), "assign_to": "none"}
        )
        nobody = await client.get(released.headers["location"])

    assert "Assign to" in page.text
    assert f"Bethan (away until {_uk(last_day)})" in page.text
    assert given.headers["location"].endswith("?done=reassigned")
    assert "Referral assigned" in after.text
    assert f"Away until {_uk(last_day)}" in after.text
    assert references_in(theirs) == [reference]
    assert "Needs cover (1)" in cover.text
    assert "Referral assigned to nobody" in nobody.text
    assert "Nobody yet" in nobody.text


async def test_only_the_receiving_team_assigns_and_only_to_its_own_staff(app: FastAPI) -> None:
    net = await make_network()
    await refer_people(app, net, ("Natalie", "Example"))
    stranger = await make_user(net.outsider, Role.CASEWORKER, password=PASSWORD)
    async with browser(app) as receiver, browser(app) as sender:
        await signed_in_as(receiver, net.debt)
        inbox = await receiver.get("/inbox")
        page_path = "/referrals/" + re.findall(r'href="/referrals/([0-9a-f-]+)"', inbox.text)[0]
        page = await receiver.get(page_path)
        refused = await receiver.post(
            page_path + "/assignment", data={"csrf_token": csrf_of(page), "assign_to": str(stranger.id)}
        )
        nonsense = await receiver.post(
            page_path + "/assignment", data={"csrf_token": csrf_of(page), "assign_to": "x"}
        )
        await signed_in_as(sender, net.centre)
        seen_by_sender = await sender.get(page_path)

    for answer in (refused, nonsense):
        assert answer.status_code == 422
        assert "Select a member of your team who can sign in, or nobody" in answer.text
    assert "Nobody yet" in refused.text
    assert "Assign to" not in seen_by_sender.text.replace("Assigned to", "")
