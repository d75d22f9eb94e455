"""Migrating to a record per referral: each existing referral gets what its consent covered."""

import uuid
from typing import Any

import httpx
from sqlalchemy import text

from app.db import get_engine
from tests.support.referral_helpers import Network, consent_body, create_referral, subject_body
from tests.test_audit_migration import migrate


async def rows(statement: str) -> list[Any]:
    async with get_engine().connect() as conn:
        return list(await conn.execute(text(statement)))


async def change(statement: str) -> None:
    async with get_engine().begin() as conn:
        await conn.execute(text(statement))


def as_uuid(value: object) -> uuid.UUID:
    # A UUID on PostgreSQL, 32 hex digits on SQLite.
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


async def test_existing_referrals_get_the_shared_record_filtered_by_their_consent(
    client: httpx.AsyncClient, net: Network, database_url: str
) -> None:
    full = await create_referral(client, net)
    narrow = await create_referral(
        client,
        net,
        subject=subject_body(given_name="Sian", circumstances=None),
        consent=consent_body(data_categories=["contact"]),
    )
    nothing = await create_referral(
        client,
        net,
        subject=subject_body(given_name="Gareth", phone=None, postcode=None, circumstances=None),
        consent=consent_body(data_categories=[]),
    )
    await migrate(database_url, "0014")
    try:
        # Before, the one shared record was changed by every later referral for the person.
        await change("UPDATE subjects SET phone = '07700900555'")
    finally:
        await migrate(database_url, "head")

    people = {
        as_uuid(referral_id): (phone, circumstances is not None, as_uuid(record_id))
        for referral_id, phone, circumstances, record_id in await rows(
            "SELECT referral_id, phone, circumstances, id FROM referral_people"
        )
    }
    assert {k: v[:2] for k, v in people.items()} == {
        uuid.UUID(full["id"]): ("07700900555", True),
        uuid.UUID(narrow["id"]): ("07700900555", False),
        uuid.UUID(nothing["id"]): (None, False),
    }
    assert len({v[2] for v in people.values()}) == 3
    shown = await client.get(f"/v1/referrals/{narrow['id']}", headers=net.debt_headers)
    assert shown.status_code == 200
    assert (shown.json()["subject"]["given_name"], shown.json()["subject"]["circumstances"]) == ("Sian", None)
