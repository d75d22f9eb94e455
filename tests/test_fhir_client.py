"""A partner's FHIR client (fhirpy, against a real server on loopback) through a referral's life.

The children's centre refers Natalie to debt advice with a transaction Bundle; debt advice finds
it in its worklist (`Task?owner=...&status=requested`), reads it, accepts it, records an outcome
as a Task output and completes it; a rejection without a reason is refused; the centre reads the
status; an agency that is no party to the referral finds nothing and reads nothing.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fhirpy.base.exceptions import MultipleResourcesFound, OperationOutcome, ResourceNotFound

from app.models.directory import Agency
from app.models.identity import Scope
from tests.support import fhir
from tests.support.factories import make_client
from tests.support.live_server import serving
from tests.support.referral_helpers import Network

SCOPES = (Scope.REFERRALS_READ, Scope.REFERRALS_WRITE)


@dataclass
class Partners:
    """Each agency's case-management system, with its own OAuth client and FHIR client."""

    port: int
    centre: fhir.CheckedClient
    debt: fhir.CheckedClient
    outsider: fhir.CheckedClient
    tokens: dict[str, str]

    def versioned(self, who: str, version: str) -> fhir.CheckedClient:
        """The same agency's client sending If-Match for the version it read (fhirpy does not itself)."""
        return fhir.client(self.port, self.tokens[who], **{"If-Match": f'W/"{version}"'})


async def _token(http: httpx.AsyncClient, agency: Agency) -> str:
    registered = await make_client(agency, SCOPES)
    form = {
        "grant_type": "client_credentials",
        "client_id": registered.client_id,
        "client_secret": "s3cret-value",
    }
    response = await http.post("/v1/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
async def partners(app: FastAPI, client: httpx.AsyncClient, net: Network) -> AsyncIterator[Partners]:
    tokens = {name: await _token(client, getattr(net, name)) for name in ("centre", "debt", "outsider")}
    async with serving(app) as port:
        clients = {name: fhir.client(port, token) for name, token in tokens.items()}
        yield Partners(port, clients["centre"], clients["debt"], clients["outsider"], tokens)


async def _refer(partners: Partners, net: Network) -> dict[str, Any]:
    bundle = fhir.referral_bundle(net.debt_service.id, net.centre.id, net.debt.id)
    answer: dict[str, Any] = await partners.centre.execute("", method="post", data=bundle)
    return answer


async def test_a_referral_from_bundle_to_completion(partners: Partners, net: Network) -> None:
    answer = await _refer(partners, net)
    assert answer["type"] == "transaction-response"
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created"] * 4
    task_id = fhir.located(answer, "Task")
    assert fhir.located(answer, "ServiceRequest") == task_id
    assert answer["entry"][2]["response"]["location"] == f"ServiceRequest/{task_id}/_history/1"

    worklist = partners.debt.resources("Task").search(owner=f"Organization/{net.debt.id}", status="requested")
    found = await worklist.include("Task", "focus").fetch_raw()
    assert [e["resource"]["id"] for e in found["entry"] if e["search"]["mode"] == "match"] == [task_id]
    assert [e["resource"]["resourceType"] for e in found["entry"] if e["search"]["mode"] == "include"] == [
        "ServiceRequest"
    ]

    task = await partners.debt.reference("Task", task_id).to_resource()
    assert task["status"] == "requested"
    assert task["owner"]["reference"] == f"Organization/{net.debt.id}"
    assert task["meta"]["versionId"] == "1"
    person = await partners.debt.reference("Patient", task["for"]["reference"].split("/")[1]).to_resource()
    assert person["name"][0]["family"] == "Example"

    task["status"] = "accepted"
    accepted = await partners.versioned("debt", "1").resource("Task", **task).save()
    assert accepted["status"] == "accepted"
    assert accepted["meta"]["versionId"] == "2"
    assert accepted["businessStatus"]["coding"][0]["code"] == "accepted"

    accepted["output"] = [_output("debt_plan_agreed")]
    with_outcome = await partners.versioned("debt", "2").resource("Task", **accepted).save()
    assert [o["type"]["coding"][0]["code"] for o in with_outcome["output"]] == ["debt_plan_agreed"]

    with_outcome["status"] = "completed"
    completed = await partners.versioned("debt", "2").resource("Task", **with_outcome).save()
    assert completed["status"] == "completed"
    assert len(completed["output"]) == 1

    seen = await partners.centre.reference("Task", task_id).to_resource()
    assert (seen["status"], seen["businessStatus"]["coding"][0]["code"]) == ("completed", "completed")
    request = await partners.centre.reference("ServiceRequest", task_id).to_resource()
    assert request["status"] == "completed"


def _output(outcome_type: str) -> dict[str, Any]:
    coded = {"coding": [{"system": fhir.OUTCOME_TYPES, "code": outcome_type}]}
    return {"type": coded, "valueCodeableConcept": coded}


async def test_a_rejection_needs_a_reason(partners: Partners, net: Network) -> None:
    task_id = fhir.located(await _refer(partners, net), "Task")
    task = await partners.debt.reference("Task", task_id).to_resource()
    task["status"] = "rejected"
    with pytest.raises(OperationOutcome) as refused:
        await partners.versioned("debt", "1").resource("Task", **task).save()
    issue = refused.value.resource["issue"][0]
    assert issue["expression"] == ["Task.statusReason.text"]

    task["statusReason"] = {"text": "Lives outside the area we serve."}
    rejected = await partners.versioned("debt", "1").resource("Task", **task).save()
    assert rejected["status"] == "rejected"
    assert rejected["statusReason"]["text"] == "Lives outside the area we serve."
    assert rejected["businessStatus"]["coding"][0]["code"] == "declined"
    seen = await partners.centre.reference("Task", task_id).to_resource()
    assert seen["statusReason"]["text"] == "Lives outside the area we serve."


async def test_a_stale_version_is_refused(partners: Partners, net: Network) -> None:
    task_id = fhir.located(await _refer(partners, net), "Task")
    task = await partners.debt.reference("Task", task_id).to_resource()
    task["status"] = "accepted"
    await partners.versioned("debt", "1").resource("Task", **task).save()
    task["status"] = "in-progress"
    with pytest.raises(MultipleResourcesFound):  # fhirpy's name for a 412
        await partners.versioned("debt", "1").resource("Task", **task).save()


async def test_an_agency_that_is_no_party_finds_and_reads_nothing(partners: Partners, net: Network) -> None:
    answer = await _refer(partners, net)
    task_id = fhir.located(answer, "Task")
    task = await partners.debt.reference("Task", task_id).to_resource()
    references = [
        ("Task", task_id),
        ("ServiceRequest", task_id),
        ("Patient", task["for"]["reference"].split("/")[1]),
        ("Consent", fhir.located(answer, "Consent")),
    ]
    for resource_type, resource_id in references:
        with pytest.raises(ResourceNotFound):
            await partners.outsider.reference(resource_type, resource_id).to_resource()
    assert await partners.outsider.resources("Task").fetch() == []
    assert (
        await partners.outsider.resources("ServiceRequest")
        .search(identifier=task["identifier"][0]["value"])
        .fetch()
        == []
    )
    assert (
        await partners.outsider.resources("Communication")
        .search(**{"based-on": f"ServiceRequest/{task_id}"})
        .fetch()
        == []
    )
