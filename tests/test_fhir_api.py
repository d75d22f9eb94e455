"""The FHIR facade over the same services as /v1: what it answers, what it refuses and what it audits.

Every response with a FHIR body is checked against R4 (tests/support/fhir.py) by a hook on the client.
"""

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import col

from app.models.audit import AuditEvent
from app.models.consent import Consent
from app.models.directory import Purpose
from app.models.identity import Role
from app.models.referral import Referral
from app.models.subject import Subject
from app.unit_of_work import committed
from tests.support import fhir
from tests.support.factories import back_minted_token, bearer, make_service, seal
from tests.support.referral_helpers import Network, create_referral

FHIR = "/fhir/R4"


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every FHIR answer is validated before the test sees it."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    hooks: dict[str, list[Callable[..., Any]]] = {
        "request": [back_minted_token],
        "response": [fhir.validate_response],
    }
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks=hooks
    ) as client:
        yield client


def _headers(net: Network, who: str = "centre", **more: str) -> dict[str, str]:
    return {**getattr(net, f"{who}_headers"), "Content-Type": "application/fhir+json", **more}


async def _create(http: httpx.AsyncClient, net: Network, **more: str) -> dict[str, Any]:
    bundle = fhir.referral_bundle(net.debt_service.id, net.centre.id, net.debt.id)
    response = await http.post(FHIR, json=bundle, headers=_headers(net, **more))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _count(model: Any) -> int:
    async def work(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model)))

    return await committed(work)


async def _actions(referral_id: str) -> list[str]:
    async def work(session: Any) -> list[str]:
        query = select(col(AuditEvent.action)).where(col(AuditEvent.referral_id) == uuid.UUID(referral_id))
        return list((await session.execute(query.order_by(col(AuditEvent.id)))).scalars())

    return await committed(work)


async def test_the_capability_statement_needs_no_token(http: httpx.AsyncClient) -> None:
    response = await http.get(f"{FHIR}/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    statement = response.json()
    assert statement["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(resources) == {
        "Task",
        "ServiceRequest",
        "Patient",
        "Consent",
        "Organization",
        "HealthcareService",
        "Communication",
        "CodeSystem",
    }
    assert {p["name"] for p in resources["Task"]["searchParam"]} >= {"owner", "requester", "status", "focus"}
    assert resources["Task"]["searchInclude"] == ["Task:focus"]
    assert statement["rest"][0]["interaction"] == [{"code": "transaction"}]


async def test_a_bundle_makes_one_referral_as_v1_does(http: httpx.AsyncClient, net: Network) -> None:
    answer = await _create(http, net)
    referral_id = fhir.located(answer, "ServiceRequest")
    v1 = await http.get(f"/v1/referrals/{referral_id}", headers=net.debt_headers)
    assert v1.json()["status"] == "submitted"
    assert v1.json()["urgency"] == "soon"
    assert v1.json()["subject"]["nhs_number"] == "9434765919"
    assert fhir.located(answer, "Patient") == v1.json()["subject"]["id"]
    assert fhir.located(answer, "Consent") == v1.json()["consent_id"]
    assert await _actions(referral_id) == ["referral.created", "referral.viewed"]

    task = await http.get(f"{FHIR}/Task/{referral_id}", headers=net.debt_headers)
    assert task.headers["etag"] == 'W/"1"'
    assert task.json()["owner"]["reference"] == f"Organization/{net.debt.id}"
    assert task.json()["priority"] == "urgent"
    assert (await _actions(referral_id))[-1] == "referral.viewed"


async def test_every_resource_of_the_referral_reads(http: httpx.AsyncClient, net: Network) -> None:
    answer = await _create(http, net)
    for resource_type in ("ServiceRequest", "Task", "Patient", "Consent"):
        resource_id = fhir.located(answer, resource_type)
        for who in ("centre", "debt"):
            response = await http.get(f"{FHIR}/{resource_type}/{resource_id}", headers=_headers(net, who))
            assert response.status_code == 200, response.text
            assert response.headers["etag"] == f'W/"{response.json()["meta"]["versionId"]}"'
            missing = await http.get(
                f"{FHIR}/{resource_type}/{resource_id}", headers=_headers(net, "outsider")
            )
            assert missing.status_code == 404
            assert "Natalie" not in missing.text
            assert resource_id in missing.text
    patient = (
        await http.get(f"{FHIR}/Patient/{fhir.located(answer, 'Patient')}", headers=net.debt_headers)
    ).json()
    assert patient["identifier"] == [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}]
    assert patient["telecom"][0] == {"system": "phone", "value": "07700900123", "rank": 1}
    consent = (
        await http.get(f"{FHIR}/Consent/{fhir.located(answer, 'Consent')}", headers=net.debt_headers)
    ).json()
    assert consent["status"] == "active"
    assert consent["patient"]["reference"] == f"Patient/{patient['id']}"
    assert [c["code"] for c in consent["provision"]["purpose"]] == ["debt_advice"]


