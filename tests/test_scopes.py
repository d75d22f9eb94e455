"""Every operation checks the scope the token carries, not only the role behind it.

Each operation in the OpenAPI document is called with a token holding every scope except
the ones it needs, once for an agency's staff and once for a platform account: each call
must be refused with 403 before anything else is looked at.
"""

import re
import uuid

import httpx
import pytest
from fastapi import FastAPI

from app.models.directory import Agency
from app.models.identity import AGENCY_ROLES, Role, Scope
from tests.support.factories import bearer, make_agency

# Operations any valid token may call: the public directory and the caller's own identity.
AUTHENTICATION_ONLY = {
    ("get", "/v1/me"),
    ("patch", "/v1/me"),
    ("get", "/v1/agencies"),
    ("get", "/v1/agencies/{agency_id}"),
    ("get", "/v1/services"),
    ("get", "/v1/services/{service_id}"),
}
EVERY_SCOPE = frozenset(scope.value for scope in Scope)
CALLERS = {"agency admin": Role.AGENCY_ADMIN, "platform admin": Role.PLATFORM_ADMIN}


def scoped_operations(app: FastAPI) -> list[tuple[str, str, frozenset[str]]]:
    """(method, path, every scope any of its security requirements names) for each secured operation."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            # The scraper's own bearer token on /metrics carries no scopes.
            requirements = [r for r in operation.get("security", []) if "OAuth2" in r]
            if requirements:
                named = frozenset(s for requirement in requirements for v in requirement.values() for s in v)
                found.append((method, path, named))
    return found


def token_without(scopes: frozenset[str], role: Role, agency: Agency | None) -> dict[str, str]:
    """A token of an active account holding every scope but `scopes`."""
    return bearer(agency, role, scopes=EVERY_SCOPE - scopes)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


def test_every_secured_operation_names_its_scopes(app: FastAPI) -> None:
    unscoped = {(m, p) for m, p, scopes in scoped_operations(app) if not scopes}
    assert unscoped == AUTHENTICATION_ONLY


@pytest.mark.parametrize("caller", sorted(CALLERS))
async def test_every_operation_refuses_a_token_without_its_scopes(
    app: FastAPI, client: httpx.AsyncClient, caller: str
) -> None:
    role = CALLERS[caller]
    agency = await make_agency() if role in AGENCY_ROLES else None
    answered: dict[str, tuple[int, str]] = {}
    for method, path, scopes in scoped_operations(app):
        if (method, path) in AUTHENTICATION_ONLY:
            continue
        body: dict[str, object] | None = {} if method in {"post", "put", "patch"} else None
        headers = token_without(scopes, role, agency)
        response = await client.request(method.upper(), concrete(path), headers=headers, json=body)
        answered[f"{method.upper()} {path}"] = (response.status_code, response.headers["content-type"])
    assert answered == dict.fromkeys(answered, (403, "application/problem+json"))
    assert len(answered) >= 25
