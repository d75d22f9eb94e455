"""FHIR search parameters as the filters of the services' lists.

A referral search is the caller's inbox, sent box or both (`owner` and `requester` say which),
narrowed like /v1's lists: the services only ever list the caller's own agency's referrals, so no
parameter can reach another's. A search that cannot match (two other agencies' referrals) finds
nothing without asking.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time

from app.errors import Unprocessable
from app.fhir import codes
from app.fhir.shapes import reference_id
from app.models.referral import ReferralStatus
from app.services.referrals import Box, BoxFilters

Status = ReferralStatus
# Every status of FHIR's Task, and the referral statuses each stands for (some, none).
TASK_STATUSES: dict[str, list[ReferralStatus]] = {
    name: [s for s, mapped in codes.TASK_STATUS.items() if mapped == name]
    for name in (
        "draft",
        "requested",
        "received",
        "accepted",
        "rejected",
        "ready",
        "cancelled",
        "in-progress",
        "on-hold",
        "failed",
        "completed",
        "entered-in-error",
    )
}
SERVICE_REQUEST_STATUSES: dict[str, list[ReferralStatus]] = {
    name: [s for s, mapped in codes.SERVICE_REQUEST_STATUS.items() if mapped == name]
    for name in ("draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown")
}


@dataclass(frozen=True, slots=True)
class Scope:
    """Which of the caller's boxes a search reads (None: both), and how it is narrowed."""

    box: Box | None
    filters: BoxFilters


def reference(value: str | None, resource_type: str, parameter: str) -> uuid.UUID | None:
    """A reference parameter's id: `Type/id`, a full URL or the bare id (422 for anything else)."""
    if value is None:
        return None
    found = reference_id(value if "/" in value else f"{resource_type}/{value}", resource_type)
    if found is None:
        raise Unprocessable.field(parameter, f"must name a {resource_type} ({resource_type}/{{id}})")
    return found


def token(value: str | None, parameter: str, system: str | None = None) -> str | None:
    """A token parameter's code (`code`, `|code` or `system|code`); another system matches nothing."""
    if value is None:
        return None
    named, separator, code = value.rpartition("|")
    if separator and named and system is not None and named != system:
        return ""
    if not code:
        raise Unprocessable.field(parameter, "must be a code, or system|code")
    return code


def statuses(
    value: str | None, parameter: str, table: dict[str, list[ReferralStatus]]
) -> list[Status] | None:
    """The referral statuses that the FHIR statuses asked for (comma-separated: any of them) stand for."""
    if value is None:
        return None
    found: list[Status] = []
    for part in value.split(","):
        code = token(part, parameter)
        if code not in table:
            raise Unprocessable.field(parameter, f"{code!r} is not one of: {', '.join(table)}")
        found += table[code]
    return found


def updated_after(value: str | None) -> datetime | None:
    """`_lastUpdated=gt...` (a time with its offset, or a day: after its end)."""
    if value is None:
        return None
    if not value.startswith("gt"):
        raise Unprocessable.field(
            "_lastUpdated", "only gt (changed after) is supported, as gt2026-11-20T10:00:00Z"
        )
    # A `+` left unencoded in a query string arrives as a space.
    # A `+` left unencoded in a query string arrives as a space.
    text = value[2:].replace("Z", "+00:00").replace(" ", "+").replace(" ", "+")
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        found = datetime.fromisoformat(text)
    except ValueError:
        raise Unprocessable.field("_lastUpdated", "gt and a date or a time with its offset") from None
    if found.tzinfo is None:
        raise Unprocessable.field("_lastUpdated", "a time needs its offset (Z, or +01:00)")
    return found


def scope(agency_id: uuid.UUID, owner: uuid.UUID | None, requester: uuid.UUID | None) -> Scope | None:
    """The box the owner (receiver) and requester (sender) name, as seen by the caller's agency."""
    base = BoxFilters()
    if owner and requester:
        if owner == agency_id and requester != agency_id:
            return Scope(Box.INBOX, replace(base, from_agency_id=requester))
        if requester == agency_id and owner != agency_id:
            return Scope(Box.SENT, replace(base, to_agency_id=owner))
        return None  # between two other agencies, or an agency to itself: never the caller's
    if owner:
        return (
            Scope(Box.INBOX, base)
            if owner == agency_id
            else Scope(Box.SENT, replace(base, to_agency_id=owner))
        )
    if requester:
        if requester == agency_id:
            return Scope(Box.SENT, base)
        return Scope(Box.INBOX, replace(base, from_agency_id=requester))
    return Scope(None, base)


def narrowed(found: Scope | None, **filters: object) -> Scope | None:
    """The scope with more filters; None (nothing) stays nothing, and so does an empty status list."""
    if found is None or filters.get("statuses") == [] or filters.get("reference") == "":
        return None
    given = {name: value for name, value in filters.items() if value is not None}
    return Scope(found.box, replace(found.filters, **given))  # type: ignore[arg-type]
