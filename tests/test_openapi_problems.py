"""The OpenAPI document describes every error as the problem document the service sends."""

from typing import Any

from fastapi import FastAPI

from app.errors import PROBLEM_JSON
from app.openapi import OAUTH_ERRORS


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
