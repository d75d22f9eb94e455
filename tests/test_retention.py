"""Retention: people whose referrals have all been closed long enough are anonymised, nothing else."""

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import get_settings
from app.db import get_sessionmaker, utcnow
from app.models.audit import AuditEvent
from app.models.consent import Consent
from app.models.directory import Agency, AgencyKind, Purpose, Service
from app.models.identity import Role
from app.models.message import Message
from app.models.outcome import Outcome, OutcomeType
from app.models.referral import Referral, ReferralStatus, StatusChange
from app.models.subject import Subject
from app.services import audit, retention
from app.unit_of_work import committed
from tests.support.factories import bearer, make_agency, make_service, seal
from tests.support.referral_rows import OutcomeRow, insert_referral, insert_subject
from tests.test_cli import run_cli

S = ReferralStatus
PLACEHOLDER = retention.PLACEHOLDER
PERSONAL = ("Natalie", "Example", "LL13", "07700900123", "natalie@example.org", "Rent arrears", "Sam")


@dataclass
class People:
    """Subjects in every position relative to the 730-day retention period."""

    due: uuid.UUID  # two referrals, both closed three years ago
    recent: uuid.UUID  # closed a year ago
    mixed: uuid.UUID  # one old closed referral, one still open
    open_only: uuid.UUID  # an old referral never closed
    no_referrals: uuid.UUID


@pytest.fixture
async def people() -> People:
    centre = await make_agency(AgencyKind.CHILDRENS_CENTRE, name="Centre")
    debt = await make_agency(AgencyKind.DEBT_ADVICE, name="Debt advice")
    service = await make_service(debt, [Purpose.DEBT_ADVICE])
    now = utcnow()
    long_ago, last_year = now - timedelta(days=3 * 365), now - timedelta(days=365)
    due = await insert_subject(centre, "Natalie")
    await insert_referral(
        centre,
        service,
        subject=due,
        created_at=long_ago - timedelta(days=60),
        status=S.COMPLETED,
        decided_at=long_ago - timedelta(days=59),
        closed_at=long_ago,
        outcomes=[OutcomeRow(OutcomeType.DEBT_PLAN_AGREED, (long_ago - timedelta(days=30)).date(), debt)],
        messages=["Natalie is free on Tuesdays, call 07700900123"],
    )
    await insert_referral(
        centre, service, subject=due, created_at=long_ago - timedelta(days=40), status=S.WITHDRAWN
    )
    recent = await _closed_subject(centre, service, last_year)
    mixed = await _closed_subject(centre, service, long_ago)
    await insert_referral(centre, service, subject=mixed, created_at=now - timedelta(days=3))
    open_only = await insert_subject(centre)
    await insert_referral(centre, service, subject=open_only, created_at=long_ago, status=S.RECEIVED)
    alone = await insert_subject(centre)
    return People(due.id, recent.id, mixed.id, open_only.id, alone.id)


async def _closed_subject(centre: Agency, service: Service, closed_at: datetime) -> Subject:
    subject = await insert_subject(centre)
    await insert_referral(
        centre,
        service,
        subject=subject,
        created_at=closed_at - timedelta(days=10),
        status=S.DECLINED,
        decided_at=closed_at,
        closed_at=closed_at,
    )
    return subject


async def run(limit: int = 100, days: int = 730) -> int:
    closed_before = retention.cutoff(days)
    return await committed(lambda session: retention.anonymise_batch(session, closed_before, limit))


async def subject_row(subject_id: uuid.UUID) -> Subject:
    async with get_sessionmaker()() as session:
        subject = await session.get(Subject, subject_id)
        assert subject is not None
        return subject


async def anonymised_ids() -> set[uuid.UUID]:
    async with get_sessionmaker()() as session:
        query = select(col(Subject.id)).where(col(Subject.anonymised_at).is_not(None))
        return set((await session.execute(query)).scalars())


async def everything_about(subject_id: uuid.UUID) -> str:
    """Every row held about the subject, as text, to search for what should be gone."""

    async def dump(session: AsyncSession) -> str:
        referral_ids = select(col(Referral.id)).where(col(Referral.subject_id) == subject_id)
        rows: list[Any] = [await session.get(Subject, subject_id)]
        for model, link in (
            (Consent, col(Consent.subject_id) == subject_id),
            (Referral, col(Referral.subject_id) == subject_id),
            (StatusChange, col(StatusChange.referral_id).in_(referral_ids)),
            (Outcome, col(Outcome.referral_id).in_(referral_ids)),
            (Message, col(Message.referral_id).in_(referral_ids)),
        ):
            rows += (await session.execute(select(model).where(link))).scalars().all()
        return "\n".join(row.model_dump_json(warnings=False) for row in rows)

    async with get_sessionmaker()() as session:
        return await dump(session)


async def test_only_subjects_whose_referrals_are_all_closed_long_enough_are_anonymised(
    people: People,
) -> None:
    assert await run() == 1

    assert await anonymised_ids() == {people.due}


