"""Subject access export: everything held about one person, for admins and auditors only."""

import base64
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import get_settings
from app.db import get_sessionmaker, utcnow
from app.models.audit import ActorKind, AuditEvent
from app.models.directory import Agency, AgencyKind, Purpose
from app.models.identity import Role, Scope
from app.models.outcome import OutcomeType
from app.models.referral import Referral, ReferralStatus
from app.security import Principal, issue_token
from app.services import audit
from app.services.audit import DetailValue
from app.unit_of_work import committed
from tests.support.factories import SYSTEM, bearer, make_agency, make_client, make_service, seal
from tests.support.referral_rows import OutcomeRow, insert_referral, insert_subject
from tests.test_retention import run as run_retention

S = ReferralStatus


@dataclass
class Person:
    subject_id: uuid.UUID
    referrals: list[Referral]
    centre: Agency
    related_seqs: list[int]


@pytest.fixture
async def person() -> Person:
    centre = await make_agency(AgencyKind.CHILDRENS_CENTRE, name="Centre")
    debt = await make_agency(AgencyKind.DEBT_ADVICE, name="Debt advice")
    service = await make_service(debt, [Purpose.DEBT_ADVICE])
    subject = await insert_subject(centre)
    created = utcnow() - timedelta(days=900)
    first = await insert_referral(
        centre,
        service,
        subject=subject,
        created_at=created,
        status=S.COMPLETED,
        decided_at=created + timedelta(hours=5),
        closed_at=created + timedelta(days=30),
        outcomes=[OutcomeRow(OutcomeType.DEBT_PLAN_AGREED, (created + timedelta(days=9)).date(), debt)],
        messages=["First message", "Second message"],
    )
    second = await insert_referral(centre, service, subject=subject, created_at=created + timedelta(days=60))
    stranger = await insert_referral(centre, service, created_at=created)
    seqs = await _trail(subject.id, first, second, stranger)
    return Person(subject.id, [first, second], centre, seqs)


async def _trail(subject_id: uuid.UUID, first: Referral, second: Referral, stranger: Referral) -> list[int]:
    """Audit events: two about the person, one naming only their referral, a listing that showed
    it, and three about others."""

    async def work(session: AsyncSession) -> None:
        audit.record(session, SYSTEM, "consent.recorded", "consent", subject_id=subject_id)
        audit.record(session, SYSTEM, "referral.viewed", "referral", first.id, referral_id=first.id)
        audit.record(session, SYSTEM, "referral.viewed", "referral", stranger.id, referral_id=stranger.id)
        audit.record(
            session,
            SYSTEM,
            "referral.created",
            "referral",
            second.id,
            referral_id=second.id,
            subject_id=subject_id,
        )
        audit.record(session, SYSTEM, "agency.created", "agency", uuid.uuid4())
        # Inbox listings name every referral they showed: one showed the person's, one did not.
        for shown in ([stranger.id, first.id], [stranger.id]):
            listed: dict[str, DetailValue] = {"box": "inbox", "referral_ids": [str(r) for r in shown]}
            audit.record(session, SYSTEM, "referral.listed", "referral", details=listed)

    await committed(work)
    await seal()
    async with get_sessionmaker()() as session:
        events = (await session.execute(select(AuditEvent).order_by(col(AuditEvent.seq)))).scalars().all()
    wanted = {"consent.recorded", "referral.created"}
    related = [
        e
        for e in events
        if e.action in wanted
        or e.referral_id == first.id
        or str(first.id) in e.details.get("referral_ids", [])
    ]
    return [e.seq for e in related if e.seq is not None]


async def export(
    client: httpx.AsyncClient, subject_id: uuid.UUID, role: Role = Role.PLATFORM_ADMIN
) -> httpx.Response:
    return await client.get(f"/v1/subjects/{subject_id}/export", headers=bearer(None, role))


@pytest.mark.parametrize("role", [Role.PLATFORM_ADMIN, Role.AUDITOR])
async def test_export_holds_everything_about_the_person(
    client: httpx.AsyncClient, person: Person, role: Role
) -> None:
    response = await export(client, person.subject_id, role)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subject"]["id"] == str(person.subject_id)
    assert body["subject"]["given_name"] == "Natalie"
    assert body["subject"]["phone"] == "07700900123"
    assert body["subject"]["circumstances"]["lone_parent"] is True
    assert body["subject"]["recorded_by_agency_id"] == str(person.centre.id)
    assert len(body["consents"]) == 3  # one recorded with the person, one with each referral
    assert all(c["subject_id"] == str(person.subject_id) for c in body["consents"])
    assert [r["id"] for r in body["referrals"]] == [str(r.id) for r in person.referrals]
    first, second = body["referrals"]
    assert first["reason"].startswith("Rent arrears")
    assert [h["to_status"] for h in first["history"]] == ["submitted", "accepted", "in_progress", "completed"]
    assert first["history"][1]["actor"]["kind"] == "user"
    assert [(o["type"], o["kind"]) for o in first["outcomes"]] == [("debt_plan_agreed", "hard")]
    assert first["outcomes"][0]["note"] == "Outcome note naming the person"
    assert [m["body"] for m in first["messages"]] == ["First message", "Second message"]
    assert (second["status"], second["history"][0]["to_status"], second["messages"]) == (
        "submitted",
        "submitted",
        [],
    )


