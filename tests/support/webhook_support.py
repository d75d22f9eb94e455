"""A real HTTP receiver on loopback; emitting events, subscribing to them and reading them back."""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import Settings, get_settings
from app.db import get_sessionmaker
from app.models.audit import ActorKind, AuditActor
from app.models.directory import Agency
from app.models.events import DomainEvent, EventType
from app.models.webhooks import WebhookDelivery, WebhookSubscription, WebhookSubscriptionCreate
from app.services import events, webhooks
from app.unit_of_work import committed
from tests.support.factories import seal

# How the receiver answers: given the webhook-id and how many times it has been seen (1 first).
Responder = Callable[[str, int], int]


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


class Receiver:
    """Records every request as it arrives and answers as `respond` says, after `delay` seconds."""

    def __init__(self, respond: Responder, delay: float) -> None:
        self.respond, self.delay = respond, delay
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def delivered_ids(self) -> list[str]:
        """The webhook-id of every request answered with success."""
        with self._lock:
            return [r.headers["webhook-id"] for r in self.received if 200 <= r.status < 300]

    def _answer(self, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            seen = sum(r.headers.get("webhook-id") == headers.get("webhook-id") for r in self.received)
            status = self.respond(headers.get("webhook-id", ""), seen + 1)
            self.received.append(Received(headers, body, status))
        return status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._answer({k.lower(): v for k, v in self.headers.items()}, body)
                time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def running_receiver(respond: Responder = lambda _id, _n: 200, delay: float = 0.0) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 with an ephemeral port, stopped on the way out."""
    receiver = Receiver(respond, delay)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def allow_loopback(monkeypatch: pytest.MonkeyPatch, **overrides: object) -> Settings:
    """The process settings, changed for this test to let deliveries go to a loopback receiver."""
    settings = get_settings()
    values = {
        "webhook_allow_private_targets": True,
        "webhook_allow_http": True,
        "webhook_timeout_seconds": 5.0,
        "webhook_lease_seconds": 60.0,
        **overrides,
    }
    for name, value in values.items():
        monkeypatch.setattr(settings, name, value)
    return settings


def admin_of(agency: Agency) -> AuditActor:
    return AuditActor(kind=ActorKind.USER, id=f"admin-{agency.id}", agency_id=agency.id)


async def subscribe(
    settings: Settings, agency: Agency, url: str, event_types: list[EventType] | None = None
) -> WebhookSubscription:
    body = WebhookSubscriptionCreate(url=url, event_types=event_types)
    return await committed(lambda s: webhooks.create_subscription(s, settings, admin_of(agency), body))


async def emit_event(
    from_agency: Agency,
    to_agency: Agency,
    type_: str = EventType.REFERRAL_CREATED,
    status: str | None = "submitted",
    referral_id: uuid.UUID | None = None,
    *,
    sequence: bool = True,
) -> None:
    """Commit one domain event between two agencies, as the referral module does, and sequence it.

    The worker's sequencer does that within AUDIT_SEAL_INTERVAL_SECONDS: it gives the event its
    feed position and queues its deliveries.
    """

    async def work(session: AsyncSession) -> None:
        events.emit(
            session,
            type_,
            referral_id=referral_id or uuid.uuid4(),
            status=status,
            from_agency_id=from_agency.id,
            to_agency_id=to_agency.id,
        )

    await committed(work)
    if sequence:
        await seal()


async def event_ids() -> list[str]:
    """Every published event's id, in feed order."""
    async with get_sessionmaker()() as session:
        published = select(col(DomainEvent.id)).where(col(DomainEvent.position).is_not(None))
        rows = await session.execute(published.order_by(col(DomainEvent.position)))
        return [str(r) for r in rows.scalars()]


async def all_deliveries() -> list[WebhookDelivery]:
    async with get_sessionmaker()() as session:
        rows = await session.execute(select(WebhookDelivery).order_by(col(WebhookDelivery.created_at)))
        return list(rows.scalars())


async def reload_subscription(subscription_id: uuid.UUID) -> WebhookSubscription:
    async with get_sessionmaker()() as session:
        found = await session.get(WebhookSubscription, subscription_id)
        assert found is not None
        return found
