"""Writers only insert and share no lock; the sequencer orders what they committed.

On PostgreSQL, where writers run at once: a transaction held open after writing its journal
holds nobody up, the feed never skips an event that committed late, and every event reaches
each subscription exactly once however the sequencer, writers and subscription changes interleave.
"""

import asyncio
import os
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import get_settings
from app.db import get_sessionmaker
from app.journal import lock, store
from app.journal.pending import take_journal
from app.models.audit import AuditEvent
from app.models.events import DomainEvent
from app.models.identity import Role
from app.models.webhooks import WebhookDelivery
from app.services import audit, events
from app.unit_of_work import committed
from app.worker import seal_pending
from tests.support.factories import SYSTEM, bearer, make_agency, record_events, seal
from tests.support.webhook_support import allow_loopback, subscribe

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="concurrent writers are a PostgreSQL matter (SQLite has one writer at a time)",
)


async def committed_actions() -> list[str]:
    """What other connections see committed, in the order it was written."""
    async with get_sessionmaker()() as session:
        return list(
            (await session.execute(select(col(AuditEvent.action)).order_by(col(AuditEvent.id)))).scalars()
        )


async def leaves() -> list[str]:
    async with get_sessionmaker()() as session:
        sealed = select(col(AuditEvent.action)).where(col(AuditEvent.seq).is_not(None))
        return list((await session.execute(sealed.order_by(col(AuditEvent.seq)))).scalars())


async def test_a_transaction_held_open_after_writing_audit_events_holds_no_other_writer_up(
    client: httpx.AsyncClient,
) -> None:
    admin = bearer(None, Role.PLATFORM_ADMIN)
    new_agency = {"name": "Agency", "kind": "debt_advice", "local_authority": "Wrexham"}
    async with get_sessionmaker()() as held:
        audit.record(held, SYSTEM, "test.held", "test")
        await store.write(held, take_journal(held))  # written, its transaction left open

        writers = asyncio.gather(*(record_events(2) for _ in range(5)))
        requests = asyncio.gather(
            *(client.post("/v1/agencies", json=new_agency, headers=admin) for _ in range(5))
        )
        _, responses = await asyncio.wait_for(asyncio.gather(writers, requests), timeout=20)
        assert [r.status_code for r in responses] == [201] * 5
        assert Counter(await committed_actions()) == {"test.recorded": 10, "agency.created": 5}
        await seal()
        assert len(await leaves()) == 15  # the sequencer sealed what was committed, without waiting

        await held.commit()
    await seal()

    assert (await leaves())[-1] == "test.held"  # written first, committed last: sealed last
    async with get_sessionmaker()() as session:
        assert (await audit.verify_log(session, get_settings())).valid


async def emit(session: AsyncSession, from_agency: uuid.UUID, to_agency: uuid.UUID) -> None:
    events.emit(
        session,
        "referral.created",
        referral_id=uuid.uuid4(),
        status="submitted",
        from_agency_id=from_agency,
        to_agency_id=to_agency,
    )


async def test_the_feed_does_not_skip_an_event_that_committed_after_a_later_written_one(
    client: httpx.AsyncClient,
) -> None:
    mine, partner = await make_agency(), await make_agency()
    headers = bearer(mine)
    async with get_sessionmaker()() as late:
        await emit(late, mine.id, partner.id)
        await store.write(late, take_journal(late))  # written first, not committed yet
        async with get_sessionmaker()() as early:
            await emit(early, partner.id, mine.id)
            await store.write(early, take_journal(early))
            await early.commit()
        await seal()
        first = (await client.get("/v1/events", headers=headers)).json()
        await late.commit()
    await seal()
    second = (await client.get("/v1/events", params={"after": first["next_cursor"]}, headers=headers)).json()

    assert [item["status"] for item in first["items"]] == ["submitted"]
    assert len(second["items"]) == 1
    async with get_sessionmaker()() as session:
        rows = (await session.execute(select(DomainEvent).order_by(col(DomainEvent.seq)))).scalars().all()
    assert [r.position for r in rows] == [2, 1]  # written first, positioned second
    assert second["items"][0]["id"] == str(rows[0].id)


async def test_a_subscription_change_and_the_sequencer_wait_for_each_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = allow_loopback(monkeypatch)
    agency = await make_agency()
    async with get_sessionmaker()() as sequencing:
        await lock.take(sequencing)  # as a sequencer in the middle of a batch
        subscribing = asyncio.create_task(subscribe(settings, agency, "http://127.0.0.1:9/hooks"))
        await asyncio.sleep(0.3)
        assert not subscribing.done()  # waits until the batch commits
        await sequencing.commit()
    await subscribing

    async with get_sessionmaker()() as changing:
        await lock.fence(changing)  # as a subscription change not yet committed
        assert await seal_pending(settings) is None  # the worker's sequencer skips this round
        await changing.commit()
    assert await seal_pending(settings) is not None


async def test_events_reach_each_subscription_exactly_once_whatever_runs_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = allow_loopback(monkeypatch, audit_seal_batch_size=3)
    mine, partner = await make_agency(), await make_agency()
    await subscribe(settings, mine, "http://127.0.0.1:9/mine")
    await subscribe(settings, partner, "http://127.0.0.1:9/partner")

    async def write(n: int) -> None:
        async def work(session: AsyncSession) -> None:
            await emit(session, mine.id, partner.id)
            audit.record(session, SYSTEM, "test.recorded", "test", n)

        await committed(work)

    async def sequence() -> None:
        for _ in range(10):
            await seal_pending(settings)
            await asyncio.sleep(0)

    await asyncio.gather(*(write(n) for n in range(30)), *(sequence() for _ in range(4)))
    await seal()

    async with get_sessionmaker()() as session:
        positions = [p for p in (await session.execute(select(col(DomainEvent.position)))).scalars() if p]
        per_pair = await session.execute(
            select(func.count())
            .select_from(WebhookDelivery)
            .group_by(col(WebhookDelivery.subscription_id), col(WebhookDelivery.event_id))
        )
        assert sorted(positions) == list(range(1, 31))
        assert sorted(per_pair.scalars()) == [1] * 60
        assert (await audit.verify_log(session, settings)).events_checked >= 30
