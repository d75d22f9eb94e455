"""Webhook signing secrets are stored encrypted under SECRETS_KEY, which can be rotated."""

import json
import os
import tempfile
import uuid
from collections.abc import Iterator

import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import col

from app.cli import alembic_config
from app.config import DEVELOPMENT_SECRETS_KEY, Settings, get_settings
from app.db import get_engine, get_sessionmaker
from app.encryption import UndecryptableSecret, decrypt
from app.models.identity import Role
from app.models.webhooks import WebhookSubscription
from app.services import webhooks
from app.unit_of_work import committed
from tests.conftest import _create_pg_database, _drop_pg_database, _run_in_thread
from tests.support.factories import SYSTEM, bearer, make_agency
from tests.support.webhook_support import allow_loopback
from tests.test_cli import run_cli

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
REVISION = "0012"


async def stored_secrets() -> list[str]:
    return await stored_in(get_engine())


async def secrets_read() -> list[str]:
    async with get_sessionmaker()() as session:
        return list((await session.execute(select(col(WebhookSubscription.secret)))).scalars())


async def subscribe(client: httpx.AsyncClient) -> str:
    headers = bearer(await make_agency(), Role.AGENCY_ADMIN)
    response = await client.post("/v1/webhooks", headers=headers, json={"url": "http://127.0.0.1:9/hooks"})
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


async def test_the_secret_is_stored_encrypted(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_loopback(monkeypatch)

    secret = await subscribe(client)

    [stored] = await stored_secrets()
    assert "whsec_" not in stored
    assert secret[len("whsec_") :] not in stored
    assert decrypt(stored) == secret
    assert await secrets_read() == [secret]


async def test_keys_can_be_rotated(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    allow_loopback(monkeypatch)
    monkeypatch.setattr(get_settings(), "secrets_key", SecretStr(OLD))
    secret = await subscribe(client)
    monkeypatch.setattr(get_settings(), "secrets_key", SecretStr(f"{NEW},{OLD}"))
    assert await secrets_read() == [secret]  # the old key still reads what it wrote

    assert await committed(lambda session: webhooks.rotate_secrets(session, SYSTEM)) == 1

    monkeypatch.setattr(get_settings(), "secrets_key", SecretStr(NEW))
    assert await secrets_read() == [secret]
    monkeypatch.setattr(get_settings(), "secrets_key", SecretStr(OLD))
    with pytest.raises(UndecryptableSecret):
        await secrets_read()


@pytest.mark.parametrize("environment", ["test", "production"])
def test_the_public_development_key_is_refused_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match="SECRETS_KEY must be set"):
        Settings(environment=environment, secrets_key=f"{NEW},{DEVELOPMENT_SECRETS_KEY}")


def test_a_malformed_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="Fernet keys"):
        Settings(secrets_key="not-a-fernet-key")


@pytest.fixture
def empty_database(database_url: str) -> Iterator[str]:
    """A database of its own on the same server, for running the migrations step by step."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='rx-migrate-')}/migrate.db"
        return
    server = os.environ["TEST_DATABASE_URL"]
    url = _create_pg_database(server)
    yield url
    _drop_pg_database(url, server)


AGENCY = (
    "INSERT INTO agencies (id, name, kind, local_authority, created_at, updated_at) "
    "VALUES (:id, 'Centre', 'other', 'Wrexham', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)
SUBSCRIPTION = (
    "INSERT INTO webhook_subscriptions (id, agency_id, url, secret, status, created_at, updated_at) "
    "VALUES (:id, :agency_id, 'https://example.org/hooks', :secret, 'active', "
    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


# Going down, SQLite rebuilds the referrals table, reflecting the tables it refers to; one of them
# has an index on an expression, which SQLAlchemy cannot reflect and need not.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
async def test_the_migration_encrypts_secrets_already_stored(empty_database: str) -> None:
    config = alembic_config(empty_database)
    before = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision
    assert isinstance(before, str)
    _run_in_thread(lambda: command.upgrade(config, before))
    engine = create_async_engine(empty_database, poolclass=NullPool)
    plain = "whsec_" + "A" * 44
    try:
        async with engine.begin() as connection:
            agency_id = uuid.uuid4().hex
            await connection.execute(text(AGENCY), {"id": agency_id})
            await connection.execute(
                text(SUBSCRIPTION), {"id": uuid.uuid4().hex, "agency_id": agency_id, "secret": plain}
            )

        _run_in_thread(lambda: command.upgrade(config, REVISION))
        [stored] = await stored_in(engine)
        assert stored != plain
        assert decrypt(stored) == plain

        _run_in_thread(lambda: command.downgrade(config, before))
        assert await stored_in(engine) == [plain]
    finally:
        await engine.dispose()


async def stored_in(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(text("SELECT secret FROM webhook_subscriptions"))).scalars())


async def test_the_rotate_command_re_encrypts_what_is_stored(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_loopback(monkeypatch)
    await subscribe(client)
    before = await stored_secrets()

    result = run_cli("secrets", "rotate")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"re_encrypted": 1}
    after = await stored_secrets()
    assert after != before
    assert [decrypt(s) for s in after] == [decrypt(s) for s in before]
