"""Liveness and readiness probes."""

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import get_engine
from app.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process is serving requests."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"description": "Database unreachable"}})
async def readyz() -> Health:
    """Readiness: the database is reachable and migrated."""
    try:
        async with get_engine().connect() as connection:
            await connection.execute(text("SELECT tree_size FROM audit_checkpoints LIMIT 1"))
    except (SQLAlchemyError, OSError):
        raise ServiceUnavailable("The database is not reachable or not migrated.") from None
    return Health(status="ready")
