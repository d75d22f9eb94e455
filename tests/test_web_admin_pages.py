"""Agency admins in the pages: staff, services and the notification log, through the same services."""

import re
from datetime import date, timedelta

from fastapi import FastAPI

from app.models.identity import Role
from tests.support.referral_helpers import create_referral, make_network
from tests.support.web_support import api, browser, csrf_of, sign_in, signed_in_as, submit

NEW_PASSWORD = "three random words"


async def test_an_admin_adds_staff_who_set_their_own_password_and_sign_in(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        added = await submit(
            admin,
            "/admin/staff/new",
            {"username": "sam.adviser", "display_name": "Sam Adviser", "role": "caseworker"},
        )
        staff = await admin.get("/admin/staff")
    assert added.status_code == 200
    link = re.search(r"<code>(https?://[^<]+)</code>", added.text)
    assert link
    assert "Sam Adviser" in staff.text
    async with browser(app) as newcomer:
        moved = await newcomer.get(link.group(1).split("8000", 1)[-1])
        assert moved.headers["location"] == "/set-password"  # the token leaves the address bar
        short = await submit(newcomer, "/set-password", {"password": "short", "confirm": "short"})
        assert "Password must be 12 characters or more" in short.text
        done = await submit(newcomer, "/set-password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert done.headers["location"] == "/sign-in?reason=password_set"
        signed = await sign_in(newcomer, "sam.adviser", NEW_PASSWORD)
    assert signed.status_code == 303


async def test_deactivating_a_member_signs_them_out_at_once(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as member, browser(app) as admin:
        user = await signed_in_as(member, net.debt)
        assert (await member.get("/inbox")).status_code == 200
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        changed = await submit(admin, f"/admin/staff/{user.id}", {"role": "caseworker", "active": "no"})
        assert changed.status_code == 303, changed.text
        after = await member.get("/inbox")
    assert after.status_code == 303
    assert "reason=deactivated" in after.headers["location"]


async def test_a_member_marked_away_leaves_their_referrals_needing_cover(app: FastAPI) -> None:
    net = await make_network()
    async with api(app) as partner:
        referral = await create_referral(partner, net)
    async with browser(app) as member, browser(app) as admin:
        user = await signed_in_as(member, net.debt)
        page = await member.get(f"/referrals/{referral['id']}")
        await member.post(f"/referrals/{referral['id']}/assignment", data={"csrf_token": csrf_of(page)})
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        back = date.today() + timedelta(days=7)
        away = {
            "role": "caseworker",
            "active": "yes",
            "away-day": str(back.day),
            "away-month": str(back.month),
        }
        changed = await submit(admin, f"/admin/staff/{user.id}", {**away, "away-year": str(back.year)})
        assert changed.status_code == 303, changed.text
        cover = await admin.get("/inbox?view=cover")
        log = await admin.get("/admin/notifications")
    assert "Needs cover (1)" in cover.text
    assert referral["reference"] in cover.text
    assert log.status_code == 200
    assert "Notification log" in log.text


async def test_a_service_that_stops_taking_referrals_cannot_be_chosen(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as admin:
        await signed_in_as(admin, net.debt, Role.AGENCY_ADMIN)
        page = f"/admin/services/{net.debt_service.id}"
        edit = await admin.get(page)
        assert "Money advice" in edit.text
        form = {
            "name": "Money advice",
            "purposes": ["debt_advice"],
            "accepting_referrals": "no",
            "response_target_days": "5",
            "languages": ["en", "cy"],
            "area_served": "LL13",
        }
        saved = await admin.post(page, data={**form, "csrf_token": csrf_of(edit)})
        assert saved.status_code == 303, saved.text
        other = await admin.get(
            f"/admin/services/{net.debt_service.id}".replace(
                str(net.debt_service.id), "0" * 8 + "-0000-0000-0000-" + "0" * 12
            )
        )
    assert other.status_code == 404
    async with browser(app) as referrer:
        await signed_in_as(referrer, net.centre)
        search = await referrer.get("/referrals/new/service?q=money")
    assert "Money advice" not in search.text


async def test_caseworkers_cannot_open_the_admin_pages(app: FastAPI) -> None:
    net = await make_network()
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        pages = [
            await client.get(p) for p in ("/admin", "/admin/staff", "/admin/services", "/admin/notifications")
        ]
    assert [p.status_code for p in pages] == [403, 403, 403, 403]