async def test_the_same_idempotency_key_replays_the_first_answer(
    http: httpx.AsyncClient, net: Network
) -> None:
    first = await _create(http, net, **{"Idempotency-Key": "bundle-1"})
    second = await _create(http, net, **{"Idempotency-Key": "bundle-1"})
    assert first == second
    assert await _count(Referral) == 1
    other = fhir.referral_bundle(net.debt_service.id, net.centre.id, reason_code=None)
    other["entry"][2]["resource"]["priority"] = "routine"
    reused = await http.post(FHIR, json=other, headers=_headers(net, **{"Idempotency-Key": "bundle-1"}))
    assert reused.status_code == 422


async def test_a_second_open_referral_for_the_person_is_a_conflict(
    http: httpx.AsyncClient, net: Network
) -> None:
    first = await _create(http, net)
    bundle = fhir.referral_bundle(net.debt_service.id, net.centre.id)
    again = await http.post(FHIR, json=bundle, headers=_headers(net))
    assert again.status_code == 409
    issue = again.json()["issue"][0]
    assert issue["code"] == "duplicate"
    assert f"ServiceRequest/{fhir.located(first, 'ServiceRequest')}" in issue["diagnostics"]
    assert issue["expression"] == ["Bundle.entry[2].resource.subject"]


async def _refused(
    http: httpx.AsyncClient, net: Network, bundle: dict[str, Any], status: int = 422
) -> dict[str, Any]:
    response = await http.post(FHIR, json=bundle, headers=_headers(net))
    assert response.status_code == status, response.text
    issue: dict[str, Any] = response.json()["issue"][0]
    return issue


