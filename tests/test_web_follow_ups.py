"""The follow-ups pages: the agency's due and upcoming follow-ups, recording what each found and
snoozing them through the API's own service, and nothing of them for any other agency."""

import re
from datetime import date, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from app.db import get_sessionmaker
from app.models.audit import AuditEvent
from app.models.follow_up import FollowUpResult
from app.models.identity import Role
from app.models.outcome import Outcome, OutcomeType
from tests.support.factories import make_user
from tests.support.follow_up_pages import FollowUps, make_follow_ups, one
from tests.support.referral_helpers import Network, make_network
from tests.support.web_support import PASSWORD, api, browser, csrf_of, sign_in, signed_in_as, submit


async def _made(app: FastAPI) -> tuple[Network, FollowUps]:
    net = await make_network()
    async with api(app) as partner:
        return net, await make_follow_ups(partner, net)


def _section(page: httpx.Response, caption: str) -> str:
    """The table under one caption (Due now, Coming up)."""
    found = re.search(rf"{caption}</caption>(.*?)</table>", page.text, re.S)
    assert found, f"no table captioned {caption}"
    return found.group(1)


def _error_summary_links(page: httpx.Response) -> list[str]:
    summary = page.text.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'href="([^"]+)"', summary)


async def _audited(action: str) -> int:
    async with get_sessionmaker()() as session:
        query = select(col(AuditEvent.id)).where(col(AuditEvent.action) == action)
        return len(list((await session.execute(query)).scalars()))


async def test_the_page_lists_due_and_upcoming_follow_ups_each_linking_its_referral(app: FastAPI) -> None:
    net, made = await _made(app)
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        page = await client.get("/follow-ups")

    assert page.status_code == 200
    assert re.search(r'<h1 class="govuk-heading-l">\s*Follow-ups\s*</h1>', page.text)
    assert '<a class="govuk-service-navigation__link" href="/follow-ups" aria-current="true">' in page.text
    due, coming = _section(page, "Due now"), _section(page, "Coming up")
    reference = made.job_referral["reference"]
    assert f'href="/referrals/{made.job_referral["id"]}">{reference}</a>' in due
    assert "Job check at 13 weeks" in due
    assert "Job check at 26 weeks" not in due
    assert f'href="/follow-ups/{made.week_13.id}/result">Record result' in due
    assert f'href="/follow-ups/{made.week_13.id}/snooze">Snooze' in due
    assert "Job check at 26 weeks" in coming
    assert f"/follow-ups/{made.week_26.id}/result" in coming
    # The centre's follow-up (a person to take back) is not the debt agency's to see.
    assert str(made.resume.id) not in page.text
    assert made.back_referral["reference"] not in page.text
    assert await _audited("follow_up.listed") >= 1


async def test_an_agency_with_none_is_told_what_follow_ups_are_and_when_they_appear(app: FastAPI) -> None:
    net, _ = await _made(app)
    async with browser(app) as client:
        await signed_in_as(client, net.outsider)
        page = await client.get("/follow-ups")

    assert page.status_code == 200
    assert "There are no follow-ups for Wrexham Jobcentre Plus at the moment." in page.text
    assert "Follow-ups are the dates on which your agency gets back to a person." in page.text
    assert "13 and 26 weeks after your agency records that someone started a job" in page.text
    assert "when a referral your agency sent, asking to have the person back, is closed" in page.text


