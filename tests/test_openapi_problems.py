"""The OpenAPI document describes every error as the problem document the service sends."""

from typing import Any

import httpx
from fastapi import FastAPI

from app.errors import PROBLEM_JSON
from app.models.identity import Role
from app.openapi import OAUTH_ERRORS
from tests.support.factories import bearer, make_agency


def error_responses(app: FastAPI) -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if code[0] in "45":
                    found.append((path, method, code, response))
    return found


def test_errors_are_documented_as_problem_documents(app: FastAPI) -> None:
    for path, method, code, response in error_responses(app):
        expected = "application/json" if (path, method, code) in OAUTH_ERRORS else PROBLEM_JSON
        assert list(response["content"]) == [expected], (path, method, code)


def test_frameworks_own_validation_shape_is_not_advertised(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail"}


def test_every_operation_documents_the_request_guards(app: FastAPI) -> None:
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/v1/"):
            for operation in operations.values():
                assert {"413", "429"} <= operation["responses"].keys(), path


def test_operations_that_need_a_scope_document_the_refusal(app: FastAPI) -> None:
    for path, operations in app.openapi()["paths"].items():
        for operation in operations.values():
            scoped = any(scopes for req in operation.get("security", []) for scopes in req.values())
            if scoped:
                assert "403" in operation["responses"], path


def test_operations_with_a_json_body_document_an_unreadable_one(app: FastAPI) -> None:
    for path, operations in app.openapi()["paths"].items():
        for operation in operations.values():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                assert "400" in operation["responses"], path


async def test_unreadable_body_is_the_documented_400_problem(client: httpx.AsyncClient) -> None:
    headers = bearer(await make_agency(), Role.CASEWORKER) | {"Content-Type": "application/json"}
    response = await client.post("/v1/referrals", content=b"{\x80}", headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
