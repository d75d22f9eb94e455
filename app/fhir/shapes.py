"""The small shapes every resource is made of: references, identifiers, and leaving out the empty."""

import uuid
from typing import Any

from app.fhir import codes

Json = dict[str, Any]


def ref(resource_type: str, resource_id: uuid.UUID | str) -> Json:
    return {"reference": f"{resource_type}/{resource_id}"}


def reference_id(value: Json | str | None, resource_type: str) -> uuid.UUID | None:
    """The id in `Type/id` (or a full URL ending in it), if it names a resource of that type."""
    text = value.get("reference") if isinstance(value, dict) else value
    if not isinstance(text, str):
        return None
    kind, _, found = text.rstrip("/").rpartition("/")
    if kind.rpartition("/")[2] != resource_type:
        return None
    try:
        return uuid.UUID(found)
    except ValueError:
        return None


def reference_ids(value: str, resource_type: str) -> uuid.UUID | None:
    """A search parameter's reference: `Type/id`, a full URL or the bare id."""
    return reference_id(value if "/" in value else f"{resource_type}/{value}", resource_type)


def referral_identifier(reference: str) -> Json:
    return {"system": codes.identifier_system("referral-reference"), "value": reference}


def pruned(resource: Json) -> Json:
    """The resource without empty members: FHIR allows no null, empty string, list or object."""
    found: Json = _pruned(resource)
    return found


def _pruned(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [item for item in (_pruned(v) for v in value) if item not in (None, "", [], {})]
    return value


def translation(language: str, text: str | None) -> Json | None:
    """A primitive's extension giving its text in another language (FHIR's `translation`)."""
    if not text:
        return None
    parts = [{"url": "lang", "valueCode": language}, {"url": "content", "valueString": text}]
    return {"extension": [{"url": codes.TRANSLATION, "extension": parts}]}
