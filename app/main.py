"""The ASGI application."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.db import dispose_engine
from app.errors import install_error_handlers
from app.routers import (
    audit,
    consents,
    directory,
    events,
    health,
    identity,
    oauth,
    referrals,
    reports,
    subjects,
    webhooks,
)

DESCRIPTION = """Consented referrals between agencies that support families into work.

Partner systems authenticate with OAuth2 client credentials; staff with the password grant.
Every error is an RFC 9457 problem document."""


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield
    await dispose_engine()


def create_app() -> FastAPI:
    """Build the application with every router and the problem-details error handlers."""
    app = FastAPI(title="Referral exchange", version="1.0.0", description=DESCRIPTION, lifespan=_lifespan)
    install_error_handlers(app)
    for router in (
        health.router,
        oauth.router,
        identity.router,
        directory.router,
        referrals.router,
        consents.router,
        audit.router,
        reports.router,
        subjects.router,
    ):
        app.include_router(router)
    app.include_router(events.router)
    app.include_router(webhooks.router)
    return app
