"""Reading another directory: an Open Referral UK feed by its base URL, or a JSON file.

Everything is read and checked before anything is written, so a feed that is unreachable,
malformed, missing required fields or too large stops the import with an error naming the
record, and nothing is kept. A feed's list pages give service ids; each service is then read in
full from `/services/{id}` (the profile's lists carry one-to-one fields only).
"""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, ValidationError

from app.config import Settings
from app.openreferral.records import FeedOrganization, FeedService, ListedRecord

M = TypeVar("M", bound=BaseModel)
PER_PAGE = 100
CONCURRENT_READS = 4
# A feed that asks us to slow down (429) is waited for, a few times, this long at most.
MOST_RETRY_SECONDS = 30.0
RETRIES = 3


class FeedError(Exception):
    """Why a feed cannot be imported, naming the address or record at fault."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_pages: int = 200
    max_services: int = 10_000
    max_bytes: int = 10 * 1024 * 1024
    timeout_seconds: float = 30.0

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(
            settings.directory_import_max_pages,
            settings.directory_import_max_services,
            settings.directory_import_max_bytes,
            settings.directory_import_timeout_seconds,
        )


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in {"http", "https"}


def shown(source: str) -> str:
    """A source as it may be printed and audited: without any user name or password in it."""
    if not is_url(source):
        return source
    parts = urlsplit(source)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


def checked(model: type[M], record: Any, where: str) -> M:
    """`record` as `model`, or a FeedError naming the record, its id and each field at fault."""
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        named = f"{where}{_label(record, where)}"
        problems = "; ".join(_problem(e) for e in exc.errors()[:5])
        raise FeedError(f"{named}: {problems}") from None


def _label(record: Any, where: str) -> str:
    """The record's id (unless `where` already says it) and name, to find it by in the feed."""
    if not isinstance(record, dict):
        return ""
    record_id, name = record.get("id"), record.get("name")
    parts = [f"id {record_id}" if record_id and str(record_id) not in where else ""]
    parts.append(f"{name!r}" if isinstance(name, str) else "")
    told = ", ".join(p for p in parts if p)
    return f" ({told})" if told else ""


def _problem(error: Any) -> str:
    field = ".".join(str(p) for p in error["loc"]) or "record"
    return f"{field}: {error['msg'].lower()}"


def _records(document: Any, where: str) -> list[Any]:
    """The services in a file: a page (`contents`), a list, or one service."""
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return list(document["contents"])
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and "id" in document:
        return [document]
    raise FeedError(f"{where}: expected a page of services (with contents), a list of services or a service")


