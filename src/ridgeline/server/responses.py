"""Fast JSON responses (orjson, numpy arrays serialised natively) and the error answers every route documents."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response

from ridgeline.server.schemas import ErrorBody


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
        except TypeError:
            # A lone surrogate (JSON text may escape one: "\udc80") echoed back from a request, in an error message
            # or field name, is not valid UTF-8; it is sent as U+FFFD rather than failing the whole answer.
            return orjson.dumps(_without_surrogates(content), option=orjson.OPT_SERIALIZE_NUMPY)


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_without_surrogates(key): _without_surrogates(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_surrogates(item) for item in value]
    return value


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# The failures any native route can answer, in the shape server/errors.py renders them: given to every router of
# server/api (``APIRouter(responses=ERROR_RESPONSES)``) so that /openapi.json documents them. A "4XX" entry also
# keeps FastAPI from documenting its own 422 answer, which this server never gives (invalid input is a 400).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Invalid argument: a malformed parameter or body (error.field names it), invalid UTF-8 or JSON"),
    401: _error("Unauthenticated: missing, malformed or unknown credentials"),
    403: _error("Permission denied"),
    404: _error("Not found: the entity the path or a parameter names does not exist"),
    409: _error("Conflict with the current state (a param that would change, a deleted run, …)"),
    413: _error("Payload too large: the request body is over the server's limit"),
    415: _error("Unsupported media type: a body that is not JSON where JSON is expected"),
    "4XX": _error("Another client error"),
    503: _error("Unavailable: the metadata database cannot be reached; try again shortly"),
}
