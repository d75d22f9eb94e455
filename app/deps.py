"""Request dependencies: the unit-of-work session and the authenticated principal."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.dependencies.models import Dependant
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword, OAuthFlows
from fastapi.routing import APIRoute
from fastapi.security import OAuth2, SecurityScopes
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from app import deadline, unit_of_work
from app.auth import accounts
from app.config import Settings, get_settings
from app.db import get_sessionmaker
from app.errors import AppError, InsufficientScope, NotAuthenticated, Unprocessable
from app.models.identity import Scope
from app.persistence import idempotency
from app.security import InvalidToken, Principal, read_token
from app.services import referrals
from app.services.referrals import PartyAccess

TOKEN_URL = "/v1/oauth/token"  # noqa: S105
SCOPE_DESCRIPTIONS = {
    Scope.REFERRALS_READ.value: "Read the agency's inbox and sent referrals",
    Scope.REFERRALS_WRITE.value: "Create referrals, change their status, record outcomes and messages",
    Scope.DIRECTORY_WRITE.value: "Manage agencies and services (an agency admin: their own services)",
    Scope.AUDIT_READ.value: "Read and verify the audit trail",
    Scope.REPORTS_READ.value: "Read management information",
    Scope.WEBHOOKS_MANAGE.value: "Manage the agency's webhook subscriptions",
    Scope.USERS_MANAGE.value: "Manage staff accounts (an agency admin: their own agency's)",
    Scope.SUBJECTS_EXPORT.value: "Export everything held about one person (platform admin or auditor)",
}


async def get_session() -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed (with its journal) before the response is sent."""
    async with get_sessionmaker()() as session:
        try:
            yield session
        except AppError as exc:
            await (unit_of_work.commit(session) if exc.commit_anyway else unit_of_work.rollback(session))
            raise
        except BaseException:
            await unit_of_work.rollback(session)
            raise
        else:
            # From here the change may be committed: the request is no longer cut off at its
            # deadline, so a 503 never stands for a write that was in fact made.
            deadline.disarm()
            await unit_of_work.commit(session)


# Function scope: the dependency's exit (the commit) runs before the response is sent, so a
# failed commit is reported to the caller instead of being lost after a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def current_settings() -> Settings:
    """The settings, as a dependency.

    Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, and that
    hop on every authenticated request cost more than the rest of the token check.
    """
    return get_settings()


SettingsDep = Annotated[Settings, Depends(current_settings)]


class BearerToken(OAuth2):
    """Bearer tokens from either OAuth2 grant the service issues, as the OpenAPI document shows."""

    def __init__(self) -> None:
        flows = OAuthFlows(
            clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_URL, scopes=SCOPE_DESCRIPTIONS),
            password=OAuthFlowPassword(tokenUrl=TOKEN_URL, scopes=SCOPE_DESCRIPTIONS),
        )
        super().__init__(flows=flows, scheme_name="OAuth2", auto_error=False)

    async def __call__(self, request: HTTPConnection) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None


bearer_token = BearerToken()


async def get_principal(
    security_scopes: SecurityScopes,
    token: Annotated[str | None, Depends(bearer_token)],
    settings: SettingsDep,
    session: SessionDep,
) -> Principal:
    """The verified caller, refused with 401 (no, bad or revoked token) or 403 (missing scope)."""
    if token is None:
        raise NotAuthenticated()
    try:
        principal = read_token(token, settings)
    except InvalidToken:
        raise NotAuthenticated("The bearer token is invalid or has expired.", error="invalid_token") from None
    if not await accounts.still_active(session, principal.kind, principal.id, principal.version):
        raise NotAuthenticated("The account is disabled or its tokens were revoked.", error="invalid_token")
    missing = [s for s in security_scopes.scopes if s not in principal.scopes]
    if missing:
        raise InsufficientScope(missing)
    return principal


CurrentPrincipal = Annotated[Principal, Security(get_principal)]
ReferralReader = Annotated[Principal, Security(get_principal, scopes=[Scope.REFERRALS_READ.value])]
ReferralWriter = Annotated[Principal, Security(get_principal, scopes=[Scope.REFERRALS_WRITE.value])]
DirectoryWriter = Annotated[Principal, Security(get_principal, scopes=[Scope.DIRECTORY_WRITE.value])]
AuditReader = Annotated[Principal, Security(get_principal, scopes=[Scope.AUDIT_READ.value])]
ReportsReader = Annotated[Principal, Security(get_principal, scopes=[Scope.REPORTS_READ.value])]
WebhookManager = Annotated[Principal, Security(get_principal, scopes=[Scope.WEBHOOKS_MANAGE.value])]
UserManager = Annotated[Principal, Security(get_principal, scopes=[Scope.USERS_MANAGE.value])]
SubjectExporter = Annotated[Principal, Security(get_principal, scopes=[Scope.SUBJECTS_EXPORT.value])]


async def _idempotency_claim(
    request: Request,
    session: SessionDep,
    principal: ReferralWriter,
    idempotency_key: Annotated[
        str | None,
        Header(description="Repeat a POST safely: the same key and body return the first response."),
    ] = None,
) -> idempotency.Claim | None:
    if idempotency_key is None:
        return None
    body = await request.body()
    return await idempotency.claim(
        session, principal, idempotency_key, request.method, request.url.path, body
    )


IdempotencyClaim = Annotated[idempotency.Claim | None, Depends(_idempotency_claim)]


async def _readable_referral(
    referral_id: uuid.UUID, session: SessionDep, principal: ReferralReader
) -> PartyAccess:
    return await referrals.load_for_party(session, principal, referral_id)


async def _writable_referral(
    referral_id: uuid.UUID, session: SessionDep, principal: ReferralWriter
) -> PartyAccess:
    return await referrals.load_for_party(session, principal, referral_id)


# A referral loaded for one of its two parties (404 for anyone else), with the scope checked.
ReadableReferral = Annotated[PartyAccess, Depends(_readable_referral)]
WritableReferral = Annotated[PartyAccess, Depends(_writable_referral)]


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def known_query_only(request: Request) -> None:
    """Refuse query parameters the route does not declare (422), instead of ignoring a typo."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _query_names(route.dependant))
    if unknown:
        message = "is not a parameter of this endpoint"
        raise Unprocessable(
            f"Unknown query parameter(s): {', '.join(unknown)}.",
            errors=[{"field": name, "in": "query", "message": message} for name in unknown],
        )


# Route dependency for lists whose filters must not be silently ignored when misspelt.
KnownQueryOnly = Depends(known_query_only)
