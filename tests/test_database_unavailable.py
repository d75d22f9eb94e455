"""A database that goes away, is starting up, ends a connection, or has no connection free: 503.

Each is answered with a problem document and Retry-After, counted by cause, and the service
recovers on its own once the database is back. The database is cut off by a TCP proxy the
test closes, never by stopping the server everyone shares.
"""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.db import get_engine
from tests.support.fault_support import (
    POSTGRES,
    assert_unavailable,
    network_with_accounts,
    pg_table_locked,
    proxied,
    reconfigured,
    unavailable_count,
    unhooked_client,
    waiting_on_a_lock,
)
from tests.support.referral_helpers import Network, referral_body, subject_body
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's connections, errors and locks")
INBOX = "/v1/referrals?box=inbox"


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """No hook that needs the database these tests take away (accounts are made up front)."""
    async with unhooked_client(app) as http:
        yield http


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    async with proxied(database_url) as proxy:
        yield proxy


async def test_a_database_gone_away_is_a_503_until_it_returns(
    proxy: TcpProxy, client: httpx.AsyncClient
) -> None:
    net = await network_with_accounts()
    assert (await client.get(INBOX, headers=net.debt_headers)).status_code == 200
    refused = unavailable_count("refused")

    await proxy.close()
    for _ in range(3):
        assert_unavailable(await client.get(INBOX, headers=net.debt_headers))
    assert unavailable_count("refused") > refused

    await proxy.open()
    assert (await client.get(INBOX, headers=net.debt_headers)).status_code == 200


async def test_a_connection_cut_under_a_request_is_a_503_and_never_used_again(
    proxy: TcpProxy, client: httpx.AsyncClient
) -> None:
    net = await network_with_accounts()
    assert (await client.get(INBOX, headers=net.debt_headers)).status_code == 200
    disconnected = unavailable_count("disconnected")

    await proxy.close()  # the pooled connection dies with it
    await proxy.open()

    assert_unavailable(await client.get(INBOX, headers=net.debt_headers))
    assert unavailable_count("disconnected") == disconnected + 1
    for _ in range(3):
        assert (await client.get(INBOX, headers=net.debt_headers)).status_code == 200


async def test_a_connection_left_unusable_by_a_shutdown_notice_is_discarded_after_one_503(
    proxy: TcpProxy, client: httpx.AsyncClient
) -> None:
    net = await network_with_accounts()
    assert (await client.get(INBOX, headers=net.debt_headers)).status_code == 200
    shutdown = unavailable_count("shutdown")

    await proxy.announce_shutdown()  # the socket stays open, so the driver takes it as usable

    assert_unavailable(await client.get(INBOX, headers=net.debt_headers))
    assert unavailable_count("shutdown") == shutdown + 1
    for _ in range(3):
        assert (await client.get(INBOX, headers=net.debt_headers)).status_code == 200


async def test_a_database_still_starting_up_is_a_503(proxy: TcpProxy, client: httpx.AsyncClient) -> None:
    net = await network_with_accounts()
    starting = unavailable_count("starting")
    await get_engine().dispose()  # every request now needs a new connection
    proxy.starting_up()

    assert_unavailable(await client.get(INBOX, headers=net.debt_headers))
    assert unavailable_count("starting") == starting + 1

    proxy.starting_up(False)
    assert (await client.get(INBOX, headers=net.debt_headers)).status_code == 200


async def test_a_backend_shut_down_mid_request_is_a_503_and_its_connection_is_discarded(
    database_url: str, client: httpx.AsyncClient
) -> None:
    net = await network_with_accounts()
    # The server's notice of its shutdown and the closing of the socket race: either is heard.
    ended = unavailable_count("shutdown") + unavailable_count("disconnected")

    async with pg_table_locked(database_url) as conn:
        pending = asyncio.create_task(create(client, net, "Waiting"))
        await conn.execute("SELECT pg_terminate_backend($1)", await waiting_on_a_lock(conn))
        answer = await pending

    assert_unavailable(answer)
    assert unavailable_count("shutdown") + unavailable_count("disconnected") == ended + 1
    for n in range(3):
        assert (await create(client, net, f"After{n}")).status_code == 201


async def test_no_connection_free_within_the_pool_wait_is_a_503(
    database_url: str, client: httpx.AsyncClient
) -> None:
    net = await network_with_accounts()
    pool_timeouts = unavailable_count("pool_timeout")
    one_connection = {"DATABASE_POOL_SIZE": "1", "DATABASE_MAX_OVERFLOW": "0"}

    async with reconfigured(**one_connection, DATABASE_POOL_TIMEOUT_SECONDS="1"):
        async with pg_table_locked(database_url) as conn:
            holder = asyncio.create_task(create(client, net, "Holder"))  # takes the only connection
            await waiting_on_a_lock(conn)
            assert_unavailable(await client.get(INBOX, headers=net.debt_headers))
        assert (await holder).status_code == 201

    assert unavailable_count("pool_timeout") == pool_timeouts + 1


async def create(client: httpx.AsyncClient, net: Network, family_name: str) -> httpx.Response:
    body = referral_body(net.debt_service, subject=subject_body(family_name=family_name))
    return await client.post("/v1/referrals", json=body, headers=net.centre_headers)
