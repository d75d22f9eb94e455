"""FHIR JSON on the wire: what partners send, checked by fhir.resources' R4 models, and what is sent.

Every resource a partner sends is checked by its model (`check`) before anything is read from it.
What the exchange sends is built as plain dicts by the translation modules and written as they
are (`render`): checking them again on the way out cost as much CPU as the rest of a Task read
(fhir.resources validates each nested element in Python). They are checked instead in the tests,
every resource any test receives: by the same models, HL7's R4 JSON schema and FHIRPath rules.
"""

import json
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fhir.resources.R4B import get_fhir_model_class

from app.errors import AppError, Unprocessable

Json = dict[str, Any]
FHIR_JSON = "application/fhir+json"
# JSON bodies are accepted under either name; FHIR's own is what is sent.
JSON_TYPES = frozenset({FHIR_JSON, "application/json"})
_MODELS: dict[str, Any] = {}


class UnsupportedMediaType(AppError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class NotAcceptable(AppError):
    status, code, title = 406, "not-acceptable", "Not acceptable"


def _model(resource_type: str) -> Any:
    if resource_type not in _MODELS:
        _MODELS[resource_type] = get_fhir_model_class(resource_type)
    return _MODELS[resource_type]


def preload(*resource_types: str) -> None:
    """Import the models now: fhir.resources imports each on first use, which would slow a first request."""
    for resource_type in resource_types:
        _model(resource_type)


def check(resource: Json) -> Any:
    """The resource as its R4 model (ValidationError when it breaks the model)."""
    return _model(resource["resourceType"]).model_validate(resource)


def render(resource: Json) -> bytes:
    """The resource as compact FHIR JSON (built by the translation modules, which leave out the empty)."""
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()


class FhirResponse(Response):
    """A resource (or Bundle) answered as application/fhir+json."""

    media_type = FHIR_JSON

    def __init__(self, resource: Json, status_code: int = 200, headers: dict[str, str] | None = None):
        super().__init__(render(resource), status_code=status_code, headers=headers)


def instant(value: datetime | None) -> str | None:
    """An aware time in FHIR's form (UTC), or None."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def version_headers(version: str, last_updated: datetime) -> dict[str, str]:
    """ETag and Last-Modified for a resource at one version."""
    aware = last_updated if last_updated.tzinfo else last_updated.replace(tzinfo=UTC)
    return {"ETag": f'W/"{version}"', "Last-Modified": format_datetime(aware.astimezone(UTC), usegmt=True)}


def meta(version: str | int, last_updated: datetime) -> Json:
    return {"versionId": str(version), "lastUpdated": instant(last_updated)}


async def read_json(request: Request, resource_type: str) -> Json:
    """The request body: a JSON object of the expected resource type (415 or 422 otherwise)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in JSON_TYPES:
        raise UnsupportedMediaType(f"Send {FHIR_JSON} (or application/json), not {media_type or 'nothing'}.")
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise Unprocessable.field(resource_type, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Unprocessable.field(resource_type, "the body must be a JSON object")
    if body.get("resourceType") != resource_type:
        raise Unprocessable.field(f"{resource_type}.resourceType", f"must be {resource_type}")
    return body


async def negotiate(request: Request) -> None:
    """Refuse a request that will take only something other than JSON (406)."""
    wanted = request.query_params.get("_format") or request.headers.get("accept") or "*/*"
    kinds = {part.partition(";")[0].strip().lower() for part in wanted.split(",")}
    if not kinds & {"*/*", "application/*", "json", *JSON_TYPES}:
        raise NotAcceptable(f"Only JSON is served ({FHIR_JSON}); XML and other formats are not.")
