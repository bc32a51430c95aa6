"""MLflow's error shape: ``{"error_code": "...", "message": "..."}`` with the status its client expects.

Only the routes of the MLflow-compatible API answer this way (through :class:`MlflowRoute`); the native API
keeps its own ``{"error": {...}}`` shape. Deterministic failures are never 5xx: MLflow's client retries 5xx
for minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException

from ridgeline.domain.errors import RidgelineError
from ridgeline.server.responses import JSON

log = logging.getLogger("ridgeline.server.mlflow")

# Ridgeline's code → (MLflow error_code, HTTP status), as MLflow's reference server answers.
_CODES: dict[str, tuple[str, int]] = {
    "NOT_FOUND": ("RESOURCE_DOES_NOT_EXIST", 404),
    "ALREADY_EXISTS": ("RESOURCE_ALREADY_EXISTS", 400),
    "INVALID_ARGUMENT": ("INVALID_PARAMETER_VALUE", 400),
    # A param that would change, logging to a deleted run: MLflow calls both invalid parameter values.
    "CONFLICT": ("INVALID_PARAMETER_VALUE", 400),
    "PAYLOAD_TOO_LARGE": ("RESOURCE_LIMIT_EXCEEDED", 413),
    "UNAUTHENTICATED": ("UNAUTHENTICATED", 401),
    "PERMISSION_DENIED": ("PERMISSION_DENIED", 403),
    "RATE_LIMITED": ("REQUEST_LIMIT_EXCEEDED", 429),
    "UNAVAILABLE": ("TEMPORARILY_UNAVAILABLE", 503),
}


def mlflow_error(status: int, code: str, message: str) -> JSON:
    return JSON({"error_code": code, "message": message}, status_code=status)


def error_for(request: Request, exc: Exception) -> JSON:
    """The MLflow-shaped answer to an exception raised while serving ``request``."""
    if isinstance(exc, RidgelineError):
        code, status = _CODES.get(exc.code, ("INTERNAL_ERROR", 500))
        return mlflow_error(status, code, exc.message)
    if isinstance(exc, RequestValidationError):
        return mlflow_error(400, "INVALID_PARAMETER_VALUE", f"invalid request: {exc.errors()[:1]}")
    if isinstance(exc, HTTPException):
        if exc.status_code in (404, 405):
            return endpoint_not_found(request)
        return mlflow_error(exc.status_code, "BAD_REQUEST", str(exc.detail))
    if isinstance(exc, DataError):
        # The database refused a value the request carried (PostgreSQL takes no NUL character in text, no integer
        # past 64 bits): the request is at fault, and a 5xx would only make MLflow's client send it again.
        log.info("database refused a value on %s %s: %s", request.method, request.url.path, exc.orig)
        return mlflow_error(
            400, "INVALID_PARAMETER_VALUE", "a value in the request cannot be stored or searched (a NUL character?)"
        )
    if isinstance(exc, OperationalError | InterfaceError | SQLAlchemyTimeoutError):
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return mlflow_error(503, "TEMPORARILY_UNAVAILABLE", "the metadata database is unavailable; try again shortly")
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return mlflow_error(500, "INTERNAL_ERROR", "internal server error; the server log has the details")


def endpoint_not_found(request: Request) -> JSON:
    return mlflow_error(404, "ENDPOINT_NOT_FOUND", f"no such endpoint: {request.method} {request.url.path}")


class MlflowRoute(APIRoute):
    """A route whose every failure (its dependencies' included) is rendered in MLflow's error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return error_for(request, exc)

        return guarded
