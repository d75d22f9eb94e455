"""Errors on the staff pages are pages: GOV.UK's "Page not found" and "Sorry, there is a problem"."""

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from app.errors import AppError
from app.web.auth import SignInRequired
from app.web.security import CsrfRefused, is_page
from app.web.templating import render

Handler = Callable[[Request, Exception], Awaitable[Response]]
ApiHandler = Callable[[Request, Any], Response | Awaitable[Response]]
logger = logging.getLogger("app.web")

# The page for each status; anything else unexpected is "Sorry, there is a problem".
TEMPLATES = {
    403: "errors/forbidden.html",
    404: "errors/not_found.html",
    422: "errors/invalid.html",
    429: "errors/too_many.html",
    503: "errors/unavailable.html",
}


def error_page(request: Request, status: int, headers: dict[str, str] | None = None) -> Response:
    """The page for an HTTP status, with the retry hint where there is one."""
    template = TEMPLATES.get(status, "errors/problem.html")
    response = render(request, template, {"retry_after": (headers or {}).get("Retry-After")}, status)
    for name in ("Retry-After",):
        if headers and name in headers:
            response.headers[name] = headers[name]
    return response


def _status_of(exc: Exception) -> tuple[int, dict[str, str]]:
    if isinstance(exc, AppError):
        return exc.status, exc.headers
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, dict(exc.headers or {})
    if isinstance(exc, RequestValidationError):
        return 404, {}  # a malformed id in a page's address names no page
    return 500, {}


def _for_pages(api_handler: ApiHandler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if not is_page(request.url.path) or isinstance(exc, SignInRequired):
            answer = api_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        status, headers = _status_of(exc)
        if isinstance(exc, CsrfRefused):
            return render(request, "errors/csrf.html", status=403)
        if status >= 500 and not isinstance(exc, AppError):
            logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_page(request, status, headers)

    return handle


def install(app: FastAPI) -> None:
    """Route page errors to pages; the API keeps its problem documents.

    Unexpected errors and an unavailable database reach the AppError handler too, as a 500 or
    503 AppError from the application's error boundary (`app.middleware.ErrorBoundary`).
    """
    for exc_class in (AppError, RequestValidationError, StarletteHTTPException):
        handler = app.exception_handlers[exc_class]
        app.add_exception_handler(exc_class, _for_pages(handler))