async def test_anonymisation_replaces_every_personal_detail(people: People) -> None:
    before = await everything_about(people.due)
    assert all(p in before for p in PERSONAL)

    await run()

    after = await everything_about(people.due)
    for personal in PERSONAL:
        assert personal not in after, personal
    subject = await subject_row(people.due)
    assert (subject.given_name, subject.family_name) == (PLACEHOLDER, PLACEHOLDER)
    assert subject.date_of_birth == date(1994, 1, 1)  # the year is kept
    assert (subject.postcode, subject.phone, subject.email, subject.circumstances) == (None,) * 4
    assert subject.anonymised_at is not None


async def test_anonymisation_keeps_ids_statuses_times_and_outcome_types(people: People) -> None:
    async def facts() -> list[Any]:
        async with get_sessionmaker()() as session:
            referrals = select(Referral).where(col(Referral.subject_id) == people.due)
            rows = (await session.execute(referrals.order_by(col(Referral.created_at)))).scalars().all()
            ids = [r.id for r in rows]
            outcomes = select(Outcome).where(col(Outcome.referral_id).in_(ids))
            changes = select(StatusChange).where(col(StatusChange.referral_id).in_(ids))
            return [
                [
                    (r.id, r.status, r.purpose, r.created_at, r.decided_at, r.closed_at, r.due_by)
                    for r in rows
                ],
                sorted(
                    (o.id, o.type, o.kind, o.occurred_on) for o in (await session.execute(outcomes)).scalars()
                ),
                sorted((c.id, c.to_status, c.at) for c in (await session.execute(changes)).scalars()),
            ]

    before = await facts()
    await run()
    assert await facts() == before


async def test_report_figures_are_the_same_before_and_after(
    client: httpx.AsyncClient, people: People
) -> None:
    admin = bearer(None, Role.PLATFORM_ADMIN)

    async def figures() -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = []
        for group_by in ("purpose", "from_agency", "to_agency"):
            body = (
                await client.get("/v1/reports/summary", params={"group_by": group_by}, headers=admin)
            ).json()
            groups += body["groups"]
        return groups

    before = await figures()
    assert await run() == 1
    assert await figures() == before
    assert people.due


async def test_each_anonymisation_is_audited_with_ids_only(people: People) -> None:
    await run()

    async with get_sessionmaker()() as session:
        query = select(AuditEvent).where(col(AuditEvent.action) == "subject.anonymised")
        (event,) = (await session.execute(query)).scalars().all()
        referral_ids = (
            await session.execute(select(col(Referral.id)).where(col(Referral.subject_id) == people.due))
        ).scalars()
    assert event.subject_id == people.due
    assert event.entity_id == str(people.due)
    assert (event.actor_kind, event.actor_id) == ("system", "retention")
    assert event.details == {"referral_ids": sorted(str(r) for r in referral_ids)}


async def test_a_second_run_changes_nothing(people: People) -> None:
    await run()
    first = await everything_about(people.due)

    assert await run() == 0
    assert await everything_about(people.due) == first
    async with get_sessionmaker()() as session:
        count = select(func.count()).where(col(AuditEvent.action) == "subject.anonymised")
        assert (await session.execute(count)).scalar_one() == 1


async def test_batches_work_through_every_eligible_subject(people: People) -> None:
    sender, receiver = await make_agency(), await make_agency()
    extra = await insert_subject(sender)
    await insert_referral(
        sender,
        await make_service(receiver),
        subject=extra,
        created_at=utcnow() - timedelta(days=1000),
        status=S.CANCELLED,
        closed_at=utcnow() - timedelta(days=999),
    )

    assert [await run(limit=1), await run(limit=1), await run(limit=1)] == [1, 1, 0]
    assert await anonymised_ids() == {people.due, extra.id}


async def test_a_shorter_retention_period_reaches_more_people(people: People) -> None:
    assert await run(days=300) == 2
    assert await anonymised_ids() == {people.due, people.recent}


@pytest.mark.usefixtures("database_url")
async def test_command_line_dry_run_changes_nothing_then_run_anonymises(people: People) -> None:
    before = await everything_about(people.due)

    dry = run_cli("retention", "run", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["eligible"] == 1
    assert await everything_about(people.due) == before
    assert await anonymised_ids() == set()

    real = run_cli("retention", "run", "--batch-size", "1")
    assert real.returncode == 0, real.stderr
    assert json.loads(real.stdout)["anonymised"] == 1
    assert await anonymised_ids() == {people.due}

    again = run_cli("retention", "run")
    assert json.loads(again.stdout)["anonymised"] == 0


async def test_audit_log_stays_valid(people: People) -> None:
    await seal()
    await run()
    await seal()

    async with get_sessionmaker()() as session:
        verification = await audit.verify_log(session, get_settings())
    assert verification.valid, verification
    assert verification.unsealed == 0
    assert people.due
