"""A small referral network and request bodies for the referral tests."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.directory import Agency, AgencyKind, Purpose, Service
from app.models.identity import Role
from app.models.referral import Referral, ReferralStatus
from app.unit_of_work import committed
from tests.support.factories import bearer, make_agency, make_service


@dataclass
class Network:
    """A children's centre that refers, a debt-advice agency that receives, and an outsider."""

    centre: Agency
    debt: Agency
    outsider: Agency
    debt_service: Service
    centre_headers: dict[str, str]
    debt_headers: dict[str, str]
    outsider_headers: dict[str, str]


async def make_network() -> Network:
    centre = await make_agency(AgencyKind.CHILDRENS_CENTRE, name="Caia Park Children's Centre")
    debt = await make_agency(AgencyKind.DEBT_ADVICE, name="North Wales Debt Advice")
    outsider = await make_agency(AgencyKind.JOBCENTRE_PLUS, name="Wrexham Jobcentre Plus")
    service = await make_service(
        debt, [Purpose.DEBT_ADVICE, Purpose.BENEFITS_ADVICE], name="Money advice", response_target_days=5
    )
    return Network(
        centre,
        debt,
        outsider,
        service,
        bearer(centre, Role.CASEWORKER),
        bearer(debt, Role.CASEWORKER),
        bearer(outsider, Role.CASEWORKER),
    )


def consent_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "given_by": "subject",
        "method": "verbal",
        "given_at": "2026-11-20T10:15:00Z",
        "lawful_basis": "consent",
        "purposes": ["debt_advice"],
        "data_categories": ["contact", "circumstances"],
        "sharing_agreement_ref": None,
        "expires_at": None,
    }
    return body | overrides


def subject_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "given_name": "Natalie",
        "family_name": "Example",
        "date_of_birth": "1994-03-02",
        "postcode": "LL13 9AA",
        "phone": "07700900123",
        "email": None,
        "preferred_contact": "phone",
        "language": "en",
        "needs_interpreter": False,
        "circumstances": {
            "lone_parent": True,
            "benefits": ["universal_credit"],
            "barriers": ["debt", "childcare"],
        },
    }
    return body | overrides


def referral_body(service: Service, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "to_service_id": str(service.id),
        "purpose": "debt_advice",
        "reason": "Rent arrears and a catalogue debt; wants help before starting work.",
        "urgency": "soon",
        "handover_mode": "joint_appointment",
        "subject": subject_body(),
        "consent": consent_body(),
    }
    return body | overrides


async def create_referral(client: httpx.AsyncClient, net: Network, **overrides: Any) -> dict[str, Any]:
    response = await client.post(
        "/v1/referrals", json=referral_body(net.debt_service, **overrides), headers=net.centre_headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def move(
    client: httpx.AsyncClient, referral: dict[str, Any], headers: dict[str, str], to: str, **body: Any
) -> httpx.Response:
    """Transition with the referral's current ETag (read fresh, as a client would)."""
    current = await client.get(f"/v1/referrals/{referral['id']}", headers=headers)
    return await client.post(
        f"/v1/referrals/{referral['id']}/transitions",
        json={"to": to, **body},
        headers={**headers, "If-Match": current.headers["ETag"]},
    )


def appointment(days: int = 7) -> dict[str, str]:
    starts = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()
    return {
        "starts_at": starts,
        "location": "Caia Park Children's Centre, room 2",
        "with_whom": "Debt adviser",
    }


async def force_status(referral_id: str, status: ReferralStatus, outcome_count: int = 0) -> None:
    """Put a referral straight into a state (for exhaustive state-machine tests)."""

    async def work(session):  # type: ignore[no-untyped-def]
        referral = await session.get(Referral, uuid.UUID(referral_id))
        referral.status, referral.outcome_count = status, outcome_count

    await committed(work)


async def platform_subject(referral: dict[str, Any]) -> uuid.UUID:
    """The platform's link to the person a referral is about, which no agency is shown."""

    async def work(session: AsyncSession) -> uuid.UUID:
        found = await session.get(Referral, uuid.UUID(referral["id"]))
        assert found is not None
        return found.subject_id

    return await committed(work)
