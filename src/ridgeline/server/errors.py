"""The one place errors become HTTP responses: ``{"error": {"code", "message", "field"?}}``, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException

from ridgeline.domain.errors import RateLimited, RidgelineError
from ridgeline.server.hardening import SECURITY_HEADERS
from ridgeline.server.responses import JSON

log = logging.getLogger("ridgeline.server")

# Renders an error as a page (status, message) for people who followed a link rather than called the API.
HtmlErrorPage = Callable[[Request, int, str], Response]
_NOT_PAGES = ("/api/", "/static/", "/docs", "/openapi.json", "/healthz")


def _wants_page(request: Request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and "text/html" in request.headers.get("accept", "")
        and not request.url.path.startswith(_NOT_PAGES)
        and getattr(request.app.state, "html_errors", None) is not None
    )


def _respond(
    request: Request, status: int, code: str, message: str, field: str | None = None, details: object = None
) -> Response:
    if _wants_page(request):
        page: HtmlErrorPage = request.app.state.html_errors
        return page(request, status, message)
    return error_response(status, code, message, field, details)


_HTTP_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


# Messages often quote what the client sent ("got 'xxx…'"): an answer must not grow with the request.
MAX_MESSAGE_CHARS = 2000
# A body with a thousand wrong items fails validation a thousand times; the first ones say enough.
MAX_PROBLEMS = 20


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "…"


def error_response(status: int, code: str, message: str, field: str | None = None, details: object = None) -> JSON:
    body: dict[str, object] = {"code": code, "message": _bounded(message)}
    if field is not None:
        body["field"] = _bounded(field)
    if details is not None:
        body["details"] = details
    # The headers are set here as well as by the Hardening middleware: some errors are answered outside it (the
    # 413 of BodyLimit, the 500 of an exception that escapes every handler, rendered by Starlette's outermost layer).
    return JSON({"error": body}, status_code=status, headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})


def _field_of(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "body"
    location = error.get("loc", ())
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _ridgeline_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RidgelineError)
    response = _respond(request, exc.http_status, exc.code, exc.message, exc.field, exc.details)
    if isinstance(exc, RateLimited) and isinstance(exc.details, dict):
        response.headers["Retry-After"] = str(exc.details.get("retry_after", 60))
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    problems = [{"field": _field_of(err), "message": str(err.get("msg", "invalid"))} for err in errors[:MAX_PROBLEMS]]
    first = problems[0] if problems else {"field": "body", "message": "invalid request"}
    message = f"{first['field']}: {first['message']}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return _respond(request, 400, "INVALID_ARGUMENT", message, first["field"], problems)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "ERROR")
    if exc.status_code == 404 and exc.detail == "Not Found":
        what = "page" if _wants_page(request) else "endpoint"
        message = f"no such {what}: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return _respond(request, exc.status_code, code, message)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return _respond(request, 503, "UNAVAILABLE", "the metadata database is unavailable; try again shortly")


async def _database_refused_value(request: Request, exc: Exception) -> Response:
    # The request carried a value the database cannot hold (an integer past 64 bits, text it refuses): the
    # request's fault, and a 5xx would invite a retry.
    log.info("database refused a value on %s %s: %s", request.method, request.url.path, exc)
    return _respond(request, 400, "INVALID_ARGUMENT", "a value in the request cannot be stored or searched")


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(request, 500, "INTERNAL", "internal server error; the server log has the details")


def install_error_handlers(app: FastAPI, html_errors: HtmlErrorPage | None = None) -> None:
    app.state.html_errors = html_errors
    app.add_exception_handler(RidgelineError, _ridgeline_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    # Third-party failures that mean "the database is down or busy", translated at the boundary.
    for database_error in (OperationalError, InterfaceError, SQLAlchemyTimeoutError):
        app.add_exception_handler(database_error, _database_unavailable)
    app.add_exception_handler(DataError, _database_refused_value)
    app.add_exception_handler(Exception, _unexpected_error)
