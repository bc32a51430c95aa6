"""The one exception tree of Ridgeline.

Every error a user can see is a :class:`RidgelineError`. Each subclass carries the stable machine code and
the HTTP status that the server answers with, so the transport layers never decide on their own how an error
looks: the server renders ``{"error": {"code": ..., "message": ..., "field": ...}}`` and the SDK turns that
JSON back into the same class.
"""

from __future__ import annotations

from typing import Any, ClassVar


class RidgelineError(Exception):
    """Base of every error Ridgeline raises on purpose."""

    code: ClassVar[str] = "INTERNAL"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, field: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.details is not None:
            body["details"] = self.details
        return body


class InvalidArgument(RidgelineError, ValueError):
    """The request or call carried a value that breaks a documented rule."""

    code = "INVALID_ARGUMENT"
    http_status = 400


class NotFound(RidgelineError, LookupError):
    code = "NOT_FOUND"
    http_status = 404


class AlreadyExists(RidgelineError):
    code = "ALREADY_EXISTS"
    http_status = 409


class Conflict(RidgelineError):
    """The call is valid but clashes with the current state (for example changing a logged param)."""

    code = "CONFLICT"
    http_status = 409


class PromotionRefused(Conflict):
    """A promotion's rules did not pass: ``details`` names the failed rule and every rule's values."""

    code = "PROMOTION_REFUSED"


class PayloadTooLarge(RidgelineError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class Unauthenticated(RidgelineError):
    code = "UNAUTHENTICATED"
    http_status = 401


class PermissionDenied(RidgelineError):
    code = "PERMISSION_DENIED"
    http_status = 403


class RateLimited(RidgelineError):
    """Too many attempts (logins, token checks) from one address or for one account: wait and retry."""

    code = "RATE_LIMITED"
    http_status = 429


class Unavailable(RidgelineError):
    """The tracking backend cannot be reached or is not ready."""

    code = "UNAVAILABLE"
    http_status = 503


ERRORS_BY_CODE: dict[str, type[RidgelineError]] = {
    cls.code: cls
    for cls in (
        RidgelineError,
        InvalidArgument,
        NotFound,
        AlreadyExists,
        Conflict,
        PromotionRefused,
        PayloadTooLarge,
        Unauthenticated,
        PermissionDenied,
        RateLimited,
        Unavailable,
    )
}


def error_from_dict(body: dict[str, Any], default_status: int = 500) -> RidgelineError:
    """Rebuild the exception a server described in its JSON error body."""
    cls = ERRORS_BY_CODE.get(str(body.get("code", "")), RidgelineError)
    return cls(
        str(body.get("message", f"HTTP {default_status}")),
        field=body.get("field"),
        details=body.get("details"),
    )
