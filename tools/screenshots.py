"""The README's pictures: the debt-advice team's inbox (in English and Welsh) and a referral, from the demo.

Runs the app on a fresh SQLite database with the demo data and a few referrals made through
the referral services, then photographs the pages in Debian's Chromium (`make screenshots`).
"""

import asyncio
import os
import socket
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import uvicorn
from alembic import command
from playwright.async_api import async_playwright
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cli import alembic_config
from app.config import get_settings
from app.main import create_app
from app.models.identity import User
from app.models.outcome import OutcomeCreate, OutcomeType
from app.models.referral import (
    Appointment,
    AssignmentRequest,
    ReferralCreate,
    ReferralStatus,
    TransitionRequest,
)
from app.security import Principal
from app.services import outcomes, referrals, seed
from app.services.referrals import PartyAccess
from app.unit_of_work import committed
from app.web.sessions import principal_of

DOCS = Path(__file__).resolve().parent.parent / "docs"
PEOPLE = (
    ("cc", "Natalie", "Example", "Rent arrears and a catalogue debt; wants help before starting work."),
    ("jcp", "Sam", "Sample", "Council tax arrears; starting a job next month and worried about deductions."),
    ("hv", "Priya", "Demo", "Behind on energy bills since the baby arrived; would like a budgeting plan."),
)


async def _principal(session: AsyncSession, username: str) -> Principal:
    user = (await session.execute(select(User).where(col(User.username) == username))).scalar_one()
    return principal_of(user)


CONSENT = {
    "given_by": "subject",
    "method": "verbal",
    "lawful_basis": "consent",
    "purposes": ["debt_advice"],
    "data_categories": ["contact", "circumstances"],
}
CONTACT = {
    "date_of_birth": "1994-03-02",
    "postcode": "LL13 9AA",
    "phone": "07700900123",
    "preferred_contact": "phone",
}
CIRCUMSTANCES = {"lone_parent": True, "benefits": ["universal_credit"], "barriers": ["debt"]}


def _body(service_id: str, given: str, family: str, reason: str) -> ReferralCreate:
    """A referral to debt advice, as a caseworker would make it, with the person's consent given now."""
    subject = {"given_name": given, "family_name": family, **CONTACT, "circumstances": CIRCUMSTANCES}
    consent = {**CONSENT, "given_at": datetime.now(UTC).isoformat()}
    body = {"to_service_id": service_id, "purpose": "debt_advice", "reason": reason, "urgency": "soon"}
    return ReferralCreate.model_validate(
        {**body, "handover_mode": "joint_appointment", "subject": subject, "consent": consent}
    )


async def _refer(slug: str, body: ReferralCreate) -> str:
    async def work(session: AsyncSession) -> str:
        principal = await _principal(session, f"{slug}.caseworker")
        return str((await referrals.create(session, principal, body, None)).id)

    return await committed(work)


async def _as_receiver(session: AsyncSession, referral_id: str) -> PartyAccess:
    principal = await _principal(session, "debt.caseworker")
    return await referrals.load_for_party(session, principal, uuid.UUID(referral_id))


async def _move(referral_id: str, move: TransitionRequest) -> None:
    async def work(session: AsyncSession) -> None:
        await referrals.transition(session, await _as_receiver(session, referral_id), move, "*")

    await committed(work)


async def _record(referral_id: str) -> None:
    outcome = OutcomeCreate(
        type=OutcomeType.ENGAGED_WITH_SERVICE, occurred_on=date.today(), note="Came along."
    )

    async def work(session: AsyncSession) -> None:
        await outcomes.record(session, await _as_receiver(session, referral_id), outcome, None)

    await committed(work)


async def _take(referral_id: str) -> None:
    """The debt caseworker takes the referral in hand and reads it."""

    async def work(session: AsyncSession) -> None:
        access = await _as_receiver(session, referral_id)
        await referrals.assign(session, access, AssignmentRequest(user_id=uuid.UUID(access.principal.id)))
        await referrals.view_and_stamp(session, access)

    await committed(work)


async def _demo_referrals() -> list[str]:
    """Three referrals to debt advice; the first accepted, its handover booked, an outcome recorded."""
    demo = await committed(seed.seed_demo)
    service = next(s for s in demo["services"] if s["name"] == "Debt and money advice")
    made = [await _refer(slug, _body(service["id"], *rest)) for slug, *rest in PEOPLE]
    starts = datetime.now(UTC).replace(hour=9, minute=30, second=0, microsecond=0) + timedelta(days=3)
    where = Appointment(
        starts_at=starts, location="Caia Park Children's Centre, room 2", with_whom="Debt adviser"
    )
    await _move(made[0], TransitionRequest(to=ReferralStatus.ACCEPTED))
    await _move(made[0], TransitionRequest(to=ReferralStatus.HANDOVER_SCHEDULED, appointment=where))
    await _record(made[0])
    await _take(made[0])
    return made


async def _photograph(base_url: str, referral_id: str) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = await browser.new_page(base_url=base_url, viewport={"width": 1200, "height": 900})
        await page.goto("/sign-in")
        await page.get_by_label("Username").fill("debt.caseworker")
        await page.get_by_label("Password", exact=True).fill(seed.demo_password("debt.caseworker"))
        await page.get_by_role("button", name="Sign in").click()
        await page.goto("/inbox?view=open")
        await page.screenshot(path=str(DOCS / "inbox.png"), full_page=True)
        await page.goto(f"/referrals/{referral_id}")
        await page.screenshot(path=str(DOCS / "referral.png"), full_page=True)
        await page.goto("/inbox?view=open&lang=cy")  # the same inbox in Welsh, then back to English
        await page.screenshot(path=str(DOCS / "inbox-cy.png"), full_page=True)
        await page.goto("/inbox?lang=en")
        await browser.close()


async def main() -> None:
    """Build the demo database, serve it on a free loopback port, photograph two pages."""
    await asyncio.to_thread(command.upgrade, alembic_config(), "head")
    made = await _demo_referrals()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110  (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.05)
    try:
        await _photograph(f"http://127.0.0.1:{sock.getsockname()[1]}", made[0])
    finally:
        server.should_exit = True
        await task


if __name__ == "__main__":
    folder = tempfile.mkdtemp(prefix="rx-screenshots-")
    os.environ.update(ENVIRONMENT="development", DATABASE_URL=f"sqlite+aiosqlite:///{folder}/demo.db")
    get_settings.cache_clear()
    asyncio.run(main())