def read_file(path: Path, limits: Limits) -> list[FeedService]:
    """Full services from a JSON file (a page or a list of them); each must carry its organization."""
    where = str(path)
    try:
        if path.stat().st_size > limits.max_bytes:
            raise FeedError(f"{where} is larger than {limits.max_bytes} bytes")
        document = json.loads(path.read_bytes())
    except OSError as exc:
        raise FeedError(f"cannot read {where}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise FeedError(f"{where} is not JSON: {exc}") from None
    records = _records(document, where)
    _within(len(records), limits, where)
    services = [checked(FeedService, r, f"{where}: service {n + 1}") for n, r in enumerate(records)]
    for n, service in enumerate(services):
        if service.organization is None:
            raise FeedError(f"{where}: service {n + 1} (id {service.id}): organization: field required")
    return services


def _within(count: int, limits: Limits, where: str) -> None:
    if count > limits.max_services:
        raise FeedError(f"{where} has more than {limits.max_services} services")


class FeedReader:
    """Reads one feed over HTTP, every response size-limited and timed out."""

    def __init__(self, base_url: str, limits: Limits, client: httpx.AsyncClient) -> None:
        self.base, self.limits, self.client = base_url.rstrip("/"), limits, client
        self.organizations: dict[uuid.UUID, FeedOrganization] = {}

    async def services(self) -> list[FeedService]:
        ids = await self._listed_ids()
        gate = asyncio.Semaphore(CONCURRENT_READS)

        async def one(service_id: uuid.UUID) -> FeedService:
            async with gate:
                return await self._service(service_id)

        return list(await asyncio.gather(*(one(i) for i in ids)))

    async def _listed_ids(self) -> list[uuid.UUID]:
        """Every service id the list pages give, in order, each once."""
        ids: dict[uuid.UUID, None] = {}
        page, total_pages = 1, 1
        while page <= total_pages:
            if page > self.limits.max_pages:
                raise FeedError(f"{shown(self.base)} has more than {self.limits.max_pages} pages of services")
            url = f"{self.base}/services?page={page}&per_page={PER_PAGE}"
            contents, total_pages = _page(await self._json(url), url)
            ids.update(
                (checked(ListedRecord, r, f"{url}: service {n + 1}").id, None) for n, r in enumerate(contents)
            )
            _within(len(ids), self.limits, shown(self.base))
            page = page + 1 if contents else total_pages + 1
        return list(ids)

    async def _service(self, service_id: uuid.UUID) -> FeedService:
        url = f"{self.base}/services/{service_id}"
        service = checked(FeedService, await self._json(url), url)
        if service.organization is None:
            if service.organization_id is None:
                raise FeedError(f"{url}: organization: field required")
            service.organization = await self._organization(service.organization_id)
        return service

    async def _organization(self, organization_id: uuid.UUID) -> FeedOrganization:
        if organization_id not in self.organizations:
            url = f"{self.base}/organizations/{organization_id}"
            self.organizations[organization_id] = checked(FeedOrganization, await self._json(url), url)
        return self.organizations[organization_id]

    async def _json(self, url: str) -> Any:
        body = await _patiently(lambda: self._body(url))
        try:
            return json.loads(body)
        except ValueError:
            raise FeedError(f"{shown(url)} did not answer JSON") from None

    async def _body(self, url: str) -> bytes | float:
        """The response body, or how long the feed asks us to wait (429)."""
        async with self.client.stream("GET", url, headers={"Accept": "application/json"}) as response:
            if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
                return _retry_after(response)
            if response.status_code != httpx.codes.OK:
                raise FeedError(f"{shown(url)} answered {response.status_code}")
            return await _limited(response, self.limits.max_bytes, url)


def _page(document: Any, url: str) -> tuple[list[Any], int]:
    if not isinstance(document, dict) or not isinstance(document.get("contents"), list):
        raise FeedError(f"{shown(url)}: not a page of services (no contents list)")
    total_pages = document.get("total_pages")
    if not isinstance(total_pages, int) or isinstance(total_pages, bool):
        raise FeedError(f"{shown(url)}: total_pages: expected a whole number")
    return document["contents"], total_pages


def _retry_after(response: httpx.Response) -> float:
    given = response.headers.get("Retry-After", "")
    return min(float(given), MOST_RETRY_SECONDS) if given.isdigit() else 1.0


async def _patiently(read: Callable[[], Awaitable[bytes | float]]) -> bytes:
    for _ in range(RETRIES + 1):
        answer = await read()
        if isinstance(answer, bytes):
            return answer
        await asyncio.sleep(answer)
    raise FeedError("the feed kept answering 429 (too many requests)")


async def _limited(response: httpx.Response, max_bytes: int, url: str) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FeedError(f"{shown(url)} is larger than {max_bytes} bytes")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise FeedError(f"{shown(url)} is larger than {max_bytes} bytes")
    return bytes(body)


async def read_url(
    base_url: str, limits: Limits, transport: httpx.AsyncBaseTransport | None = None
) -> list[FeedService]:
    """Every service of the feed at `base_url`, in full."""
    timeout = httpx.Timeout(limits.timeout_seconds)
    async with httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=True) as client:
        try:
            return await FeedReader(base_url, limits, client).services()
        except httpx.TimeoutException:
            raise FeedError(
                f"{shown(base_url)} did not answer within {limits.timeout_seconds:g} seconds"
            ) from None
        except httpx.HTTPError as exc:
            raise FeedError(f"cannot reach {shown(base_url)}: {_reason(exc)}") from None


def _reason(exc: httpx.HTTPError) -> str:
    return str(exc) or type(exc).__name__


async def read_source(
    source: str, limits: Limits, transport: httpx.AsyncBaseTransport | None = None
) -> list[FeedService]:
    """The services of a feed URL or a JSON file."""
    if is_url(source):
        return await read_url(source, limits, transport)
    return read_file(Path(source), limits)


def unique(services: Sequence[FeedService]) -> list[FeedService]:
    """Each service once (a list that changed while it was paged can give one twice): the last."""
    return list({s.id: s for s in services}.values())
