"""One error hierarchy, rendered once as RFC 9457 problem details."""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
# The shape FastAPI wants for documented error responses on a route.
Responses = dict[int | str, dict[str, Any]]
PROBLEM_BASE = "https://referral-exchange.example/problems/"


class AppError(Exception):
    """Base of every error a service raises; carries what the problem document needs."""

    status: int = 500
    code: str = "internal-error"
    title: str = "Internal server error"
    media_type: str = PROBLEM_JSON
    # Set on errors whose audit trail must survive the failed request (a failed login).
    commit_anyway: bool = False

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])
        self.headers = dict(headers or {})
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document for this error."""
        doc: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        if self.errors:
            doc["errors"] = self.errors
        doc.update(self.extensions)
        return doc

    def render(self, request: Request) -> Response:
        """The HTTP response for this error; a problem document unless a subclass says otherwise."""
        return JSONResponse(
            self.body(instance=request.url.path),
            status_code=self.status,
            headers=self.headers,
            media_type=self.media_type,
        )


class BadRequest(AppError):
    status, code, title = 400, "bad-request", "Bad request"


class NotAuthenticated(AppError):
    status, code, title = 401, "not-authenticated", "Authentication required"

    def __init__(self, detail: str = "A valid bearer token is required.", error: str | None = None) -> None:
        challenge = 'Bearer realm="referral-exchange"'
        if error:
            challenge += f', error="{error}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Forbidden"


class InsufficientScope(Forbidden):
    code, title = "insufficient-scope", "Insufficient scope"

    def __init__(self, required: Sequence[str]) -> None:
        needed = " ".join(required)
        super().__init__(
            f"This operation needs the scope(s): {needed}.",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{needed}"'},
            required_scopes=list(required),
        )


class NotFound(AppError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class PayloadTooLarge(AppError):
    status, code, title = 413, "payload-too-large", "Payload too large"


class PreconditionFailed(AppError):
    status, code, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(AppError):
    status, code, title = 428, "precondition-required", "Precondition required"


class Unprocessable(AppError):
    status, code, title = 422, "validation-error", "Request is not valid"

    @classmethod
    def field(cls, field: str, message: str, **extensions: Any) -> "Unprocessable":
        """A 422 naming the one field at fault."""
        return cls(f"{field}: {message}", errors=[{"field": field, "message": message}], **extensions)


class TooManyRequests(AppError):
    status, code, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(AppError):
    status, code, title = 503, "unavailable", "Service unavailable"


class OAuthError(AppError):
    """An RFC 6749 token-endpoint error: `error` and `error_description`, plus the problem fields."""

    status, code, title = 400, "oauth-error", "Token request refused"
    media_type = "application/json"

    def __init__(self, error: str, description: str, *, status: int = 400, audited: bool = False) -> None:
        headers = {"WWW-Authenticate": 'Basic realm="referral-exchange"'} if status == 401 else {}
        super().__init__(description, headers=headers, error=error, error_description=description)
        self.status = status
        self.code = f"oauth-{error.replace('_', '-')}"
        self.commit_anyway = audited


def problem_response(error: AppError, request: Request) -> Response:
    """Render an AppError (as `application/problem+json` unless it says otherwise)."""
    return error.render(request)


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problem(exc: RequestValidationError) -> AppError:
    """Turn FastAPI's validation error list into one 422 problem naming each field."""
    errors = [
        {"field": _field_name(e["loc"]), "in": str(e["loc"][0]) if e["loc"] else "body", "message": e["msg"]}
        for e in exc.errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return Unprocessable(summary or "The request is not valid.", errors=errors)


async def _app_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return problem_response(exc, request)


async def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return problem_response(validation_problem(exc), request)


async def _http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error = AppError(str(exc.detail), headers=exc.headers)
    error.status, error.code, error.title = (
        exc.status_code,
        f"http-{exc.status_code}",
        _reason(exc.status_code),
    )
    return problem_response(error, request)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install_error_handlers(app: FastAPI) -> None:
    """Route every error the app raises on purpose through the problem renderer.

    Anything else is answered by `app.middleware.ErrorBoundary`: a handler for `Exception`
    here would be Starlette's outermost one, which re-raises after answering.
    """
    app.add_exception_handler(AppError, _app_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
