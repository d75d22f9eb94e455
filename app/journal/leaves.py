"""What a leaf of the audit log is: an event's RFC 8785 canonical JSON, hashed as RFC 9162 says."""

import json
from typing import Any, Protocol

import rfc8785

from app.db import format_time
from app.journal.merkle import leaf_hash

_EXACT_INTEGER = 2**53 - 1  # RFC 8785 numbers are IEEE doubles


class LeafSource(Protocol):
    """The stored columns of an audit event that its leaf covers."""

    at: Any
    actor_kind: Any
    actor_id: str | None
    actor_agency_id: Any
    action: str
    entity_type: str
    entity_id: str | None
    referral_id: Any
    subject_id: Any
    details: Any


LEAF_COLUMNS = tuple(LeafSource.__annotations__)


def _plain(value: object) -> bool:
    """Whether `json.dumps` writes `value` exactly as RFC 8785 does (see docs/architecture.md)."""
    if value is None or isinstance(value, str | bool):
        return True
    if isinstance(value, int):
        return -_EXACT_INTEGER <= value <= _EXACT_INTEGER
    if isinstance(value, list | tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and k.isascii() and _plain(v) for k, v in value.items())
    return False


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON: by the standard library's C encoder where its output is the same."""
    if _plain(value):
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not UTF-8, refused below as the reference does
            pass
    return bytes(rfc8785.dumps(value))


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)


def leaf_document(event: LeafSource) -> dict[str, Any]:
    """The event as its wire shape shows it, without `seq` and `leaf_hash`."""
    return {
        "at": format_time(event.at),
        "actor": {
            "kind": str(event.actor_kind),
            "id": event.actor_id,
            "agency_id": _text(event.actor_agency_id),
        },
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "referral_id": _text(event.referral_id),
        "subject_id": _text(event.subject_id),
        "details": event.details,
    }


def event_leaf_hash(event: LeafSource) -> bytes:
    """SHA-256(0x00 || RFC 8785 JSON of the event without `seq` and `leaf_hash`)."""
    return leaf_hash(canonical_json(leaf_document(event)))
