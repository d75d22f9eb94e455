"""The Prometheus scrape endpoint, behind a bearer token of its own (METRICS_TOKEN)."""

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError

from app import metrics
from app.db import get_sessionmaker, utcnow
from app.deps import SettingsDep
from app.errors import NotAuthenticated
from app.journal import sequencer

router = APIRouter(tags=["health"])
metrics_token = HTTPBearer(
    scheme_name="MetricsToken", description="The METRICS_TOKEN setting, sent by the scraper", auto_error=False
)


async def scraper(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(metrics_token)]
) -> None:
    """Let a scrape through with METRICS_TOKEN as its bearer token; with none set, outside production."""
    expected = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    if expected is None and settings.environment != "production":
        return
    given = credentials.credentials if credentials else ""
    if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
        raise NotAuthenticated("Scraping needs the METRICS_TOKEN bearer token.")


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(scraper)],
    responses={
        200: {"description": "Prometheus text exposition format", "content": {"text/plain": {}}},
        401: {"description": "Not METRICS_TOKEN (in production, always when it is unset)"},
    },
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
