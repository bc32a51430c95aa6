"""Request and response hardening for the tracking server, as one pure ASGI middleware (BaseHTTPMiddleware
would buffer streamed responses).

Requests: a mutating request that carries a body must be JSON (``Content-Type: application/json``, UTF-8), except
the streamed artifact uploads, which take any bytes. A JSON body is read whole (BodyLimit, outside this one, has
already capped its size), checked to be UTF-8 and nested no deeper than :data:`MAX_JSON_DEPTH`, then handed to the
app unchanged. The depth check exists because Python's own JSON parser, which FastAPI uses, recurses per level:
``[[[[…`` a few thousand deep would end in a RecursionError, a 500.

Responses: every response gets the security headers it lacks (:data:`SECURITY_HEADERS`); a response that sets its
own Content-Security-Policy keeps it, with ``frame-ancestors 'none'`` added when it says nothing about framing.
HTML pages set the UI's strict policy themselves (ui/templating.py); an HTML response that does not gets it here.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final
from urllib.parse import parse_qsl

import numpy as np
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_DEPTH: Final = 64
# Same-origin keeps the full referrer inside the server (its own pages link to each other) and sends nothing to
# other sites, so run ids, project names and filter strings in our URLs never leak through an outbound link.
# no-referrer would gain nothing over that and is what the UI pages (ui/templating.py) already chose against.
REFERRER_POLICY: Final = "same-origin"
# For anything that is not a page (JSON, files, scripts): nothing may load from it, nothing may frame it.
NON_PAGE_POLICY: Final = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": REFERRER_POLICY,
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": NON_PAGE_POLICY,
}

_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The streamed artifact uploads (the routes BodyLimit exempts too): the body is the file, of any type.
_STREAMED_UPLOAD = re.compile(r"/api/v1/runs/[^/]+/artifacts/.+|/api/2\.0/mlflow-artifacts/artifacts/.+", re.DOTALL)
# MLflow's client reads errors as {"error_code", "message"}; these prefixes are the MLflow-compatible API.
_MLFLOW_PREFIXES = ("/api/2.0/", "/api/3.0/")
# Bodies past this size are checked in a worker thread, so a large batch does not stall the event loop.
_CHECK_INLINE_BYTES = 256 * 1024

# The depth scan keeps only what shapes the nesting: brackets, and the quotes that say whether a bracket is text.
_STRUCTURE_ONLY = bytes(set(range(256)) - set(b'[]{}"'))
# +1 for an opening bracket, -1 for a closing one, 0 for a quote.
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1
_SCAN_CHUNK = 1 << 20


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body``, counted without building any object.

    Exact for valid JSON; for invalid JSON (unbalanced brackets, an unterminated string) some number, and the
    parser refuses the body anyway. Linear time in C whatever the input: byte-string replaces, then running sums
    in numpy a chunk at a time (a regular expression over strings was 10x slower and quadratic on some inputs).
    """
    structure = body
    if b"\\" in structure:
        # Escapes first, so that an escaped quote does not end a string. Pairing backslashes left to right is how
        # JSON reads a run of them; a backslash left over escapes the next byte, and only an escaped quote matters.
        structure = structure.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Two adjacent quotes (an empty string, or one string's end and the next one's start once the text between
    # is gone) can go without moving any bracket in or out of a string: every bracket keeps its quote parity.
    structure = structure.translate(None, _STRUCTURE_ONLY).replace(b'""', b"")
    codes = np.frombuffer(structure, dtype=np.uint8)
    deepest = level = quotes = 0
    for start in range(0, len(codes), _SCAN_CHUNK):
        chunk = codes[start : start + _SCAN_CHUNK]
        quote_count = np.cumsum(chunk == ord('"'), dtype=np.int64) + quotes
        steps = np.where(quote_count % 2 == 1, 0, _STEP[chunk])  # inside a string: text, not nesting
        running = np.cumsum(steps, dtype=np.int64) + level
        deepest = max(deepest, int(running.max()))
        level, quotes = int(running[-1]), int(quote_count[-1])
    return deepest


# An escape of NUL or of a UTF-16 surrogate, with the backslashes before it (an even run is literal text) and, for
# a high surrogate, the low one that may complete the pair.
_ESCAPE = re.compile(rb"(\\+)u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})(\\u[dD][c-fC-F][0-9a-fA-F]{2})?")


def text_problem(body: bytes) -> str | None:
    """A NUL character or a lone surrogate escaped in JSON text: valid JSON, but no database stores it (PostgreSQL
    refuses NUL, SQLite cannot bind a lone surrogate, its LIKE stops at a NUL), so it is refused at the edge."""
    if b"\\u" not in body:
        return None
    for match in _ESCAPE.finditer(body):
        if len(match.group(1)) % 2 == 0:
            continue
        code = match.group(2).lower()
        if code == b"0000":
            return "request body holds a NUL character (\\u0000), which text cannot contain"
        if code[1:2] in b"cdef" or match.group(3) is None:
            return "request body holds a lone UTF-16 surrogate escape, which is not a character"
    return None


def url_problem(scope: Scope) -> tuple[str, str] | None:
    """(message, field) when the path or query holds a NUL character, which no name, id or filter may contain."""
    path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    if b"%00" in path or b"\x00" in path:
        return "the path holds a NUL character (%00)", "path"
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        name = next((key for key, value in pairs if "\x00" in key + value), "query")
        return f"query parameter {name!r} holds a NUL character (%00)", name
    return None


def body_problem(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> tuple[str, str] | None:
    """Why a JSON request body is refused before any parser sees it, and the field to name; None when it may go
    on."""
    try:
        if not body.isascii():  # ASCII (most bodies) is UTF-8; the check is a fast scan, decoding copies
            body.decode("utf-8")
    except UnicodeDecodeError:
        return "request body is not valid UTF-8", "body"
    # Fewer brackets than the limit cannot nest deeper than it: most bodies skip the scan.
    if body.count(b"[") + body.count(b"{") > max_depth and json_depth(body) > max_depth:
        return f"JSON nested deeper than {max_depth} levels", "body"
    problem = text_problem(body)
    if problem is not None:
        return problem, _field_holding(body)
    return None


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _field_holding(body: bytes) -> str:
    """The dotted path of the first value holding what text_problem found (``tags.note``, ``run_ids.3``), so the
    answer names the field as the route's own validation would; ``body`` when a key holds it. Parsed only in
    this rare case, and no deeper than the depth limit just checked."""
    try:
        document = json.loads(body)
    except ValueError:
        return "body"
    return ".".join(_path_to_unstorable(document, [])) or "body"


def _path_to_unstorable(value: Any, path: list[str]) -> list[str]:
    if isinstance(value, str):
        return path if _UNSTORABLE.search(value) else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and _UNSTORABLE.search(key):
            return path
        found = _path_to_unstorable(item, [*path, str(key)])
        if found:
            return found
    return []


def _is_json(content_type: str) -> bool:
    """``application/json``, with no charset or a UTF-8 one (JSON is UTF-8; the checks here assume it)."""
    media_type, *parameters = content_type.split(";")
    if media_type.strip().lower() != "application/json":
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    if length is not None:
        return length.strip() != "0"
    return "chunked" in headers.get("transfer-encoding", "").lower()


class Hardening:
    """Refuses non-JSON, non-UTF-8 and too deeply nested request bodies; adds security headers to responses."""

    def __init__(self, app: ASGIApp, max_depth: int = MAX_JSON_DEPTH) -> None:
        # Imported here, not at the top: the UI package imports the error handlers, which import SECURITY_HEADERS.
        from ridgeline.server.ui.templating import CONTENT_SECURITY_POLICY

        self.app = app
        self.max_depth = max_depth
        self.page_policy = CONTENT_SECURITY_POLICY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_security_headers(scope, send)
        in_url = url_problem(scope)
        if in_url is not None:
            await self._refuse(scope, send, 400, "INVALID_ARGUMENT", *in_url)
            return
        headers = Headers(scope=scope)
        if (
            scope["method"] not in _MUTATING
            or not _has_body(headers)
            or (scope["method"] == "PUT" and _STREAMED_UPLOAD.fullmatch(scope["path"]))
        ):
            await self.app(scope, receive, send)
            return
        if not _is_json(headers.get("content-type", "")):
            given = headers.get("content-type") or "no Content-Type"
            message = f"send the request body as JSON with Content-Type: application/json (got {given})"
            await self._refuse(scope, send, 415, "UNSUPPORTED_MEDIA_TYPE", message[:300], "Content-Type")
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away (or BodyLimit has already answered 413): nothing to say
        if len(body) <= _CHECK_INLINE_BYTES:
            problem = body_problem(body, self.max_depth)
        else:
            problem = await run_in_threadpool(body_problem, body, self.max_depth)
        if problem is not None:
            await self._refuse(scope, send, 400, "INVALID_ARGUMENT", *problem)
            return
        await self.app(scope, _replay(body, receive), send)

    def _with_security_headers(self, scope: Scope, send: Send) -> Send:
        api = scope["path"].startswith("/api/")

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", []))}
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name != "Content-Security-Policy":
                        headers.setdefault(name, value)
                policy = headers.get("content-security-policy")
                if policy is None:
                    page = headers.get("content-type", "").lower().startswith("text/html")
                    headers["Content-Security-Policy"] = self.page_policy if page else NON_PAGE_POLICY
                elif "frame-ancestors" not in policy:
                    headers["Content-Security-Policy"] = f"{policy}; frame-ancestors 'none'"
                # API answers are per user and per moment; a response that chose its own caching keeps it.
                if api:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        return secured

    @staticmethod
    async def _refuse(scope: Scope, send: Send, status: int, code: str, message: str, field: str) -> None:
        if scope["path"].startswith(_MLFLOW_PREFIXES):
            # MLflow's own server calls a wrong content type or a bad body an invalid parameter value.
            body = orjson.dumps({"error_code": "INVALID_PARAMETER_VALUE", "message": message})
        else:
            body = orjson.dumps({"error": {"code": code, "message": message, "field": field}})
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body; None when the client disconnected first."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the app the body already read, then passes on what the server sends (disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
