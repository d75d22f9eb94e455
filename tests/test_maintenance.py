"""Housekeeping that the worker does on a timer: retention, and forgetting old idempotency keys."""

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from app.config import get_settings
from app.db import get_sessionmaker, utcnow
from app.models.idempotency import IdempotencyRecord
from app.models.referral import ReferralStatus
from app.models.subject import Subject
from app.unit_of_work import committed
from app.worker import retention_pass, run
from tests.support.referral_helpers import make_network, referral_body, subject_body
from tests.support.referral_rows import insert_referral


async def idempotency_keys() -> int:
    async with get_sessionmaker()() as session:
        return int((await session.execute(select(func.count()).select_from(IdempotencyRecord))).scalar_one())


async def age_keys(hours: int) -> None:
    async def work(session):  # type: ignore[no-untyped-def]
        for record in (await session.execute(select(IdempotencyRecord))).scalars():
            record.created_at = utcnow() - timedelta(hours=hours)

    await committed(work)


async def test_retention_pass_anonymises_and_purges_expired_keys(client: httpx.AsyncClient) -> None:
    net = await make_network()
    long_ago = utcnow() - timedelta(days=get_settings().retention_days + 30)
    old = await insert_referral(
        net.centre, net.debt_service, created_at=long_ago, status=ReferralStatus.COMPLETED
    )
    headers = {**net.centre_headers, "Idempotency-Key": "old-key"}
    # Someone else: the same person named again would be the old referral's subject, still in use.
    body = referral_body(net.debt_service, subject=subject_body(given_name="Sian"))
    assert (await client.post("/v1/referrals", json=body, headers=headers)).status_code == 201
    await age_keys(get_settings().idempotency_ttl_hours + 1)

    result = await retention_pass(get_settings())

    assert (result.anonymised, result.idempotency_keys_purged) == (1, 1)
    assert await idempotency_keys() == 0
    async with get_sessionmaker()() as session:
        subject = await session.get(Subject, old.subject_id)
        assert subject is not None
        assert subject.anonymised_at is not None


async def test_fresh_idempotency_keys_are_kept(client: httpx.AsyncClient) -> None:
    net = await make_network()
    headers = {**net.centre_headers, "Idempotency-Key": "fresh-key"}
    await client.post("/v1/referrals", json=referral_body(net.debt_service), headers=headers)
    await age_keys(get_settings().idempotency_ttl_hours - 1)
    assert (await retention_pass(get_settings())).idempotency_keys_purged == 0
    assert await idempotency_keys() == 1


async def test_an_anonymised_persons_consent_cannot_be_reused(client: httpx.AsyncClient) -> None:
    net = await make_network()
    long_ago = utcnow() - timedelta(days=get_settings().retention_days + 30)
    old = await insert_referral(
        net.centre, net.debt_service, created_at=long_ago, status=ReferralStatus.COMPLETED
    )
    await retention_pass(get_settings())

    body = referral_body(net.debt_service, consent=None, subject=None, consent_id=str(old.consent_id))
    response = await client.post("/v1/referrals", json=body, headers=net.centre_headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "consent_id"


async def test_the_long_running_worker_applies_retention(client: httpx.AsyncClient) -> None:
    net = await make_network()
    long_ago = utcnow() - timedelta(days=get_settings().retention_days + 30)
    old = await insert_referral(
        net.centre, net.debt_service, created_at=long_ago, status=ReferralStatus.DECLINED
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(run(get_settings(), once=False, poll_interval=0.05, stop=stop))

    for _ in range(100):
        async with get_sessionmaker()() as session:
            subject = await session.get(Subject, old.subject_id)
            if subject is not None and subject.anonymised_at is not None:
                break
        await asyncio.sleep(0.05)
    stop.set()
    await worker

    assert subject is not None
    assert subject.anonymised_at is not None
