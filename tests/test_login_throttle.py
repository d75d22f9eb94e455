"""Password guessing is bounded per account, whatever addresses it comes from, and `serve` believes
X-Forwarded-For only from the proxies it is told to."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlmodel import col
from starlette.types import Receive, Scope, Send

from app import cli
from app.config import get_settings
from app.db import get_sessionmaker
from app.errors import OAuthError
from app.models.audit import AuditEvent
from app.models.identity import User
from app.models.login_throttle import LoginThrottle
from app.security import verify_secret
from app.services import identity
from tests.support.factories import make_agency, make_user, password_token

PASSWORD = "correct horse battery"


@pytest.fixture
async def user() -> User:
    return await make_user(await make_agency(), password=PASSWORD)


async def fail(client: httpx.AsyncClient, username: str, times: int) -> None:
    for _ in range(times):
        response = await password_token(client, username, "wrong guess")
        assert response.status_code == 400


async def audited(action: str) -> list[AuditEvent]:
    async with get_sessionmaker()() as session:
        query = select(AuditEvent).where(col(AuditEvent.action) == action).order_by(col(AuditEvent.seq))
        return list((await session.execute(query)).scalars())


async def shift_throttles(**ago: timedelta) -> None:
    """Move every throttle's window start or lock end back in time, as if time had passed."""
    async with get_sessionmaker()() as session:
        for throttle in (await session.execute(select(LoginThrottle))).scalars():
            for name, delta in ago.items():
                setattr(throttle, name, getattr(throttle, name) - delta)
        await session.commit()


async def test_ten_failures_lock_the_account_with_the_answer_a_wrong_password_gets(
    client: httpx.AsyncClient, user: User
) -> None:
    wrong = await password_token(client, user.username, "wrong guess")
    await fail(client, user.username, 9)

    right = await password_token(client, user.username, PASSWORD)

    assert (right.status_code, right.json(), right.headers) == (
        wrong.status_code,
        wrong.json(),
        wrong.headers,
    )
    [locked] = await audited("auth.locked")
    assert (locked.actor_kind, locked.actor_id) == ("user", str(user.id))
    assert locked.details == {"grant_type": "password", "locked_for_seconds": 900}
    assert (await audited("auth.login_failed"))[-1].details["reason"] == "locked"


async def test_a_locked_account_costs_a_password_check_like_any_other_refusal(
    client: httpx.AsyncClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fail(client, user.username, 10)
    checks: list[str] = []

    def counted(secret: str, secret_hash: str | None) -> bool:
        checks.append("checked")
        return verify_secret(secret, secret_hash)

    monkeypatch.setattr("app.services.identity.verify_secret", counted)

    await password_token(client, user.username, PASSWORD)
    await password_token(client, user.username, "wrong guess")
    await password_token(client, "nobody-" + user.username, "wrong guess")

    assert checks == ["checked"] * 3


async def test_the_lock_ends_after_its_time(client: httpx.AsyncClient, user: User) -> None:
    await fail(client, user.username, 10)
    await shift_throttles(locked_until=timedelta(minutes=16))

    response = await password_token(client, user.username, PASSWORD)

    assert response.status_code == 200, response.text
    async with get_sessionmaker()() as session:
        assert (await session.execute(select(LoginThrottle))).first() is None  # counting starts again


async def test_failures_spread_beyond_the_window_do_not_lock(client: httpx.AsyncClient, user: User) -> None:
    await fail(client, user.username, 9)
    await shift_throttles(window_started_at=timedelta(minutes=16))
    await fail(client, user.username, 9)

    assert (await password_token(client, user.username, PASSWORD)).status_code == 200
    assert await audited("auth.locked") == []


async def test_failures_at_the_same_moment_are_each_counted(client: httpx.AsyncClient, user: User) -> None:
    await asyncio.gather(*(password_token(client, user.username, "wrong guess") for _ in range(12)))

    assert len(await audited("auth.locked")) == 1
    assert (await password_token(client, user.username, PASSWORD)).status_code == 400


async def test_an_unknown_name_is_counted_the_same_way(client: httpx.AsyncClient) -> None:
    await fail(client, "nobody-at-all", 10)

    [locked] = await audited("auth.locked")
    assert (locked.actor_kind, locked.actor_id) == ("anonymous", None)


async def test_the_staff_sign_in_shares_the_lock(client: httpx.AsyncClient, user: User) -> None:
    await fail(client, user.username, 10)

    async with get_sessionmaker()() as session:
        with pytest.raises(OAuthError):
            await identity.authenticate_user(session, get_settings(), user.username, PASSWORD)


async def client_address(peer: str, monkeypatch: pytest.MonkeyPatch, trusted: str | None = None) -> str:
    """The client address the application sees behind `serve`'s uvicorn, for a request from `peer`
    that claims to be forwarded for 203.0.113.9."""
    if trusted is not None:
        monkeypatch.setattr(get_settings(), "forwarded_allow_ips", trusted)
    options: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda _app, **kwargs: options.update(kwargs))
    cli.serve(host="127.0.0.1", port=8000, workers=1)
    seen: list[str] = []

    async def probe(scope: Scope, _receive: Receive, _send: Send) -> None:
        seen.append(scope["client"][0])

    config = uvicorn.Config(probe, **{k: v for k, v in options.items() if k not in {"factory", "workers"}})
    config.load()
    scope = {"type": "http", "client": (peer, 40000), "headers": [(b"x-forwarded-for", b"203.0.113.9")]}
    await config.loaded_app(scope, None, None)
    return seen[0]


async def test_serve_believes_no_forwarded_address_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert await client_address("127.0.0.1", monkeypatch) == "127.0.0.1"


async def test_serve_believes_only_the_proxies_it_is_told_to(monkeypatch: pytest.MonkeyPatch) -> None:
    assert await client_address("10.0.0.5", monkeypatch, trusted="10.0.0.5") == "203.0.113.9"
    assert await client_address("127.0.0.1", monkeypatch, trusted="10.0.0.5") == "127.0.0.1"
