"""`Idempotency-Key` on POST: the same key and body return the first response. The key is claimed
in the request's own transaction, so exactly one request does the work (docs/architecture.md)."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.config import get_settings
from app.db import utcnow
from app.errors import AppError, Unprocessable
from app.models.idempotency import IdempotencyRecord
from app.security import Principal

HEADER = "Idempotency-Key"


class IdempotentReplay(AppError):
    """Not a failure: the stored first response, short-circuiting the repeated request."""

    status, code, title = 200, "idempotent-replay", "Replayed"

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__("replayed")
        # Copied now: the request's transaction is rolled back before the response is rendered.
        self.stored_status = record.status_code or 200
        self.stored_body = record.response_body
        self.stored_headers = {**(record.response_headers or {}), "Idempotent-Replayed": "true"}

    def render(self, request: Request) -> Response:
        return JSONResponse(self.stored_body, status_code=self.stored_status, headers=self.stored_headers)


@dataclass(frozen=True, slots=True)
class Claim:
    record: IdempotencyRecord


def _fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _owner(principal: Principal) -> str:
    return f"{principal.kind.value}:{principal.id}"


async def claim(
    session: AsyncSession, principal: Principal, key: str, method: str, path: str, body: bytes
) -> Claim:
    """Claim `key` for this request, or raise the replay of the request that already used it."""
    if not 1 <= len(key) <= 255:
        raise Unprocessable.field(HEADER, "must be 1 to 255 characters")
    owner, fingerprint = _owner(principal), _fingerprint(method, path, body)
    await _forget_expired(session, owner, key)
    values = {"principal": owner, "key": key, "fingerprint": fingerprint}
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(IdempotencyRecord).values(id=uuid.uuid4(), **values)
    await session.execute(statement.on_conflict_do_nothing(index_elements=["principal", "key"]))
    query = select(IdempotencyRecord).where(
        col(IdempotencyRecord.principal) == owner, col(IdempotencyRecord.key) == key
    )
    record = (await session.execute(query.execution_options(populate_existing=True))).scalar_one()
    if record.fingerprint != fingerprint:
        raise Unprocessable.field(HEADER, "was already used with a different request")
    if record.status_code is not None:
        raise IdempotentReplay(record)
    return Claim(record)


async def _forget_expired(session: AsyncSession, owner: str, key: str) -> None:
    cutoff = _expiry_cutoff()
    await session.execute(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.principal) == owner,
            col(IdempotencyRecord.key) == key,
            col(IdempotencyRecord.created_at) < cutoff,
        )
    )


def _expiry_cutoff() -> datetime:
    return utcnow() - timedelta(hours=get_settings().idempotency_ttl_hours)


async def purge_expired(session: AsyncSession) -> int:
    """Delete keys past their lifetime; their stored responses can hold personal data."""
    expired = col(IdempotencyRecord.created_at) < _expiry_cutoff()
    result = await session.execute(delete(IdempotencyRecord).where(expired))
    return int(getattr(result, "rowcount", 0) or 0)


def remember(claim: Claim | None, status_code: int, body: BaseModel, headers: dict[str, str]) -> None:
    """Store the response a claimed request is about to return, in the same transaction."""
    if claim is None:
        return
    claim.record.status_code = status_code
    claim.record.response_body = body.model_dump(mode="json")
    claim.record.response_headers = headers
