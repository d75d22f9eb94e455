"""Messages between the two agencies on a referral, as FHIR Communications based on its ServiceRequest."""

import uuid

from app.fhir.inbound import Entry, required, single
from app.fhir.shapes import Json, pruned, ref, reference_id
from app.fhir.wire import instant, meta
from app.models.message import MessagePublic
from app.models.referral import Referral


def communication(message: MessagePublic, referral: Referral) -> Json:
    """One message: from one party's Organization to the other's, about the referral's Patient."""
    other = (
        referral.to_agency_id
        if message.from_agency_id == referral.from_agency_id
        else referral.from_agency_id
    )
    return pruned(
        {
            "resourceType": "Communication",
            "id": str(message.id),
            "meta": meta(1, message.created_at),  # a message never changes
            "basedOn": [ref("ServiceRequest", message.referral_id)],
            "status": "completed",
            "subject": ref("Patient", referral.person.id),
            "sent": instant(message.created_at),
            "recipient": [ref("Organization", other)],
            "sender": ref("Organization", message.from_agency_id),
            "payload": [{"contentString": message.body}],
        }
    )


def referral_of(entry: Entry) -> uuid.UUID:
    """The referral a new Communication is about: its `basedOn` ServiceRequest."""
    based_on = single(entry.resource.get("basedOn"), f"{entry.at}.basedOn", "the referral's ServiceRequest")
    referral_id = reference_id(based_on, "ServiceRequest")
    if referral_id is None:
        raise required(f"{entry.at}.basedOn[0]", "a reference to the referral (ServiceRequest/{id})")
    return referral_id


def message_body(entry: Entry, agency_id: uuid.UUID) -> Json:
    """The text of a new Communication, sent by the caller's own agency, as /v1's message body."""
    resource, at = entry.resource, entry.at
    if resource.get("status") != "completed":
        raise required(f"{at}.status", "must be completed: the message is sent when it is posted")
    sender = resource.get("sender")
    if sender is not None and reference_id(sender, "Organization") != agency_id:
        raise required(f"{at}.sender", f"must be your own agency (Organization/{agency_id}), or left out")
    payload = single(resource.get("payload"), f"{at}.payload", "the message as contentString")
    return {"body": payload.get("contentString")}
