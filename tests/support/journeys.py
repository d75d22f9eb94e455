"""A family's journey: the children's centre refers to Jobcentre Plus, which refers on to debt advice."""

from dataclasses import dataclass
from typing import Any

import httpx

from app.models.directory import Purpose, Service
from tests.support.factories import make_service
from tests.support.referral_helpers import Network, consent_body, move, referral_body


@dataclass
class Journey:
    net: Network
    jcp_service: Service
    first: dict[str, Any]  # children's centre to Jobcentre Plus (the network's "outsider")
    onward: dict[str, Any]  # Jobcentre Plus on to debt advice


async def jcp_service(net: Network) -> Service:
    return await make_service(net.outsider, [Purpose.JOB_SEARCH_SUPPORT], name="Work coach support")


def to_jcp(service: Service, **overrides: Any) -> dict[str, Any]:
    consent = consent_body(purposes=["job_search_support", "debt_advice"])
    return referral_body(service, purpose="job_search_support", consent=consent) | overrides


def onward_body(net: Network, parent: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Debt advice for the same person, made by the receiver of `parent`, with no person or consent."""
    return {
        "to_service_id": str(net.debt_service.id),
        "purpose": "debt_advice",
        "reason": "Arrears are in the way of starting work.",
        "parent_referral_id": parent["id"],
    } | overrides


async def post(client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post("/v1/referrals", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def make_journey(client: httpx.AsyncClient, net: Network, **onward: Any) -> Journey:
    """Referred by the children's centre to JCP, accepted there, and referred on to debt advice."""
    service = await jcp_service(net)
    first = await post(client, to_jcp(service), net.centre_headers)
    assert (await move(client, first, net.outsider_headers, "accepted")).status_code == 200
    second = await post(client, onward_body(net, first, **onward), net.outsider_headers)
    return Journey(net, service, first, second)