async def test_faults_in_a_bundle_name_the_element(http: httpx.AsyncClient, net: Network) -> None:
    service, agency = net.debt_service.id, net.centre.id
    wrong_nhs = fhir.patient(
        identifier=[{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765918"}]
    )
    cases = [
        (
            fhir.bundle(wrong_nhs, fhir.consent(), fhir.service_request(service, agency)),
            "Bundle.entry[0].resource.identifier[0].value",
        ),
        (
            fhir.bundle(
                fhir.patient(), fhir.consent(("benefits_advice",)), fhir.service_request(service, agency)
            ),
            "Bundle.entry[1].resource.provision.purpose",
        ),
        (
            fhir.bundle(
                fhir.patient(),
                fhir.consent(),
                fhir.service_request(service, agency),
                {"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
            ),
            "Bundle.entry[3].resource.resourceType",
        ),
        (
            fhir.bundle(
                fhir.patient(),
                fhir.consent(),
                fhir.service_request(service, agency),
                {"resourceType": "Nonsense"},
            ),
            "Bundle.entry[3].resource.resourceType",
        ),
        (
            fhir.bundle(
                fhir.patient(birthDate="1994-13-02"), fhir.consent(), fhir.service_request(service, agency)
            ),
            "Bundle.entry[0].resource.birthDate",
        ),
        (fhir.bundle(fhir.patient(), fhir.consent()), "Bundle.entry"),
        ({**fhir.referral_bundle(service, agency), "type": "batch"}, "Bundle.type"),
        (
            fhir.bundle(
                fhir.patient(),
                fhir.consent(),
                fhir.service_request(service, agency, requester={"reference": f"Organization/{net.debt.id}"}),
            ),
            "Bundle.entry[2].resource.requester",
        ),
        (
            fhir.bundle(fhir.patient(), fhir.consent(), fhir.service_request(service, agency, note=[])),
            "Bundle.entry[2].resource.note",
        ),
    ]
    for bundle, element in cases:
        issue = await _refused(http, net, bundle)
        assert issue["expression"] == [element], (element, issue)
        assert issue["code"] == "invalid"
    assert await _count(Referral) == await _count(Subject) == await _count(Consent) == 0


async def test_a_service_not_accepting_referrals_is_a_conflict(http: httpx.AsyncClient, net: Network) -> None:
    closed = await make_service(net.debt, name="Closed for now", accepting_referrals=False)
    bundle = fhir.referral_bundle(closed.id, net.centre.id)
    issue = await _refused(http, net, bundle, status=409)
    assert issue["expression"] == ["Bundle.entry[2].resource.performer[0]"]
    assert await _count(Referral) == await _count(Subject) == await _count(Consent) == 0


async def test_a_task_owned_by_another_agency_undoes_the_whole_bundle(
    http: httpx.AsyncClient, net: Network
) -> None:
    bundle = fhir.referral_bundle(net.debt_service.id, net.centre.id, owner_id=net.outsider.id)
    issue = await _refused(http, net, bundle)
    assert issue["expression"] == ["Bundle.entry[3].resource.owner"]
    assert await _count(Referral) == await _count(Subject) == await _count(Consent) == 0


async def test_malformed_requests(http: httpx.AsyncClient, net: Network) -> None:
    not_json = await http.post(FHIR, content=b"{", headers=_headers(net))
    assert not_json.status_code == 422
    not_a_bundle = await http.post(FHIR, json=fhir.patient(), headers=_headers(net))
    assert not_a_bundle.status_code == 422
    assert not_a_bundle.json()["issue"][0]["expression"] == ["Bundle.resourceType"]
    as_text = await http.post(
        FHIR, content=b"{}", headers={**net.centre_headers, "Content-Type": "text/plain"}
    )
    assert as_text.status_code == 415
    as_xml = await http.get(f"{FHIR}/metadata", headers={"Accept": "application/fhir+xml"})
    assert as_xml.status_code == 406
    unknown = await http.get(f"{FHIR}/Observation/1", headers=net.centre_headers)
    assert unknown.status_code == 404
    assert unknown.json()["issue"][0]["code"] == "not-found"
    not_offered = await http.delete(f"{FHIR}/Task/{uuid.uuid4()}", headers=net.centre_headers)
    assert not_offered.status_code == 405
    no_token = await http.get(f"{FHIR}/Task/{uuid.uuid4()}")
    assert no_token.status_code == 401
    assert no_token.json()["issue"][0]["code"] == "login"
    misspelt = await http.get(f"{FHIR}/Task", params={"ownr": "x"}, headers=net.centre_headers)
    assert misspelt.status_code == 422


async def _task(http: httpx.AsyncClient, net: Network, referral_id: str, who: str = "debt") -> dict[str, Any]:
    response = await http.get(f"{FHIR}/Task/{referral_id}", headers=_headers(net, who))
    task: dict[str, Any] = response.json()
    return task


async def _put(
    http: httpx.AsyncClient, net: Network, task: dict[str, Any], who: str = "debt", **headers: str
) -> httpx.Response:
    return await http.put(f"{FHIR}/Task/{task['id']}", json=task, headers=_headers(net, who, **headers))


async def test_task_updates_go_through_the_state_machine(http: httpx.AsyncClient, net: Network) -> None:
    referral_id = fhir.located(await _create(http, net), "Task")
    task = await _task(http, net, referral_id)
    missing = await _put(http, net, {**task, "status": "accepted"})
    assert missing.status_code == 428
    cancelled_by_receiver = await _put(
        http, net, {**task, "status": "cancelled", "statusReason": {"text": "x"}}, **{"If-Match": 'W/"1"'}
    )
    assert cancelled_by_receiver.status_code == 403
    completed_too_soon = await _put(http, net, {**task, "status": "completed"}, **{"If-Match": 'W/"1"'})
    assert completed_too_soon.status_code == 409
    assert completed_too_soon.json()["issue"][0]["code"] == "business-rule"
    accepted = await _put(http, net, {**task, "status": "accepted"}, **{"If-Match": 'W/"1"'})
    assert accepted.status_code == 200
    assert accepted.headers["etag"] == 'W/"2"'
    stale = await _put(http, net, {**task, "status": "in-progress"}, **{"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert stale.headers["etag"] == 'W/"2"'
    assert (await _actions(referral_id)).count("referral.transitioned") == 1


async def test_the_sender_cancels_with_a_reason(http: httpx.AsyncClient, net: Network) -> None:
    referral_id = fhir.located(await _create(http, net), "Task")
    task = await _task(http, net, referral_id, "centre")
    no_reason = await _put(http, net, {**task, "status": "cancelled"}, "centre", **{"If-Match": 'W/"1"'})
    assert no_reason.status_code == 422
    reason = {
        "text": "The family moved away.",
        "coding": [{"system": f"{fhir.BASE}/fhir/CodeSystem/cancel-reason", "code": "person_moved"}],
    }
    cancelled = await _put(
        http, net, {**task, "status": "cancelled", "statusReason": reason}, "centre", **{"If-Match": 'W/"1"'}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["statusReason"]["text"] == "The family moved away."
    request = await http.get(f"{FHIR}/ServiceRequest/{referral_id}", headers=net.debt_headers)
    assert request.json()["status"] == "revoked"


async def test_consent_withdrawn_cancels_the_task(http: httpx.AsyncClient, net: Network) -> None:
    answer = await _create(http, net)
    consent_id = fhir.located(answer, "Consent")
    await http.post(f"/v1/consents/{consent_id}/withdraw", json={}, headers=net.centre_headers)
    task = await _task(http, net, fhir.located(answer, "Task"))
    assert (task["status"], task["statusReason"]["text"]) == ("cancelled", "Consent withdrawn")
    assert task["businessStatus"]["coding"][0]["code"] == "withdrawn"
    consent = await http.get(f"{FHIR}/Consent/{consent_id}", headers=net.debt_headers)
    assert consent.json()["status"] == "inactive"


async def test_messages_as_communications(http: httpx.AsyncClient, net: Network) -> None:
    referral_id = fhir.located(await _create(http, net), "ServiceRequest")
    message = {
        "resourceType": "Communication",
        "status": "completed",
        "basedOn": [{"reference": f"ServiceRequest/{referral_id}"}],
        "payload": [{"contentString": "Can you see her on Tuesday?"}],
    }
    posted = await http.post(f"{FHIR}/Communication", json=message, headers=_headers(net))
    assert posted.status_code == 201, posted.text
    assert posted.json()["sender"]["reference"] == f"Organization/{net.centre.id}"
    v1 = await http.get(f"/v1/referrals/{referral_id}/messages", headers=net.debt_headers)
    assert [m["body"] for m in v1.json()["items"]] == ["Can you see her on Tuesday?"]
    thread = await http.get(
        f"{FHIR}/Communication",
        params={"based-on": f"ServiceRequest/{referral_id}"},
        headers=net.debt_headers,
    )
    assert [e["resource"]["payload"][0]["contentString"] for e in thread.json()["entry"]] == [
        "Can you see her on Tuesday?"
    ]
    one = await http.get(f"{FHIR}/Communication/{posted.json()['id']}", headers=net.debt_headers)
    assert one.status_code == 200
    theirs = await http.get(f"{FHIR}/Communication/{posted.json()['id']}", headers=net.outsider_headers)
    assert theirs.status_code == 404
    by_outsider = await http.post(f"{FHIR}/Communication", json=message, headers=_headers(net, "outsider"))
    assert by_outsider.status_code == 404
    empty = await http.post(
        f"{FHIR}/Communication", json={**message, "payload": [{"contentString": ""}]}, headers=_headers(net)
    )
    assert empty.status_code == 422


async def test_searches_page_and_poll(http: httpx.AsyncClient, net: Network) -> None:
    first = await create_referral(http, net)
    second = await create_referral(http, net, subject={**fhir_subject(), "given_name": "Nia"})
    page = await http.get(
        f"{FHIR}/Task",
        params={"owner": f"Organization/{net.debt.id}", "_count": "1"},
        headers=net.debt_headers,
    )
    bundle = page.json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == [second["id"]]
    following = next(link["url"] for link in bundle["link"] if link["relation"] == "next")
    rest = await http.get(following, headers=net.debt_headers)
    assert [e["resource"]["id"] for e in rest.json()["entry"]] == [first["id"]]
    assert not [link for link in rest.json()["link"] if link["relation"] == "next"]

    changed = await http.get(
        f"{FHIR}/Task", params={"_lastUpdated": f"gt{second['updated_at']}"}, headers=net.debt_headers
    )
    assert "entry" not in changed.json()
    by_reference = await http.get(
        f"{FHIR}/ServiceRequest", params={"identifier": first["reference"]}, headers=net.centre_headers
    )
    assert [e["resource"]["id"] for e in by_reference.json()["entry"]] == [first["id"]]
    sent = await http.get(
        f"{FHIR}/ServiceRequest",
        params={"requester": f"Organization/{net.centre.id}", "status": "active"},
        headers=net.centre_headers,
    )
    assert len(sent.json()["entry"]) == 2
    between_others = await http.get(
        f"{FHIR}/Task", params={"owner": f"Organization/{net.debt.id}"}, headers=net.outsider_headers
    )
    assert "entry" not in between_others.json()


def fhir_subject() -> dict[str, Any]:
    from tests.support.referral_helpers import subject_body

    return subject_body()


async def test_the_directory(http: httpx.AsyncClient, net: Network) -> None:
    organization = await http.get(f"{FHIR}/Organization/{net.debt.id}", headers=net.centre_headers)
    assert organization.json()["name"] == "North Wales Debt Advice"
    found = await http.get(f"{FHIR}/Organization", params={"name": "north wales"}, headers=net.centre_headers)
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [str(net.debt.id)]
    services = await http.get(
        f"{FHIR}/HealthcareService", params={"service-category": "debt_advice"}, headers=net.centre_headers
    )
    service = services.json()["entry"][0]["resource"]
    assert service["providedBy"]["reference"] == f"Organization/{net.debt.id}"
    assert service["active"] is True
    one = await http.get(f"{FHIR}/HealthcareService/{net.debt_service.id}", headers=net.centre_headers)
    assert one.json()["name"] == "Money advice"


async def test_code_systems_are_published(http: httpx.AsyncClient) -> None:
    purposes = await http.get(f"{FHIR}/CodeSystem/purpose")
    assert purposes.status_code == 200
    assert purposes.json()["url"] == fhir.PURPOSES
    assert "debt_advice" in [c["code"] for c in purposes.json()["concept"]]
    canonical = await http.get("/fhir/CodeSystem/referral-status", follow_redirects=True)
    assert canonical.json()["url"] == fhir.STATUSES
    missing = await http.get(f"{FHIR}/CodeSystem/nonsense")
    assert missing.status_code == 404


async def test_an_oversized_body_is_an_operation_outcome(http: httpx.AsyncClient, net: Network) -> None:
    response = await http.post(FHIR, content=b"{" + b" " * 70_000 + b"}", headers=_headers(net))
    assert response.status_code == 413
    assert response.json()["issue"][0]["code"] == "too-costly"


def _coded(outcome_type: str, **extensions: str) -> dict[str, Any]:
    concept = {"coding": [{"system": fhir.OUTCOME_TYPES, "code": outcome_type}]}
    output: dict[str, Any] = {"type": concept, "valueCodeableConcept": concept}
    urls = {"occurred_on": ("outcome-occurred-on", "valueDate"), "note": ("outcome-note", "valueString")}
    output["extension"] = [
        {"url": f"{fhir.BASE}/fhir/StructureDefinition/{urls[k][0]}", urls[k][1]: v}
        for k, v in extensions.items()
    ]
    return output


async def test_outputs_record_outcomes(http: httpx.AsyncClient, net: Network) -> None:
    referral_id = fhir.located(await _create(http, net), "Task")
    task = await _task(http, net, referral_id)
    early = await _put(http, net, {**task, "output": [_coded("debt_plan_agreed")]}, **{"If-Match": 'W/"1"'})
    assert early.status_code == 409  # outcomes follow acceptance, as in /v1
    accepted = (await _put(http, net, {**task, "status": "accepted"}, **{"If-Match": 'W/"1"'})).json()
    done = _coded("debt_plan_agreed", occurred_on="2026-12-01", note="Plan with two creditors.")
    completed = await _put(
        http, net, {**accepted, "status": "completed", "output": [done]}, **{"If-Match": 'W/"2"'}
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "completed"
    v1 = (await http.get(f"/v1/referrals/{referral_id}/outcomes", headers=net.centre_headers)).json()
    assert [(o["type"], o["occurred_on"], o["note"]) for o in v1["items"]] == [
        ("debt_plan_agreed", "2026-12-01", "Plan with two creditors.")
    ]
    read = await _task(http, net, referral_id, "centre")
    assert [o["id"] for o in read["output"]] == [v1["items"][0]["id"]]
    later = {**read, "output": [*read["output"], _coded("job_entry", occurred_on="2026-12-05")]}
    again = await _put(http, net, later, "centre", **{"If-Match": f'W/"{read["meta"]["versionId"]}"'})
    assert len(again.json()["output"]) == 2  # either party records outcomes, also after completion
    unknown = {**read, "output": [{**_coded("job_entry"), "id": str(uuid.uuid4())}]}
    refused = await _put(http, net, unknown, **{"If-Match": f'W/"{read["meta"]["versionId"]}"'})
    assert refused.json()["issue"][0]["expression"] == ["Task.output[0].id"]
    mixed = {**_coded("job_entry"), "valueCodeableConcept": _coded("volunteering")["type"]}
    mismatched = await _put(
        http, net, {**read, "output": [mixed]}, **{"If-Match": f'W/"{read["meta"]["versionId"]}"'}
    )
    assert mismatched.json()["issue"][0]["expression"] == ["Task.output[0]"]


async def test_fhir_reads_and_writes_are_audited_as_v1_audits_them(
    http: httpx.AsyncClient, net: Network
) -> None:
    answer = await _create(http, net)
    referral_id = fhir.located(answer, "Task")
    await http.get(f"{FHIR}/Patient/{fhir.located(answer, 'Patient')}", headers=net.debt_headers)
    task = await _task(http, net, referral_id)
    await _put(
        http,
        net,
        {**task, "status": "accepted", "output": [_coded("engaged_with_service")]},
        **{"If-Match": 'W/"1"'},
    )
    await _task(http, net, referral_id, "centre")
    assert await _actions(referral_id) == [
        "referral.created",
        "referral.viewed",  # the Patient, as part of the referral
        "referral.viewed",  # the Task
        "referral.transitioned",
        "outcome.recorded",
        "referral.viewed",  # the centre's Task, with its outcome
        "outcome.listed",
    ]
    await http.get(f"{FHIR}/Task", params={"status": "accepted"}, headers=net.debt_headers)

    async def listed(session: Any) -> list[Any]:
        query = select(AuditEvent).where(col(AuditEvent.action) == "referral.listed")
        return [e.details for e in (await session.execute(query)).scalars()]

    assert await committed(listed) == [{"box": "all", "referral_ids": [referral_id]}]


async def test_a_task_change_is_an_event_naming_the_task(http: httpx.AsyncClient, net: Network) -> None:
    referral_id = fhir.located(await _create(http, net), "Task")
    task = await _task(http, net, referral_id)
    await _put(http, net, {**task, "status": "accepted"}, **{"If-Match": 'W/"1"'})
    await seal()
    feed = (await http.get("/v1/events", headers=net.centre_headers)).json()["items"]
    changed = [e for e in feed if e["type"] == "referral.status_changed"]
    assert [(e["referral_id"], e["status"]) for e in changed] == [(referral_id, "accepted")]


async def test_an_nhs_agency_is_known_by_its_ods_code_and_welsh_name(
    http: httpx.AsyncClient, net: Network
) -> None:
    admin = bearer(None, Role.PLATFORM_ADMIN)
    body = {"name": "Wrexham Health Visiting Team", "kind": "health_visiting", "local_authority": "Wrexham"}
    made = await http.post(
        "/v1/agencies",
        json={**body, "name_cy": "Tîm Ymwelwyr Iechyd Wrecsam", "ods_code": "y02494"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    assert made.json()["ods_code"] == "Y02494"
    wrong = await http.post("/v1/agencies", json={**body, "ods_code": "not an ods code"}, headers=admin)
    assert wrong.status_code == 422
    organization = (
        await http.get(f"{FHIR}/Organization/{made.json()['id']}", headers=net.centre_headers)
    ).json()
    assert {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y02494"} in organization[
        "identifier"
    ]
    translation = organization["_name"]["extension"][0]
    assert translation["url"] == "http://hl7.org/fhir/StructureDefinition/translation"
    assert {"url": "content", "valueString": "Tîm Ymwelwyr Iechyd Wrecsam"} in translation["extension"]
    found = await http.get(
        f"{FHIR}/Organization", params={"name:contains": "ymwelwyr"}, headers=net.centre_headers
    )
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [made.json()["id"]]


async def test_an_onward_referral_names_the_one_it_came_from(http: httpx.AsyncClient, net: Network) -> None:
    first = await create_referral(http, net)
    training = await make_service(net.outsider, [Purpose.JOB_SEARCH_SUPPORT], name="Work coach")
    onward = fhir.bundle(
        fhir.patient(),
        fhir.consent(("job_search_support",)),
        fhir.service_request(
            training.id,
            net.debt.id,
            "job_search_support",
            basedOn=[{"reference": f"ServiceRequest/{first['id']}"}],
        ),
    )
    made = await http.post(FHIR, json=onward, headers=_headers(net, "debt"))
    assert made.status_code == 200, made.text
    referral_id = fhir.located(made.json(), "ServiceRequest")
    as_sender = await http.get(f"{FHIR}/ServiceRequest/{referral_id}", headers=net.debt_headers)
    assert as_sender.json()["basedOn"] == [{"reference": f"ServiceRequest/{first['id']}"}]
    as_receiver = await http.get(f"{FHIR}/ServiceRequest/{referral_id}", headers=net.outsider_headers)
    assert "basedOn" not in as_receiver.json()
    not_received = await http.post(FHIR, json=onward, headers=_headers(net, "outsider"))
    assert not_received.status_code == 422
