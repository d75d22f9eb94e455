"""The OpenAPI document, with every error response described as the problem document it is.

FastAPI describes its own 422 as `application/json` with a shape this service never sends;
every error here is `application/problem+json` (the token endpoint's are RFC 6749 JSON).
Two answers follow from how a route is declared rather than from what it does, so they are
added wherever they apply: 403 where the operation requires a scope the token may lack, and
400 where it reads a JSON body, which fails to parse when the bytes are not UTF-8.
A route that accepts any one of several scopes lists each as a security requirement of its
own; the scope-less requirement its authentication dependency adds is then dropped, since it
would read as "any valid token".
"""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from app.errors import PROBLEM_JSON

REF = "#/components/schemas/{model}"
# The token endpoint's own refusals follow RFC 6749; its other errors are problems as usual.
OAUTH_ERRORS = {("/v1/oauth/token", "post", "400"), ("/v1/oauth/token", "post", "401")}


class FieldProblem(BaseModel):
    model_config = ConfigDict(extra="allow")

    field: str
    message: str
    in_: str | None = Field(default=None, alias="in")


class Problem(BaseModel):
    """An RFC 9457 problem document; extension members (e.g. `retry_after`) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None


class OAuthProblem(Problem):
    """An RFC 6749 token error, which also carries the problem members."""

    error: str
    error_description: str


def _schemas() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for model in (Problem, OAuthProblem):
        schema = model.model_json_schema(ref_template=REF)
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    return found


def _error_content(path: str, method: str, code: str) -> dict[str, Any]:
    if (path, method, code) in OAUTH_ERRORS:
        return {"application/json": {"schema": {"$ref": REF.format(model="OAuthProblem")}}}
    return {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}}


def _needs_scope(operation: dict[str, Any]) -> bool:
    return any(scopes for requirement in operation.get("security", []) for scopes in requirement.values())


def _alternatives_only(operation: dict[str, Any]) -> None:
    requirements = operation.get("security", [])
    scoped = [r for r in requirements if any(r.values())]
    if scoped and len(scoped) < len(requirements):
        operation["security"] = scoped


def describe_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Give every 4xx and 5xx response of `document` the problem media type and schema."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _alternatives_only(operation)
            responses = operation["responses"]
            if _needs_scope(operation):
                responses.setdefault("403", {"description": "The token lacks a required scope"})
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                responses.setdefault("400", {"description": "The body is not readable JSON (e.g. not UTF-8)"})
            for code, response in operation.get("responses", {}).items():
                if code[0] in "45":
                    response["content"] = _error_content(path, method, code)
                    if code == "422":
                        response["description"] = "Invalid request; `errors` names each field"
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(_schemas())
    return document


class DocumentedAPI(FastAPI):
    """The application, serving (and exporting) its document with problem responses described."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = describe_problems(super().openapi())
        return self.openapi_schema
