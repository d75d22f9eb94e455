"""The event feed: an agency's events in commit order, resumable from a stored cursor."""

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.db import get_sessionmaker
from app.models.events import EventType
from app.models.identity import Role
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