async def test_a_job_check_answered_puts_its_outcome_on_the_referral(app: FastAPI) -> None:
    net, made = await _made(app)
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        form = await client.get(f"/follow-ups/{made.week_13.id}/result")
        done = await submit(
            client, f"/follow-ups/{made.week_13.id}/result", {"answer": "job_sustained_13_weeks"}
        )
        listed = await client.get(done.headers["location"])
        again = await client.get(f"/follow-ups/{made.week_13.id}/result")
        referral = await client.get(f"/referrals/{made.job_referral['id']}")

    # Only the answers that fit a 13-week check are offered.
    offered = re.findall(r'name="answer" type="radio" value="([a-z_0-9]+)"', form.text)
    assert offered == ["job_sustained_13_weeks", "job_not_sustained", "unable_to_contact"]
    assert made.job_referral["reference"] in form.text
    assert done.status_code == 303
    assert done.headers["location"] == "/follow-ups?done=recorded"
    assert "Result recorded" in listed.text
    assert f"/follow-ups/{made.week_13.id}/result" not in listed.text
    assert again.status_code == 303  # nothing left to do on a done follow-up
    recorded = await one(made.week_13.id)
    assert (recorded.result, recorded.found) == (
        FollowUpResult.OUTCOME_RECORDED,
        OutcomeType.JOB_SUSTAINED_13_WEEKS,
    )
    async with get_sessionmaker()() as session:
        outcome = await session.get(Outcome, recorded.outcome_id)
    assert outcome is not None
    assert outcome.occurred_on == date.today()
    assert "Still in work after 13 weeks" in referral.text


async def test_could_not_contact_closes_it_without_an_outcome(app: FastAPI) -> None:
    net, made = await _made(app)
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        done = await submit(client, f"/follow-ups/{made.week_26.id}/result", {"answer": "unable_to_contact"})

    assert done.status_code == 303
    closed = await one(made.week_26.id)
    assert (closed.result, closed.outcome_id) == (FollowUpResult.UNABLE_TO_CONTACT, None)


async def test_a_result_must_be_one_offered_for_the_kind_shown_as_a_govuk_error(app: FastAPI) -> None:
    net, made = await _made(app)
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        url = f"/follow-ups/{made.week_13.id}/result"
        nothing = await submit(client, url, {})
        wrong_kind = await submit(client, url, {"answer": "support_resumed"})
        later_check = await submit(client, url, {"answer": "job_sustained_26_weeks"})

    for page in (nothing, wrong_kind, later_check):
        assert page.status_code == 400
        assert "<title>Error: Record result" in page.text
        assert _error_summary_links(page) == ["#answer"]
        assert "Select what you found" in page.text
    assert (await one(made.week_13.id)).done_at is None


async def test_the_referrer_takes_the_person_back_by_recording_support_resumed(app: FastAPI) -> None:
    net, made = await _made(app)
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        listed = await client.get("/follow-ups")
        form = await client.get(f"/follow-ups/{made.resume.id}/result")
        done = await submit(client, f"/follow-ups/{made.resume.id}/result", {"answer": "support_resumed"})

    assert "Resume support" in _section(listed, "Due now")
    assert made.back_referral["reference"] in listed.text
    offered = re.findall(r'name="answer" type="radio" value="([a-z_0-9]+)"', form.text)
    assert offered == ["support_resumed", "unable_to_contact"]
    assert done.status_code == 303
    assert (await one(made.resume.id)).result == FollowUpResult.SUPPORT_RESUMED


async def test_snoozing_asks_for_a_new_date_and_an_optional_note(app: FastAPI) -> None:
    net, made = await _made(app)
    later = date.today() + timedelta(days=21)
    url = f"/follow-ups/{made.week_13.id}/snooze"
    when = {"date-day": str(later.day), "date-month": str(later.month), "date-year": str(later.year)}
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        page = await client.get(url)
        plain = await submit(client, url, when)
        with_note = await submit(client, url, {**when, "note": "Back from leave on the 3rd"})
        listed = await client.get(with_note.headers["location"])

    assert "New due date" in page.text
    assert "Optional" in page.text
    assert plain.status_code == 303
    assert plain.headers["location"] == "/follow-ups?done=snoozed"
    assert with_note.status_code == 303
    snoozed = await one(made.week_13.id)
    assert (snoozed.due_on, snoozed.snooze_note, snoozed.announced_on) == (
        later,
        "Back from leave on the 3rd",
        None,
    )
    assert "Follow-up snoozed" in listed.text
    assert "Back from leave on the 3rd" in _section(listed, "Coming up")


