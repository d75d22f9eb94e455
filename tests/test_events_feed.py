"""The event feed: an agency's events in commit order, resumable from a stored cursor."""

import base64
import binascii
import json
import uuid

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import get_settings
from app.db import get_sessionmaker
from app.models.events import DomainEvent, EventType
from app.models.identity import Role
from app.pagination import encode_cursor
from app.services import audit, events
from app.unit_of_work import committed
from tests.support.factories import SYSTEM, bearer, make_agency, seal
from tests.support.webhook_support import emit_event, event_ids


async def read_all(
    client: httpx.AsyncClient, headers: dict[str, str], after: str | None, limit: int
) -> tuple[list[dict[str, object]], str]:
    """Page through the feed to its end; the items and the cursor to store."""
    items: list[dict[str, object]] = []
    while True:
        params = {"limit": str(limit), **({"after": after} if after else {})}
        response = await client.get("/v1/events", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        after = page["next_cursor"]
        assert after
        if not page["has_more"]:
            return items, after


async def test_feed_is_ordered_resumable_and_scoped_to_the_agency(client: httpx.AsyncClient) -> None:
    mine, partner, other = await make_agency(), await make_agency(), await make_agency()
    await emit_event(mine, partner)
    await emit_event(partner, other)
    await emit_event(partner, mine, EventType.REFERRAL_STATUS_CHANGED, "accepted")
    await emit_event(other, partner)
    await emit_event(mine, other, EventType.MESSAGE_POSTED, None)
    await emit_event(other, mine, EventType.REFERRAL_VIEWED, "submitted")
    every = await event_ids()
    headers = bearer(mine)

    items, cursor = await read_all(client, headers, None, limit=2)

    assert [i["id"] for i in items] == [every[0], every[2], every[4], every[5]]
    assert [i["type"] for i in items][:2] == ["referral.created", "referral.status_changed"]
    assert set(items[0]) == {"id", "type", "occurred_at", "referral_id", "status"}

    await emit_event(partner, other)
    await emit_event(other, mine, EventType.OUTCOME_RECORDED, "completed")
    later, next_cursor = await read_all(client, headers, cursor, limit=2)

    assert [i["id"] for i in later] == [(await event_ids())[-1]]
    assert later[0]["status"] == "completed"
    assert next_cursor != cursor


async def test_end_of_feed_keeps_a_cursor_to_poll_with(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    headers = bearer(agency)

    empty = (await client.get("/v1/events", headers=headers)).json()
    assert empty["items"] == []
    assert empty["has_more"] is False
    assert empty["next_cursor"]

    await emit_event(agency, await make_agency())
    after_first = (
        await client.get("/v1/events", params={"after": empty["next_cursor"]}, headers=headers)
    ).json()
    assert [i["id"] for i in after_first["items"]] == await event_ids()

    again = (
        await client.get("/v1/events", params={"after": after_first["next_cursor"]}, headers=headers)
    ).json()
    assert again == {"items": [], "next_cursor": after_first["next_cursor"], "has_more": False}


async def test_feed_needs_an_agency_and_the_read_scope(client: httpx.AsyncClient) -> None:
    platform_admin = await client.get(
        "/v1/events", headers=bearer(None, Role.PLATFORM_ADMIN, scopes=["referrals:read"])
    )
    no_scope = await client.get("/v1/events", headers=bearer(await make_agency(), Role.AUDITOR))

    assert platform_admin.status_code == 403
    assert platform_admin.headers["content-type"] == "application/problem+json"
    assert no_scope.status_code == 403
    assert no_scope.json()["required_scopes"] == ["referrals:read"]


async def test_a_forged_feed_cursor_is_a_422_naming_cursor(client: httpx.AsyncClient) -> None:
    headers = bearer(await make_agency())
    for forged in ("not-a-cursor", "WyJ4Il0", "Wy0xXQ"):  # garbage, ["x"], [-1]
        response = await client.get("/v1/events", params={"after": forged}, headers=headers)
        assert response.status_code == 422, forged
        assert response.json()["errors"][0]["field"] == "cursor"


async def test_one_unit_of_works_events_keep_their_order_and_their_audit_log_verifies(
    client: httpx.AsyncClient,
) -> None:
    mine, partner = await make_agency(), await make_agency()
    kinds = [EventType.REFERRAL_CREATED, EventType.REFERRAL_VIEWED, EventType.MESSAGE_POSTED] * 7

    async def work(session: AsyncSession) -> None:
        for n, kind in enumerate(kinds):
            events.emit(
                session,
                kind,
                referral_id=uuid.uuid4(),
                status=None,
                from_agency_id=mine.id if n % 2 else partner.id,
                to_agency_id=partner.id if n % 2 else mine.id,
            )
            # Codes only in real events; the odd characters check the stored details hash alike.
            audit.record(session, SYSTEM, "test.recorded", "test", n, details={"code": f"ñ—✓ {n}", "n": n})

    await committed(work)
    await seal()
    items, _ = await read_all(client, bearer(mine), None, limit=50)

    assert [i["type"] for i in items] == [k.value for k in kinds]
    async with get_sessionmaker()() as session:
        verification = await audit.verify_log(session, get_settings())
    assert verification.valid, verification
    assert verification.events_checked >= len(kinds)


def readable(cursor: str) -> object:
    """What a cursor gives away read as the signed cursors are, base64 JSON before a dot; None if nothing."""
    body = cursor.partition(".")[0]
    try:
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        return None


async def position_of(event_id: str) -> int:
    async with get_sessionmaker()() as session:
        query = select(col(DomainEvent.position)).where(col(DomainEvent.id) == uuid.UUID(event_id))
        position = (await session.execute(query)).scalar_one()
    assert position is not None
    return position


async def feed_page(client: httpx.AsyncClient, headers: dict[str, str], after: str | None) -> httpx.Response:
    return await client.get("/v1/events", params={"after": after} if after else {}, headers=headers)


def refused(response: httpx.Response) -> bool:
    return response.status_code == 422 and response.json()["errors"] == [
        {"field": "cursor", "message": "is not a cursor this service issued"}
    ]


async def test_a_cursor_shows_nothing_of_other_agencies_events(client: httpx.AsyncClient) -> None:
    mine, partner, busy, their_partner = [await make_agency() for _ in range(4)]
    headers = bearer(mine)
    await emit_event(mine, partner)
    first = (await feed_page(client, headers, None)).json()
    others = 12  # enough to carry the platform's position from one digit to two
    for _ in range(others):
        await emit_event(busy, their_partner)
    await emit_event(partner, mine, EventType.REFERRAL_STATUS_CHANGED, "accepted")
    second = (await feed_page(client, headers, first["next_cursor"])).json()

    ours = [first["items"][0]["id"], second["items"][0]["id"]]
    positions = [await position_of(i) for i in ours]
    assert positions[1] - positions[0] == others + 1  # what a readable cursor would tell
    for cursor in (first["next_cursor"], second["next_cursor"]):
        assert readable(cursor) is None
        assert "." not in cursor
    assert len(first["next_cursor"]) == len(second["next_cursor"])


async def test_a_cursor_given_to_one_agency_is_refused_for_another(client: httpx.AsyncClient) -> None:
    mine, other = await make_agency(), await make_agency()
    await emit_event(mine, other)
    empty = (await feed_page(client, bearer(await make_agency()), None)).json()["next_cursor"]
    cursor = (await feed_page(client, bearer(mine), None)).json()["next_cursor"]

    assert refused(await feed_page(client, bearer(other), cursor))
    assert refused(await feed_page(client, bearer(other), empty))  # even one at the very start
    assert (await feed_page(client, bearer(mine), cursor)).status_code == 200


async def test_a_tampered_cursor_is_refused(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    headers = bearer(agency)
    await emit_event(agency, await make_agency())
    cursor = (await feed_page(client, headers, None)).json()["next_cursor"]
    middle = len(cursor) // 2
    flipped = cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]

    for tampered in (flipped, cursor[:-1], cursor + "A", cursor + "!", cursor[::-1], cursor + ".x"):
        assert refused(await feed_page(client, headers, tampered)), tampered


async def test_cursors_are_sealed_under_secrets_key_and_rotate_with_it(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    agency = await make_agency()
    headers = bearer(agency)
    await emit_event(agency, await make_agency())
    monkeypatch.setattr(get_settings(), "secrets_key", SecretStr(old))
    cursor = (await feed_page(client, headers, None)).json()["next_cursor"]
    await emit_event(await make_agency(), agency)

    monkeypatch.setattr(get_settings(), "secrets_key", SecretStr(f"{new},{old}"))
    resumed = (await feed_page(client, headers, cursor)).json()
    assert [i["id"] for i in resumed["items"]] == (await event_ids())[-1:]
    reissued = resumed["next_cursor"]

    monkeypatch.setattr(get_settings(), "secrets_key", SecretStr(new))
    assert (await feed_page(client, headers, reissued)).json()["items"] == []
    assert refused(await feed_page(client, headers, cursor))


async def test_a_signed_cursor_from_before_encryption_still_resumes(client: httpx.AsyncClient) -> None:
    agency = await make_agency()
    headers = bearer(agency)
    await emit_event(agency, await make_agency())
    await emit_event(await make_agency(), agency)
    first, last = await event_ids()

    page = (await feed_page(client, headers, encode_cursor("events", [await position_of(first)]))).json()

    assert [i["id"] for i in page["items"]] == [last]
    assert readable(page["next_cursor"]) is None
