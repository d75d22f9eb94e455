"""The ASGI application."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp

from app import openapi, web
from app.config import get_settings
from app.db import dispose_engine
from app.deadline import RequestDeadline
from app.errors import Responses, install_error_handlers
from app.fhir import outcome as fhir_outcome
from app.fhir import routes as fhir_routes
from app.metrics import RequestMetrics
from app.middleware import BodySizeLimit, ErrorBoundary, SecurityHeaders
from app.openreferral import router as openreferral
from app.openreferral.headers import PublicFeedHeaders
from app.ratelimit import RESPONSES as RATE_LIMITED
from app.ratelimit import enforce_rate_limit, unusable_storage
from app.routers import (
    audit,
    consents,
    directory,
    events,
    follow_ups,
    health,
    identity,
    measures,
    metrics,
    notifications,
    oauth,
    referrals,
    reports,
    signposts,
    subjects,
    users,
    webhooks,
)
from app.text_guard import refuse_control_characters
from app.unavailable import RESPONSES as UNAVAILABLE

DESCRIPTION = """Consented referrals between agencies that support families into work.

Partner systems authenticate with OAuth2 client credentials; staff with the password grant.
Every error is an RFC 9457 problem document."""

GUARDED: Responses = {
    401: {"description": "No bearer token, or an invalid or expired one"},
    413: {"description": "Request body over the size limit"},
    **RATE_LIMITED,
    **UNAVAILABLE,
}


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # What start-up built (modules, the app, its models) lives as long as the process; frozen,
    # the collector stops re-scanning it, and full collections pause requests for a few
    # milliseconds instead of some 70 (the inbox p99 at a million referrals).
    gc.freeze()
    # However the app is served, a rate-limit store that does not answer stops it here (the
    # `serve` command asks first, to say so plainly), not with an error on every request.
    problem = await unusable_storage(get_settings())
    if problem:
        raise RuntimeError(problem)
    yield
    await dispose_engine()


class ReferralExchange(openapi.DocumentedAPI):
    """The application, with the security headers added outside every other layer."""

    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's server-error layer too, so that an unexpected 500 carries them.
        return SecurityHeaders(super().build_middleware_stack())


def create_app() -> FastAPI:
    """Build the application with every router and the problem-details error handlers."""
    docs = get_settings().api_docs_served
    app = ReferralExchange(
        title="Referral exchange",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=_lifespan,
        dependencies=[Depends(refuse_control_characters)],
        # Off in production unless PUBLIC_API_DOCS says otherwise: the map of the API is not for everyone.
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    install_error_handlers(app)
    # The last added runs first: metrics see every answer, the error boundary answers the
    # deadline's expiry too, and the deadline runs from before the body is read.
    app.add_middleware(BodySizeLimit, max_bytes=get_settings().max_body_bytes)
    app.add_middleware(RequestDeadline)
    app.add_middleware(ErrorBoundary)
    if get_settings().public_directory:
        app.add_middleware(PublicFeedHeaders)
    app.add_middleware(RequestMetrics)
    # Probes and the scraper are never counted against a budget, nor kept waiting by its store.
    app.include_router(health.router)
    app.include_router(metrics.router)
    limited = [Depends(enforce_rate_limit)]
    for router in (
        oauth.router,
        identity.router,
        directory.router,
        referrals.router,
        measures.router,
        signposts.router,
        follow_ups.router,
        consents.router,
        audit.router,
        reports.router,
        subjects.router,
        users.router,
        notifications.router,
    ):
        app.include_router(router, responses=GUARDED, dependencies=limited)
    app.include_router(events.router, responses=GUARDED, dependencies=limited)
    app.include_router(webhooks.router, responses=GUARDED, dependencies=limited)
    # Before the pages, whose error pages the FHIR interface's OperationOutcomes then wrap.
    app.include_router(fhir_routes.router, dependencies=limited)
    app.include_router(fhir_routes.canonical, dependencies=limited)
    if get_settings().public_directory:
        # Open to all (within the budgets), with its own OpenAPI document at /openreferral/v3/openapi.json.
        app.include_router(openreferral.router, include_in_schema=False, dependencies=limited)
    web.install(app, dependencies=limited)
    fhir_outcome.install(app)
    return app
