"""The Prometheus scrape endpoint."""

from fastapi import APIRouter, Response

from app import metrics

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text exposition format", "content": {"text/plain": {}}}},
)
async def scrape() -> Response:
    """Request counts and latency histograms by method, route template and status."""
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
