"""Bundles: a search's page of results (`searchset`) and what a transaction made (`transaction-response`)."""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from fastapi import Request

from app.fhir.outcome import PREFIX
from app.fhir.shapes import Json
from app.fhir.wire import instant

CURSOR = "_cursor"


def service_base(request: Request) -> str:
    """This server's FHIR base as the caller reached it: links must work for the caller."""
    return str(request.base_url).rstrip("/") + PREFIX


@dataclass
class SearchPage:
    """One page of a search: its matches, what they include, and the cursor of the next page."""

    matches: list[Json]
    included: list[Json] = field(default_factory=list)
    next_cursor: str | None = None


def searchset(request: Request, page: SearchPage) -> Json:
    """The page as a searchset Bundle, with `self` and (when there is more) `next` links."""
    base = service_base(request)
    links = [{"relation": "self", "url": str(request.url)}]
    if page.next_cursor:
        links.append({"relation": "next", "url": _next_url(request, page.next_cursor)})
    entries = [_entry(base, r, "match") for r in page.matches]
    entries += [_entry(base, r, "include") for r in page.included]
    bundle: Json = {"resourceType": "Bundle", "type": "searchset", "link": links}
    if entries:
        bundle["entry"] = entries
    return bundle


def _entry(base: str, resource: Json, mode: str) -> Json:
    url = f"{base}/{resource['resourceType']}/{resource['id']}"
    return {"fullUrl": url, "resource": resource, "search": {"mode": mode}}


def _next_url(request: Request, cursor: str) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != CURSOR]
    path = request.url.path.removeprefix(PREFIX)
    return f"{service_base(request)}{path}?{urlencode([*params, (CURSOR, cursor)])}"


def created_entry(base: str, location: str, version: int | str, at: datetime, resource: Json | None) -> Json:
    """A transaction-response entry for a resource made: where it is, at which version."""
    entry: Json = {
        "fullUrl": f"{base}/{location}",
        "response": {
            "status": "201 Created",
            "location": f"{location}/_history/{version}",
            "etag": f'W/"{version}"',
            "lastModified": instant(at),
        },
    }
    if resource is not None:
        entry["resource"] = resource
    return entry
