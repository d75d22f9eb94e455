"""Prometheus metrics: request counts and latency by method, route template and status.

Labels use the route's path template (`/v1/referrals/{referral_id}`), never the raw URL,
so the number of series stays bounded however many referrals there are. Each process
keeps its own counts: scrape every worker, or serve one worker per instance.
"""

import time

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from starlette.types import Message, Receive, Scope, Send

from app.asgi import HTTPMiddleware

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
LABELS = ("method", "route", "status")

REQUESTS = Counter("http_requests_total", "HTTP requests answered.", LABELS)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from receiving a request to finishing its response.",
    LABELS,
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


UNAVAILABLE = Counter(
    "http_unavailable_total",
    "Requests answered 503 because the database was down, stalled or out of connections, "
    "or the request ran past its deadline; by cause.",
    ("cause",),
)
RATE_LIMIT_STORAGE_FAILURES = Counter(
    "rate_limit_storage_failures_total",
    "Times the shared rate-limit store failed; each time this process counted alone for a few seconds.",
)
AUDIT_UNSEALED = Gauge("audit_unsealed_events", "Committed audit events not yet sealed into the log.")
AUDIT_OLDEST_UNSEALED = Gauge(
    "audit_oldest_unsealed_age_seconds", "Age of the oldest audit event not yet sealed (0 when none waits)."
)


def set_audit_backlog(count: float, oldest_age_seconds: float) -> None:
    """Record the sealing backlog as read at scrape time (NaN when it could not be read)."""
    AUDIT_UNSEALED.set(count)
    AUDIT_OLDEST_UNSEALED.set(oldest_age_seconds)


def exposition() -> tuple[bytes, str]:
    """The current metrics in the Prometheus text format, with its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def _labels(scope: Scope, status: int) -> tuple[str, str, str]:
    method = scope["method"] if scope["method"] in METHODS else "other"
    template = getattr(scope.get("route"), "path", None)
    return method, template if isinstance(template, str) else UNMATCHED, str(status)


class RequestMetrics(HTTPMiddleware):
    """Time every HTTP request and count it once its status is known."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started, status = time.perf_counter(), 500  # 500 unless a response starts

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            labels = _labels(scope, status)
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - started)
