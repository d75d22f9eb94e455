"""The Prometheus scrape endpoint."""

from fastapi import APIRouter, Response
from sqlalchemy.exc import SQLAlchemyError

from app import metrics
from app.db import get_sessionmaker, utcnow
from app.journal import sequencer

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text exposition format", "content": {"text/plain": {}}}},
)
async def scrape() -> Response:
    """Request counts and latency histograms by method, route template and status; the audit backlog."""
    await _read_audit_backlog()
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


async def _read_audit_backlog() -> None:
    try:
        async with get_sessionmaker()() as session:
            count, oldest = await sequencer.backlog(session)
    except (SQLAlchemyError, OSError):
        metrics.set_audit_backlog(float("nan"), float("nan"))
        return
    metrics.set_audit_backlog(count, (utcnow() - oldest).total_seconds() if oldest else 0.0)
