"""Another directory's Open Referral UK feed, served from an httpx MockTransport.

Shaped as real UK feeds are: list pages of one-to-one fields (two records a page, whatever
`per_page` asks, so several pages), and `/services/{id}` fully nested, with locations and
addresses, taxonomy terms of the publisher's own vocabulary, languages by name or code, areas,
and a Welsh translation. Faults are switched on by name to make each kind of bad feed.
"""

import copy
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

BASE = "https://directory.example.org/openreferral/v3"
PAGE_SIZE = 2


def _id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://directory.example.org/{name}"))


def term(name: str, code: str | None = None) -> dict[str, Any]:
    return {
        "id": _id(f"term/{name}"),
        "name": name,
        "description": f"{name} services",
        "taxonomy": "Council service types",
        "code": code,
    }


def attribute(service: str, name: str) -> dict[str, Any]:
    chosen = term(name)
    return {
        "id": _id(f"attribute/{service}/{name}"),
        "link_type": "service_type",
        "taxonomy_term_id": chosen["id"],
        "taxonomy_term": chosen,
    }


def location(key: str, name: str, line: str, town: str, postcode: str, **where: float) -> dict[str, Any]:
    location_id = _id(f"location/{key}")
    address = {
        "id": _id(f"address/{key}"),
        "location_id": location_id,
        "address_1": line,
        "city": town,
        "state_province": "Wrexham",
        "postal_code": postcode,
        "country": "GB",
        "address_type": "physical",
    }
    return {"id": location_id, "location_type": "physical", "name": name, "addresses": [address], **where}


ORGANIZATIONS: dict[str, dict[str, Any]] = {
    "council": {
        "id": _id("organization/council"),
        "name": "Wrexham County Borough Council",
        "description": "The local authority",
        "translations": [{"language": "cy", "name": "Cyngor Bwrdeistref Sirol Wrecsam"}],
    },
    "charity": {"id": _id("organization/charity"), "name": "Money Matters Wales", "description": "A charity"},
}


def _service(key: str, organization: str, name: str, **fields: Any) -> dict[str, Any]:
    places = fields.pop("locations", [])
    return {
        "id": _id(f"service/{key}"),
        "name": name,
        "description": fields.pop("description", f"{name}, for families in Wrexham."),
        "status": fields.pop("status", "active"),
        "last_modified": "2026-11-30T09:00:00Z",
        "organization_id": ORGANIZATIONS[organization]["id"],
        "organization": ORGANIZATIONS[organization],
        "service_at_locations": [
            {"id": _id(f"sal/{key}/{n}"), "service_id": _id(f"service/{key}"), "location": p}
            for n, p in enumerate(places)
        ],
        **fields,
    }


def services() -> list[dict[str, Any]]:
    """Five services of two organizations: three pages of two."""
    return [
        _service(
            "money",
            "charity",
            "Money Matters drop-in",
            attributes=[attribute("money", "Debt advice"), attribute("money", "Welfare benefits")],
            languages=[
                {"id": _id("lang/money/en"), "name": "English"},
                {"id": _id("lang/money/cy"), "code": "cy"},
            ],
            service_areas=[
                {"id": _id("area/money"), "name": "LL13"},
                {"id": _id("area/money2"), "name": "Wrexham"},
            ],
            translations=[
                {"language": "cy", "name": "Sesiwn galw heibio", "description": "Cyngor ar arian."}
            ],
            locations=[
                location(
                    "library",
                    "Wrexham Library",
                    "Rhosddu Road",
                    "Wrexham",
                    "LL11 1AU",
                    latitude=53.0486,
                    longitude=-2.9935,
                ),
                location("caia", "Caia Park hub", "Prince Charles Road", "Wrexham", "ll13 8th"),
            ],
        ),
        _service(
            "homes",
            "council",
            "Housing options",
            attributes=[attribute("homes", "Homelessness")],
            locations=[location("civic", "Guildhall", "Chester Street", "Wrexham", "LL11 1AY")],
        ),
        _service("jobs", "council", "Working Wrexham", attributes=[attribute("jobs", "Employment support")]),
        _service(
            "play",
            "council",
            "Play sessions",
            attributes=[attribute("play", "Play")],
            locations=[location("virtual", "Online", "n/a", "n/a", "n/a") | {"location_type": "virtual"}],
        ),
        _service("closed", "council", "Old drop-in", status="defunct"),
    ]


def _listed(service: dict[str, Any]) -> dict[str, Any]:
    """A service as a list page gives it: one-to-one fields and its organization."""
    nested = {"service_at_locations", "attributes", "languages", "service_areas", "translations"}
    return {k: v for k, v in service.items() if k not in nested}


