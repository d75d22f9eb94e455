"""A referral as FHIR: the ServiceRequest it is and the Task that is its workflow.

Each is built from what the services return to the caller (`ReferralPublic`, the referral's own
record of the person, its outcomes), so FHIR shows the same filtered view as /v1. Versions are the
referral's: `meta.versionId` and the ETag change with every status change and correction, as the
/v1 ETag does; outcomes and messages change `lastUpdated` only, as they leave /v1's version as it is.
"""

from app.fhir import codes
from app.fhir.shapes import Json, pruned, ref, referral_identifier
from app.fhir.wire import day, instant, meta
from app.models.outcome import OutcomePublic
from app.models.referral import ReferralPublic, ReferralStatus, StatusChangePublic

Status = ReferralStatus
# The statuses whose Task says why (`statusReason`).
REASONED = frozenset({Status.DECLINED, Status.CANCELLED, Status.WITHDRAWN})


def service_request(public: ReferralPublic) -> Json:
    """The referral as the request it is: for whom, from whom, to which service, why and how soon."""
    return pruned(
        {
            "resourceType": "ServiceRequest",
            "id": str(public.id),
            "meta": meta(public.version, public.updated_at),
            "identifier": [referral_identifier(public.reference)],
            "basedOn": [ref("ServiceRequest", public.parent_referral_id)]
            if public.parent_referral_id
            else [],
            "status": codes.SERVICE_REQUEST_STATUS[public.status],
            "intent": "order",
            "category": [codes.concept("purpose", public.purpose)],
            "priority": codes.PRIORITY[public.urgency],
            "orderDetail": [codes.concept("handover-mode", public.handover_mode)],
            "subject": ref("Patient", public.subject.id),
            "occurrenceDateTime": instant(public.appointment.starts_at) if public.appointment else None,
            "authoredOn": instant(public.created_at),
            "requester": ref("Organization", public.from_agency_id),
            "performer": [ref("HealthcareService", public.to_service_id)],
            "supportingInfo": [ref("Consent", public.consent_id)],
            "note": [{"text": public.reason}],
        }
    )


def task(
    public: ReferralPublic,
    outputs: list[OutcomePublic] | None,
    reason: StatusChangePublic | None,
) -> Json:
    """The referral's workflow: owned by the receiving agency from the start, with its outcomes.

    `outputs` None leaves them out (a search result): the Task is marked SUBSETTED when it has any.
    """
    resource: Json = {
        "resourceType": "Task",
        "id": str(public.id),
        "meta": _task_meta(public, outputs),
        "identifier": [referral_identifier(public.reference)],
        "basedOn": [ref("ServiceRequest", public.id)],
        "status": codes.TASK_STATUS[public.status],
        "statusReason": status_reason(public.status, reason),
        "businessStatus": codes.concept("referral-status", public.status),
        "intent": "order",
        "priority": codes.PRIORITY[public.urgency],
        "code": codes.TASK_CODE,
        "focus": ref("ServiceRequest", public.id),
        "for": ref("Patient", public.subject.id),
        "authoredOn": instant(public.created_at),
        "lastModified": instant(public.updated_at),
        "requester": ref("Organization", public.from_agency_id),
        "owner": ref("Organization", public.to_agency_id),
        "restriction": {"period": {"end": instant(public.due_by)}},
        "output": [output(o) for o in outputs or []],
    }
    return pruned(resource)


def _task_meta(public: ReferralPublic, outputs: list[OutcomePublic] | None) -> Json:
    found = meta(public.version, public.updated_at)
    if outputs is None and public.outcome_count:  # a search result without its outputs
        found["tag"] = [codes.SUBSETTED]
    return found


def status_reason(status: ReferralStatus, change: StatusChangePublic | None) -> Json | None:
    """Why the referral was declined, cancelled or withdrawn: its code, and the note (or the code's words)."""
    if status == Status.WITHDRAWN:
        return {"text": codes.WITHDRAWN_REASON}
    if status not in REASONED:
        return None
    system = "decline-reason" if status == Status.DECLINED else "cancel-reason"
    code = change.reason_code if change else None
    found: Json = {"coding": [codes.coding(system, code)]} if code else {}
    found["text"] = (change.note if change else None) or codes.display(code or status.value)
    return found


def output(outcome: OutcomePublic) -> Json:
    """One outcome as a Task output: type and value coded with the outcome type; its id is the outcome's."""
    concept = codes.concept("outcome-type", outcome.type)
    extensions = [
        {"url": codes.extension("outcome-occurred-on"), "valueDate": day(outcome.occurred_on)},
        {"url": codes.extension("outcome-note"), "valueString": outcome.note},
        {
            "url": codes.extension("outcome-recorded-by"),
            "valueReference": ref("Organization", outcome.recorded_by_agency_id),
        },
    ]
    return {"id": str(outcome.id), "extension": extensions, "type": concept, "valueCodeableConcept": concept}
