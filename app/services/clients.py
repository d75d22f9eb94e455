"""Partner systems' accounts: disabled, or given a new secret, with their tokens stopped at once."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import accounts
from app.errors import NotFound
from app.models.audit import ActorKind, AuditActor
from app.models.identity import ApiClient
from app.security import hash_secret
from app.services import audit


async def _get(session: AsyncSession, client_id: str) -> ApiClient:
    query = select(ApiClient).where(col(ApiClient.client_id) == client_id)
    client = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if client is None:
        raise NotFound(f"No client with id {client_id!r}.")
    return client


def _revoke(session: AsyncSession, client: ApiClient) -> None:
    client.token_version += 1
    accounts.changed(session, ActorKind.CLIENT, client.client_id)


async def disable(session: AsyncSession, actor: AuditActor, client_id: str) -> ApiClient:
    """Stop the client: no new tokens, and the ones it holds are refused from now on."""
    client = await _get(session, client_id)
    client.is_active = False
    _revoke(session, client)
    audit.record(session, actor, "client.disabled", "client", client.client_id)
    return client


async def rotate_secret(session: AsyncSession, actor: AuditActor, client_id: str, secret: str) -> ApiClient:
    """Give the client a new secret; tokens issued with the old one stop working."""
    client = await _get(session, client_id)
    client.secret_hash = hash_secret(secret)
    _revoke(session, client)
    audit.record(session, actor, "client.secret_rotated", "client", client.client_id)
    return client