async def test_export_includes_the_persons_audit_trail_and_nothing_else(
    client: httpx.AsyncClient, person: Person
) -> None:
    body = (await export(client, person.subject_id)).json()

    assert [e["seq"] for e in body["audit_events"]] == person.related_seqs
    actions = [e["action"] for e in body["audit_events"]]
    assert actions == ["consent.recorded", "referral.viewed", "referral.created", "referral.listed"]
    assert all(len(base64.b64decode(e["leaf_hash"])) == 32 for e in body["audit_events"])


async def test_export_is_audited(client: httpx.AsyncClient, person: Person) -> None:
    headers = bearer(None, Role.AUDITOR)
    response = await client.get(f"/v1/subjects/{person.subject_id}/export", headers=headers)
    assert response.status_code == 200

    async with get_sessionmaker()() as session:
        query = select(AuditEvent).where(col(AuditEvent.action) == "subject.exported")
        (event,) = (await session.execute(query)).scalars().all()
    assert event.subject_id == person.subject_id
    assert event.actor_kind == "user"
    assert event.details == {"referrals": 2, "audit_events": len(person.related_seqs)}
    # The next export shows the earlier one in the person's trail.
    again = (await client.get(f"/v1/subjects/{person.subject_id}/export", headers=headers)).json()
    assert again["audit_events"][-1]["action"] == "subject.exported"


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.AGENCY_ADMIN])
async def test_agency_staff_cannot_export(client: httpx.AsyncClient, person: Person, role: Role) -> None:
    response = await client.get(
        f"/v1/subjects/{person.subject_id}/export", headers=bearer(person.centre, role)
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_api_clients_cannot_export_whatever_their_scopes(
    client: httpx.AsyncClient, person: Person
) -> None:
    scopes = frozenset({"referrals:read", "audit:read", "reports:read", "directory:write"})
    registered = await make_client(None, [Scope(s) for s in scopes])
    partner = Principal(ActorKind.CLIENT, registered.client_id, None, scopes, role=None)
    headers = {"Authorization": f"Bearer {issue_token(partner, get_settings(), 600)}"}

    response = await client.get(f"/v1/subjects/{person.subject_id}/export", headers=headers)

    assert response.status_code == 403


async def test_unknown_subject_is_404(client: httpx.AsyncClient) -> None:
    response = await export(client, uuid.uuid4())
    assert response.status_code == 404


async def test_unauthenticated_is_401(client: httpx.AsyncClient, person: Person) -> None:
    response = await client.get(f"/v1/subjects/{person.subject_id}/export")
    assert response.status_code == 401


async def test_export_after_retention_shows_only_placeholders(
    client: httpx.AsyncClient, person: Person
) -> None:
    # The first referral closed long ago, but the second is still open: close it too.
    async def close(session: AsyncSession) -> None:
        referral = await session.get(Referral, person.referrals[1].id)
        assert referral is not None
        referral.status, referral.closed_at = S.CANCELLED, utcnow() - timedelta(days=800)

    await committed(close)
    assert await run_retention() == 1

    body: dict[str, Any] = (await export(client, person.subject_id)).json()

    assert body["subject"]["given_name"] == "[anonymised]"
    assert body["subject"]["date_of_birth"] == str(date(1994, 1, 1))
    assert body["subject"]["anonymised_at"] is not None
    for personal in ("Natalie", "07700900123", "Rent arrears", "First message", "LL13"):
        assert personal not in str(body)
    assert body["audit_events"][-1]["action"] == "subject.anonymised"


async def test_export_of_a_person_without_referrals(client: httpx.AsyncClient) -> None:
    subject = await insert_subject(await make_agency())

    body = (await export(client, subject.id)).json()

    assert (len(body["consents"]), body["referrals"], body["audit_events"]) == (1, [], [])


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PLATFORM_ADMIN])
async def test_a_token_narrowed_to_other_scopes_cannot_export(
    client: httpx.AsyncClient, person: Person, role: Role
) -> None:
    headers = bearer(None, role, scopes=["reports:read"])

    response = await client.get(f"/v1/subjects/{person.subject_id}/export", headers=headers)

    assert response.status_code == 403
    assert response.json()["required_scopes"] == ["subjects:export"]
