"""Liveness and readiness probes."""

from fastapi import APIRouter
from pydantic import BaseModel

from app import readiness
from app.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process is serving requests."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"description": "The database cannot take a write now (checked within 2 s)"}},
)
async def readyz() -> Health:
    """Readiness: the database would take a write now, checked on a connection outside the pool."""
    problem = await readiness.problem()
    if problem is not None:
        raise ServiceUnavailable(problem)
    return Health(status="ready")