async def test_a_snooze_date_that_is_missing_unreal_or_past_is_a_govuk_error(app: FastAPI) -> None:
    net, made = await _made(app)
    url = f"/follow-ups/{made.week_13.id}/snooze"
    yesterday = date.today() - timedelta(days=1)
    cases = {
        "Enter the new due date": {},
        "The new due date must be a real date": {"date-day": "31", "date-month": "2", "date-year": "2030"},
        "The new due date must be today or in the future": {
            "date-day": str(yesterday.day),
            "date-month": str(yesterday.month),
            "date-year": str(yesterday.year),
        },
    }
    async with browser(app) as client:
        await signed_in_as(client, net.debt)
        pages = {message: await submit(client, url, data) for message, data in cases.items()}
        long_note = await submit(
            client, url, {"date-day": "1", "date-month": "1", "date-year": "2099", "note": "x" * 2001}
        )

    for message, page in pages.items():
        assert page.status_code == 400
        assert "<title>Error: Snooze a follow-up" in page.text
        assert _error_summary_links(page) == ["#date-day"]
        assert message in page.text
    assert _error_summary_links(long_note) == ["#note"]
    assert (await one(made.week_13.id)).due_on == made.week_13.due_on


async def test_another_agencys_follow_up_is_page_not_found(app: FastAPI) -> None:
    net, made = await _made(app)
    auditor = await make_user(None, Role.AUDITOR, password=PASSWORD)
    async with browser(app) as client:
        await signed_in_as(client, net.centre)
        pages = [
            await client.get(f"/follow-ups/{made.week_13.id}/{action}") for action in ("result", "snooze")
        ]
        token = csrf_of(await client.get("/follow-ups"))
        posted = await client.post(
            f"/follow-ups/{made.week_13.id}/result", data={"answer": "unable_to_contact", "csrf_token": token}
        )
        snoozed = await client.post(
            f"/follow-ups/{made.week_13.id}/snooze",
            data={"date-day": "1", "date-month": "1", "date-year": "2099", "csrf_token": token},
        )
    async with browser(app) as other:
        await sign_in(other, auditor.username)
        forbidden = await other.get("/follow-ups")
        navigation = await other.get("/directory")

    assert [p.status_code for p in (*pages, posted, snoozed)] == [404, 404, 404, 404]
    assert "Page not found" in posted.text
    assert (await one(made.week_13.id)).done_at is None
    assert forbidden.status_code == 403
    assert 'href="/follow-ups"' not in navigation.text


async def test_a_result_recorded_meanwhile_by_a_colleague_is_said_so(app: FastAPI) -> None:
    net, made = await _made(app)
    url = f"/follow-ups/{made.week_13.id}/result"
    async with browser(app) as first, browser(app) as second:
        await signed_in_as(first, net.debt)
        await signed_in_as(second, net.debt)
        open_page = await second.get(url)
        assert (await submit(first, url, {"answer": "unable_to_contact"})).status_code == 303
        late = await second.post(url, data={"answer": "job_not_sustained", "csrf_token": csrf_of(open_page)})

    assert late.status_code == 409
    assert "already recorded the result of that follow-up" in late.text
    assert (await one(made.week_13.id)).result == FollowUpResult.UNABLE_TO_CONTACT


async def test_the_referral_page_lists_the_agencys_own_follow_ups_on_it(app: FastAPI) -> None:
    net, made = await _made(app)
    path = f"/referrals/{made.job_referral['id']}"
    async with browser(app) as receiver, browser(app) as sender:
        await signed_in_as(receiver, net.debt)
        await signed_in_as(sender, net.centre)
        theirs = await receiver.get(path)
        not_theirs = await sender.get(path)

    section = theirs.text.split(">Follow-ups</h2>", 1)[1].split("<h2", 1)[0]
    assert "Job check at 13 weeks" in section
    assert "Job check at 26 weeks" in section
    assert f'href="/follow-ups/{made.week_13.id}/result"' in section
    assert "Record result" in section
    assert ">Follow-ups</h2>" not in not_theirs.text
    assert str(made.week_13.id) not in not_theirs.text
