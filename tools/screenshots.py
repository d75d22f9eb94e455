"""The README's pictures: the debt-advice team's inbox and one referral, from the demo network.

Runs the app on a fresh SQLite database with the demo data and a few referrals made through
the referral services, then photographs the pages in Debian's Chromium (`make screenshots`).
"""

import asyncio
import os
import socket
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
PEOPLE = (
    ("cc", "Natalie", "Example", "Rent arrears and a catalogue debt; wants help before starting work."),
    ("jcp", "Sam", "Sample", "Council tax arrears; starting a job next month and worried about deductions."),
    ("hv", "Priya", "Demo", "Behind on energy bills since the baby arrived; would like a budgeting plan."),
)


def _prepare_environment() -> None:
    folder = tempfile.mkdtemp(prefix="rx-screenshots-")
    os.environ.update(ENVIRONMENT="development", DATABASE_URL=f"sqlite+aiosqlite:///{folder}/demo.db")


async def _principal(session: object, username: str) -> object:
    from sqlalchemy import select
    from sqlmodel import col

    from app.models.identity import User
    from app.services.web_sessions import principal_of

    user = (await session.execute(select(User).where(col(User.username) == username))).scalar_one()  # type: ignore[attr-defined]
    return principal_of(user)


async def _referrals() -> list[str]:
    """Three referrals to debt advice; the first accepted, its handover booked, an outcome recorded."""
    from app.models.referral import ReferralCreate
    from app.services import referrals, seed
    from app.unit_of_work import committed

    demo = await committed(seed.seed_demo)
    service = next(s for s in demo["services"] if s["name"] == "Debt and money advice")
    made = []
    for slug, given, family, reason in PEOPLE:
        body = ReferralCreate.model_validate(_body(service["id"], given, family, reason))

        async def work(session, slug=slug, body=body):  # type: ignore[no-untyped-def]
            return await referrals.create(
                session, await _principal(session, f"{slug}.caseworker"), body, None
            )

        made.append(str((await committed(work)).id))
    for step in (_accept, _schedule, _record):
        await committed(lambda s, step=step: step(s, made[0]))  # type: ignore[misc]
    return made


def _body(service_id: str, given: str, family: str, reason: str) -> dict[str, object]:
    return {
        "to_service_id": service_id,
        "purpose": "debt_advice",
        "reason": reason,
        "urgency": "soon",
        "handover_mode": "joint_appointment",
        "subject": {
            "given_name": given,
            "family_name": family,
            "date_of_birth": "1994-03-02",
            "postcode": "LL13 9AA",
            "phone": "07700900123",
            "preferred_contact": "phone",
            "circumstances": {
                "lone_parent": True,
                "benefits": ["universal_credit"],
                "barriers": ["debt", "childcare"],
            },
        },
        "consent": {
            "given_by": "subject",
            "method": "verbal",
            "given_at": datetime.now(UTC).isoformat(),
            "lawful_basis": "consent",
            "purposes": ["debt_advice"],
            "data_categories": ["contact", "circumstances"],
        },
    }


async def _access(session: object, referral_id: str) -> object:
    import uuid

    from app.services import referrals

    principal = await _principal(session, "debt.caseworker")
    return await referrals.load_for_party(session, principal, uuid.UUID(referral_id))  # type: ignore[arg-type]


async def _accept(session: object, referral_id: str) -> None:
    from app.models.referral import ReferralStatus, TransitionRequest
    from app.services import referrals

    move = TransitionRequest(to=ReferralStatus.ACCEPTED)
    await referrals.transition(session, await _access(session, referral_id), move, "*")  # type: ignore[arg-type]


async def _schedule(session: object, referral_id: str) -> None:
    from app.models.referral import Appointment, ReferralStatus, TransitionRequest
    from app.services import referrals

    starts = datetime.now(UTC).replace(hour=9, minute=30, second=0, microsecond=0) + timedelta(days=3)
    where = Appointment(
        starts_at=starts, location="Caia Park Children's Centre, room 2", with_whom="Debt adviser"
    )
    move = TransitionRequest(to=ReferralStatus.HANDOVER_SCHEDULED, appointment=where, note="Joint visit.")
    await referrals.transition(session, await _access(session, referral_id), move, "*")  # type: ignore[arg-type]


async def _record(session: object, referral_id: str) -> None:
    from app.models.referral import OutcomeCreate, OutcomeType
    from app.services import outcomes

    outcome = OutcomeCreate(
        type=OutcomeType.ENGAGED_WITH_SERVICE, occurred_on=date.today(), note="Came to the first meeting."
    )
    await outcomes.record(session, await _access(session, referral_id), outcome, None)  # type: ignore[arg-type]


async def _photograph(base_url: str, referral_id: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = await browser.new_page(base_url=base_url, viewport={"width": 1200, "height": 900})
        await page.goto("/sign-in")
        await page.get_by_label("Username").fill("debt.caseworker")
        await page.get_by_label("Password", exact=True).fill("debt.caseworker-demo-pass")
        await page.get_by_role("button", name="Sign in").click()
        await page.goto("/inbox?view=open")
        await page.screenshot(path=str(DOCS / "inbox.png"), full_page=True)
        await page.goto(f"/referrals/{referral_id}")
        await page.screenshot(path=str(DOCS / "referral.png"), full_page=True)
        await browser.close()


async def main() -> None:
    import uvicorn
    from alembic import command

    from app.cli import alembic_config
    from app.main import create_app

    await asyncio.to_thread(command.upgrade, alembic_config(), "head")
    made = await _referrals()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        await _photograph(f"http://127.0.0.1:{sock.getsockname()[1]}", made[0])
    finally:
        server.should_exit = True
        await task


if __name__ == "__main__":
    _prepare_environment()
    asyncio.run(main())
