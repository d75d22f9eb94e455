"""The demo network's sample referrals: one in every state, with messages, outcomes, a journey
and follow-ups, made through the referral services; seeding twice makes none twice."""

from collections import Counter
from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app.models.audit import AuditEvent
from app.models.follow_up import FollowUp, FollowUpKind
from app.models.message import Message
from app.models.notification import Notification
from app.models.outcome import Outcome, OutcomeKind
from app.models.person import PersonRecord
from app.models.referral import Referral, ReferralStatus
from app.services import seed
from app.unit_of_work import committed


async def _count(model: type[SQLModel], *where: ColumnElement[bool]) -> int:
    async def count(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    return await committed(count)


async def _referrals() -> list[Referral]:
    return list(await committed(lambda s: s.scalars(select(Referral))))


async def test_the_demo_has_a_referral_in_every_state_between_all_five_agencies() -> None:
    network = await committed(seed.seed_demo)
    made = await _referrals()
    assert {r.status for r in made} == set(ReferralStatus)
    agencies = {a["id"] for a in network["agencies"]}
    assert {str(r.from_agency_id) for r in made} == agencies, "every agency has sent referrals"
    assert {str(r.to_agency_id) for r in made} == agencies, "every agency has an inbox"
    assert await _count(PersonRecord) == len(made), "the person's record on each referral"
    created = await _count(AuditEvent, col(AuditEvent.action) == "referral.created")
    assert created == len(made)
    assert await _count(Notification) > 0


async def test_the_demo_has_messages_outcomes_a_journey_and_follow_ups() -> None:
    await committed(seed.seed_demo)
    made = await _referrals()
    assert await _count(Message) >= 4
    kinds = Counter((await committed(lambda s: s.scalars(select(col(Outcome.kind))))).all())
    assert kinds[OutcomeKind.HARD] >= 2
    assert kinds[OutcomeKind.SOFT] >= 2
    onward = [r for r in made if r.parent_referral_id is not None]
    assert len(onward) == 1
    assert onward[0].journey_id == next(r.journey_id for r in made if r.id == onward[0].parent_referral_id)
    follow_ups = {f.kind: f for f in await committed(lambda s: s.scalars(select(FollowUp)))}
    assert follow_ups[FollowUpKind.JOB_SUSTAINMENT_13_WEEKS].due_on < date.today()
    assert follow_ups[FollowUpKind.JOB_SUSTAINMENT_26_WEEKS].due_on > date.today()
    assert follow_ups[FollowUpKind.RESUME_SUPPORT].due_on == date.today()
    assert all(f.done_at is None for f in follow_ups.values())


async def test_seeding_again_makes_no_referral_twice() -> None:
    await committed(seed.seed_demo)
    counts = [await _count(model) for model in (Referral, Message, Outcome, FollowUp, AuditEvent)]
    await committed(seed.seed_demo)
    again = [await _count(model) for model in (Referral, Message, Outcome, FollowUp)]
    assert again == counts[:4]
    assert await _count(AuditEvent) == counts[4], "nothing at all was done again"


async def test_the_bare_network_has_no_referrals() -> None:
    await committed(lambda s: seed.seed_demo(s, sample_referrals=False))
    assert await _count(Referral) == 0
