"""Webhook subscriptions: agency-scoped, secret shown once, safe targets only, writes audited."""

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from app import outbound, unit_of_work
from app.config import get_settings
from app.db import get_sessionmaker
from app.models.audit import AuditEvent
from app.models.events import DomainEvent, EventType
from app.models.identity import Role
from app.models.webhooks import DeliveryStatus
from app.services import events
from tests.support.factories import bearer, make_agency
from tests.support.webhook_support import all_deliveries, allow_loopback, emit_event, subscribe

HOOK = "http://127.0.0.1:9/hooks"


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    allow_loopback(monkeypatch)


async def audit_actions() -> list[str]:
    async with get_sessionmaker()() as session:
        rows = await session.execute(select(col(AuditEvent.action)).order_by(col(AuditEvent.seq)))
        return list(rows.scalars())


@pytest.mark.usefixtures("loopback")
async def test_create_returns_the_secret_once(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    headers = bearer(agency, Role.AGENCY_ADMIN)

    response = await client.post(
        "/v1/webhooks",
        headers=headers,
        json={"url": HOOK, "description": "Case system", "event_types": ["referral.created"]},
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert response.headers["Location"] == f"/v1/webhooks/{created['id']}"
    assert created["agency_id"] == str(agency.id)
    assert created["status"] == "active"
    fetched = (await client.get(f"/v1/webhooks/{created['id']}", headers=headers)).json()
    listed = (await client.get("/v1/webhooks", headers=headers)).json()
    assert "secret" not in fetched
    assert fetched == {k: v for k, v in created.items() if k != "secret"}
    assert listed == {"items": [fetched], "next_cursor": None}
    assert "webhook.created" in await audit_actions()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:8080/hooks", "private"),
        ("https://localhost/hooks", "private"),
        ("https://[::1]/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://10.0.0.7/hooks", "private"),
        ("https://no-such-host.invalid/hooks", "does not resolve"),
        ("ftp://example.org/hooks", "https"),
        ("https://user:pass@example.org/hooks", "credentials"),
        ("/relative", "https"),
    ],
)
async def test_unsafe_urls_are_refused_naming_url(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_allow_http", True)

    response = await client.post(
        "/v1/webhooks", headers=bearer(await make_agency(), Role.AGENCY_ADMIN), json={"url": url}
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    error = response.json()["errors"][0]
    assert error["field"] == "url"
    assert message in error["message"]


async def test_plain_http_is_refused_outside_development(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/webhooks",
        headers=bearer(await make_agency(), Role.AGENCY_ADMIN),
        json={"url": "http://example.org/"},
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "url", "message": "must use https"}]


@pytest.mark.usefixtures("loopback")
async def test_another_agency_gets_404_for_everything(client: httpx.AsyncClient) -> None:
    owner, stranger = await make_agency(), await make_agency()
    subscription = await subscribe(get_settings(), owner, HOOK)
    await emit_event(owner, await make_agency())
    delivery = (await all_deliveries())[0]
    theirs = bearer(stranger, Role.AGENCY_ADMIN)
    base = f"/v1/webhooks/{subscription.id}"

    responses = [
        await client.get(base, headers=theirs),
        await client.delete(base, headers=theirs),
        await client.get(f"{base}/deliveries", headers=theirs),
        await client.post(f"{base}/deliveries/{delivery.id}/redeliver", headers=theirs),
    ]

    assert [r.status_code for r in responses] == [404] * 4
    assert (await client.get("/v1/webhooks", headers=theirs)).json()["items"] == []
    mine = await client.get(base, headers=bearer(owner, Role.AGENCY_ADMIN))
    assert mine.status_code == 200


async def test_webhooks_need_the_manage_scope_and_an_agency(client: httpx.AsyncClient) -> None:
    caseworker = await client.get("/v1/webhooks", headers=bearer(await make_agency(), Role.CASEWORKER))
    platform = await client.get(
        "/v1/webhooks", headers=bearer(None, Role.PLATFORM_ADMIN, scopes=["webhooks:manage"])
    )

    assert caseworker.status_code == 403
    assert caseworker.json()["required_scopes"] == ["webhooks:manage"]
    assert platform.status_code == 403


@pytest.mark.usefixtures("loopback")
async def test_delete_hides_the_subscription_and_cancels_what_is_pending(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    subscription = await subscribe(get_settings(), agency, HOOK)
    await emit_event(agency, await make_agency())
    headers = bearer(agency, Role.AGENCY_ADMIN)

    deleted = await client.delete(f"/v1/webhooks/{subscription.id}", headers=headers)

    assert deleted.status_code == 204
    assert (await client.get(f"/v1/webhooks/{subscription.id}", headers=headers)).status_code == 404
    assert (await client.get("/v1/webhooks", headers=headers)).json()["items"] == []
    assert [d.status for d in await all_deliveries()] == [DeliveryStatus.CANCELLED]
    await emit_event(agency, await make_agency())
    assert len(await all_deliveries()) == 1
    assert "webhook.deleted" in await audit_actions()


@pytest.mark.usefixtures("loopback")
async def test_fan_out_follows_involved_agencies_and_the_type_filter() -> None:
    sender, receiver, bystander = await make_agency(), await make_agency(), await make_agency()
    settings = get_settings()
    everything = await subscribe(settings, sender, HOOK)
    only_created = await subscribe(settings, receiver, HOOK, [EventType.REFERRAL_CREATED])
    await subscribe(settings, bystander, HOOK)

    await emit_event(sender, receiver, EventType.REFERRAL_CREATED)
    await emit_event(receiver, sender, EventType.MESSAGE_POSTED, None)

    got = sorted((str(d.subscription_id), d.event_type) for d in await all_deliveries())
    assert got == sorted(
        [
            (str(everything.id), "referral.created"),
            (str(everything.id), "message.posted"),
            (str(only_created.id), "referral.created"),
        ]
    )


@pytest.mark.usefixtures("loopback")
async def test_a_rolled_back_change_queues_nothing() -> None:
    sender, receiver = await make_agency(), await make_agency()
    await subscribe(get_settings(), sender, HOOK)

    async with get_sessionmaker()() as session:
        events.emit(
            session,
            "referral.created",
            referral_id=None,
            status=None,
            from_agency_id=sender.id,
            to_agency_id=receiver.id,
        )
        await unit_of_work.rollback(session)

    async with get_sessionmaker()() as session:
        assert (await session.execute(select(DomainEvent))).first() is None
    assert await all_deliveries() == []


@pytest.mark.usefixtures("loopback")
async def test_an_empty_event_type_filter_is_refused(client: httpx.AsyncClient) -> None:
    headers = bearer(await make_agency(), Role.AGENCY_ADMIN)
    empty = await client.post("/v1/webhooks", headers=headers, json={"url": HOOK, "event_types": []})
    unknown = await client.post("/v1/webhooks", headers=headers, json={"url": HOOK, "event_types": ["x.y"]})

    assert empty.status_code == unknown.status_code == 422
    assert empty.json()["errors"][0]["field"] == "event_types"


CRAFTED_URLS = [
    ("http://0177.0.0.1/", "Invalid IPv4 address"),
    ("http://\u2460\u2461\u2466.0.0.1/", "ASCII"),
    ("https://example.org/\r\nX-Injected: 1", "ASCII"),
    ("https://exa\r\nmple.org/", "ASCII"),
    ("http://127.1/", "dotted-quad"),
    ("http://0x7f.0.0.1/", "dotted-quad"),
    ("http://2130706433/", "dotted-quad"),
    ("https://xn--ls8h.example/", "IDNA"),
    ("https://example.org:99999/", "port"),
]


@pytest.mark.parametrize(("url", "message"), CRAFTED_URLS)
async def test_crafted_urls_are_422_naming_url(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    # Even where private targets and plain http are allowed, an ambiguous URL is not taken.
    monkeypatch.setattr(get_settings(), "webhook_allow_http", True)
    monkeypatch.setattr(get_settings(), "webhook_allow_private_targets", True)

    response = await client.post(
        "/v1/webhooks", headers=bearer(await make_agency(), Role.AGENCY_ADMIN), json={"url": url}
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert (error["field"], message in error["message"]) == ("url", True)


@pytest.mark.parametrize(("url", "message"), CRAFTED_URLS)
async def test_a_crafted_url_already_stored_is_refused_before_sending(url: str, message: str) -> None:
    with pytest.raises(outbound.UnsafeTarget, match=message):
        await outbound.resolve(url, get_settings())
