"""The Prometheus endpoint: counts and latency by method, route template and status."""

import asyncio
import uuid

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from app.models.identity import Role
from tests.support.factories import bearer, make_agency, record_events, seal

ONE_REFERRAL = "/v1/referrals/{referral_id}"


def count(method: str, route: str, status: str) -> float:
    labels = {"method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0


def timed(method: str, route: str, status: str) -> float:
    labels = {"method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("http_request_duration_seconds_count", labels) or 0.0


async def test_requests_are_counted_and_timed_by_route_template(client: httpx.AsyncClient) -> None:
    headers = bearer(await make_agency(), Role.CASEWORKER)
    before = count("GET", ONE_REFERRAL, "404"), timed("GET", ONE_REFERRAL, "404")

    for _ in range(2):
        await client.get(f"/v1/referrals/{uuid.uuid4()}", headers=headers)

    assert count("GET", ONE_REFERRAL, "404") == before[0] + 2
    assert timed("GET", ONE_REFERRAL, "404") == before[1] + 2


async def test_unknown_paths_share_one_label(client: httpx.AsyncClient) -> None:
    before = count("GET", "unmatched", "404")
    await client.get(f"/v1/nowhere/{uuid.uuid4()}")
    assert count("GET", "unmatched", "404") == before + 1


async def test_scrape_is_prometheus_text_without_raw_urls(client: httpx.AsyncClient) -> None:
    ident = uuid.uuid4()
    await client.get(f"/v1/referrals/{ident}", headers=bearer(await make_agency(), Role.CASEWORKER))

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert families["http_request_duration_seconds"].type == "histogram"
    routes = {s.labels["route"] for s in families["http_requests"].samples if "route" in s.labels}
    assert ONE_REFERRAL in routes
    assert str(ident) not in response.text


def gauge(text: str, name: str) -> float:
    families = {f.name: f for f in text_string_to_metric_families(text)}
    (sample,) = families[name].samples
    return float(sample.value)


async def test_the_audit_backlog_and_its_oldest_age_are_scraped(client: httpx.AsyncClient) -> None:
    await seal()
    empty = (await client.get("/metrics")).text
    await record_events(3)
    await asyncio.sleep(0.05)

    waiting = (await client.get("/metrics")).text
    await seal()
    sealed = (await client.get("/metrics")).text

    assert (gauge(empty, "audit_unsealed_events"), gauge(empty, "audit_oldest_unsealed_age_seconds")) == (
        0,
        0,
    )
    assert gauge(waiting, "audit_unsealed_events") == 3
    assert 0.05 <= gauge(waiting, "audit_oldest_unsealed_age_seconds") < 60
    assert gauge(sealed, "audit_unsealed_events") == 0
