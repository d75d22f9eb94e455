"""Errors under /fhir/R4 as OperationOutcome, with the status /v1 gives the same error.

The services raise the one error hierarchy (app/errors.py) whichever API called them; here it is
rendered in FHIR's terms. A field the service names in /v1's words (`consent.purposes`) is named
as the element of the request at fault (`Bundle.entry[1].resource.provision.purpose`): the routes
that translate a request record where each field came from (`paths`), and a path in the request
body itself (from validation) is written as a FHIRPath expression.
"""

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import PROBLEM_BASE, AppError, validation_problem
from app.fhir.wire import FhirResponse, Json

PREFIX = "/fhir/R4"
Handler = Callable[[Request, Any], Response | Awaitable[Response]]

ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    428: "required",
    429: "throttled",
    503: "transient",
}


def paths(request: Request) -> dict[str, str]:
    """Where this request's fields came from: /v1 field name to FHIRPath (filled in by the routes)."""
    found: dict[str, str] | None = getattr(request.state, "fhir_paths", None)
    if found is None:
        found = {}
        request.state.fhir_paths = found
    return found


def expression(field: str, known: Mapping[str, str], root: str | None) -> str | None:
    """The element a /v1 field name stands for, or the FHIRPath of a path in the request body."""
    parts = field.split(".")
    for end in range(len(parts), 0, -1):  # the nearest one recorded: `subject.circumstances.benefits.0`
        if ".".join(parts[:end]) in known:
            return known[".".join(parts[:end])] + _fhirpath(parts[end:])
    if root is None or field == "body":
        return None
    if field == root or field.startswith((root + ".", root + "[")):
        return field  # named as an expression already
    # A member of the body as JSON names it (`entry.0.resource.name`); headers and parameters
    # (`Idempotency-Key`, `_count`) are no element.
    return root + _fhirpath(parts) if field[:1].islower() else None


def _fhirpath(parts: list[str]) -> str:
    return "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in parts)


def _issue(error: AppError, message: str, where: str | None) -> Json:
    issue: Json = {
        "severity": "error",
        "code": _issue_code(error),
        "details": {
            "coding": [{"system": PROBLEM_BASE.rstrip("/"), "code": error.code}],
            "text": error.title,
        },
        "diagnostics": message,
    }
    if where:
        issue["expression"] = [where]
    return issue


def _issue_code(error: AppError) -> str:
    if "existing_referral_id" in error.extensions:
        return "duplicate"
    if "allowed_actions" in error.extensions:
        return "business-rule"
    return ISSUE_CODES.get(error.status, "exception")


def _diagnostics(error: AppError) -> str:
    """The detail, with what the problem document carries beside it in /v1."""
    extras = error.extensions
    text = error.detail
    if "existing_referral_id" in extras:
        text += f" The open referral: ServiceRequest/{extras['existing_referral_id']}."
    if "allowed_actions" in extras:
        allowed = ", ".join(str(a) for a in extras["allowed_actions"]) or "none"
        text += f" Moves allowed now (businessStatus codes): {allowed}."
    return text


def operation_outcome(error: AppError, request: Request) -> Json:
    """The OperationOutcome for an error raised while serving `request`."""
    known, root = paths(request), getattr(request.state, "fhir_root", None)
    issues = [
        _issue(error, f"{e['field']}: {e['message']}", expression(e["field"], known, root))
        for e in error.errors
        if "field" in e and "message" in e
    ]
    if not issues:
        issues = [_issue(error, _diagnostics(error), _element_of(error, known))]
    elif "existing_referral_id" in error.extensions or "allowed_actions" in error.extensions:
        issues[0]["diagnostics"] += " " + _diagnostics(error)
    return {"resourceType": "OperationOutcome", "issue": issues}


def _element_of(error: AppError, known: Mapping[str, str]) -> str | None:
    """The element a conflict is about: the service not accepting, the person already referred."""
    reason = error.extensions.get("reason")
    if reason:
        return known.get(f"reason:{reason}")
    if "existing_referral_id" in error.extensions:
        return known.get("existing_referral_id")
    return None


def render(error: AppError, request: Request) -> Response:
    headers = dict(error.headers)
    if "ETag" in headers and not headers["ETag"].startswith("W/"):
        headers["ETag"] = (
            "W/" + headers["ETag"]
        )  # FHIR's versions are weak ETags (a 412 names the current one)
    return FhirResponse(operation_outcome(error, request), status_code=error.status, headers=headers)


def _as_app_error(exc: Exception) -> AppError:
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, RequestValidationError):
        return validation_problem(exc)
    if isinstance(exc, StarletteHTTPException):
        error = AppError(str(exc.detail), headers=exc.headers)
        error.status, error.code, error.title = exc.status_code, f"http-{exc.status_code}", str(exc.detail)
        return error
    return AppError("An unexpected error occurred; it has been logged.")


def is_fhir(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _for_fhir(other: Handler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        # An AppError under 400 is an answer, not an error: an idempotent replay renders itself.
        answer_itself = isinstance(exc, AppError) and exc.status < 400
        if is_fhir(request.url.path) and not answer_itself:
            return render(_as_app_error(exc), request)
        answer = other(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    return handle


def install(app: FastAPI) -> None:
    """Answer every error under /fhir/R4 with an OperationOutcome; elsewhere as before.

    An unexpected error and an unavailable database reach the AppError handler as well, from the
    application's error boundary, so they too are OperationOutcomes here.
    """
    for exc_class in (AppError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(exc_class, _for_fhir(app.exception_handlers[exc_class]))