@dataclass
class FakeFeed:
    """The feed's records, the requests it saw, and the fault it has been told to show."""

    records: list[dict[str, Any]] = field(default_factory=services)
    fault: str | None = None
    requests: list[str] = field(default_factory=list)
    page_size: int = PAGE_SIZE

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        path = request.url.path.removeprefix("/openreferral/v3")
        faulty = FAULTS.get(self.fault or "", _healthy)(self, path, request)
        if faulty is not None:
            return faulty
        if path == "/services":
            return httpx.Response(200, json=self.page(int(request.url.params.get("page", "1"))))
        found = next((s for s in self.records if path == f"/services/{s['id']}"), None)
        return httpx.Response(200, json=found) if found else httpx.Response(404, json={"detail": "not found"})

    def page(self, number: int) -> dict[str, Any]:
        start = (number - 1) * self.page_size
        contents = [_listed(s) for s in self.records[start : start + self.page_size]]
        total_pages = max(1, math.ceil(len(self.records) / self.page_size))
        return {
            "total_items": len(self.records),
            "total_pages": total_pages,
            "page_number": number,
            "size": len(contents),
            "first_page": number == 1,
            "last_page": number >= total_pages,
            "empty": not contents,
            "contents": contents,
        }

    def change(self, key: str, **fields: Any) -> None:
        record = next(s for s in self.records if s["id"] == _id(f"service/{key}"))
        record.update(copy.deepcopy(fields))


def service_id(key: str) -> str:
    return _id(f"service/{key}")


def location_id(key: str) -> str:
    return _id(f"location/{key}")


def _healthy(feed: "FakeFeed", path: str, request: httpx.Request) -> httpx.Response | None:
    return None


def _without_status(feed: FakeFeed, path: str, request: httpx.Request) -> httpx.Response | None:
    if path == f"/services/{service_id('jobs')}":
        broken = {
            k: v
            for k, v in next(s for s in feed.records if s["id"] == service_id("jobs")).items()
            if k != "status"
        }
        return httpx.Response(200, json=broken)
    return None


def _bad_json(feed: FakeFeed, path: str, request: httpx.Request) -> httpx.Response | None:
    if path == f"/services/{service_id('homes')}":
        return httpx.Response(200, content=b'{"id": "', headers={"Content-Type": "application/json"})
    return None


def _huge(feed: FakeFeed, path: str, request: httpx.Request) -> httpx.Response | None:
    if path == f"/services/{service_id('money')}":
        padding = {"description": "x" * 200_000}
        return httpx.Response(200, content=json.dumps(feed.records[0] | padding).encode())
    return None


def _endless(feed: FakeFeed, path: str, request: httpx.Request) -> httpx.Response | None:
    if path == "/services":
        page = feed.page(1) | {"total_pages": 10_000, "last_page": False}
        page["contents"] = [{"id": str(uuid.uuid4()), "name": "More", "status": "active"}]
        return httpx.Response(200, json=page)
    return None


def _unreachable(feed: FakeFeed, path: str, request: httpx.Request) -> httpx.Response | None:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def _slow(feed: FakeFeed, path: str, request: httpx.Request) -> httpx.Response | None:
    raise httpx.ReadTimeout("timed out", request=request)


def _broken(feed: FakeFeed, path: str, request: httpx.Request) -> httpx.Response | None:
    return httpx.Response(500, text="Internal Server Error") if path == "/services" else None


def _not_a_page(feed: FakeFeed, path: str, request: httpx.Request) -> httpx.Response | None:
    return httpx.Response(200, json=[{"id": service_id("money")}]) if path == "/services" else None


def _bad_location(feed: FakeFeed, path: str, request: httpx.Request) -> httpx.Response | None:
    if path == f"/services/{service_id('homes')}":
        record = copy.deepcopy(next(s for s in feed.records if s["id"] == service_id("homes")))
        del record["service_at_locations"][0]["location"]["addresses"][0]["postal_code"]
        return httpx.Response(200, json=record)
    return None


Fault = Callable[[FakeFeed, str, httpx.Request], httpx.Response | None]
FAULTS: dict[str, Fault] = {
    "missing status": _without_status,
    "malformed JSON": _bad_json,
    "too large": _huge,
    "too many pages": _endless,
    "unreachable": _unreachable,
    "too slow": _slow,
    "server error": _broken,
    "not a page": _not_a_page,
    "address without postcode": _bad_location,
}
