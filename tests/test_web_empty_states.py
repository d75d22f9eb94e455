"""Empty lists say what to do next, not only that there is nothing."""

from fastapi import FastAPI

from app.models.identity import Role
from tests.support.factories import make_agency
from tests.support.web_support import browser, signed_in_as


async def test_empty_lists_say_what_to_do_next(app: FastAPI) -> None:
    async with browser(app) as client:
        await signed_in_as(client, await make_agency(), Role.AGENCY_ADMIN)
        inbox = await client.get("/inbox")
        sent = await client.get("/sent")
        directory = await client.get("/directory?q=nothing-like-this")
        notices = await client.get("/admin/notifications")
    assert "Referrals other agencies send to your team arrive under New." in inbox.text
    assert "To send one, use Make a referral in the menu." in sent.text
    assert '<a class="govuk-link" href="/directory">Clear the search</a>' in directory.text
    assert "once a referral is sent to your agency" in notices.text
