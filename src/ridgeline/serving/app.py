"""The model server's ASGI app: a plain callable, no framework, since every microsecond per request counts.

Routes: ``POST /invocations`` (MLflow's scoring protocol, protocol.py), ``GET /ping``, ``GET /health``,
``GET /version`` and ``GET /metrics``; with ``--auth`` each passes the access guard first (access.py).
Errors answer ``{"error": {"code", "message", "field", "details"}}``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from ridgeline import __version__
from ridgeline.domain.errors import NotFound, PayloadTooLarge, RidgelineError
from ridgeline.serving import protocol
from ridgeline.serving.access import AccessGuard
from ridgeline.serving.metrics import MEDIA_TYPE as METRICS_TYPE
from ridgeline.serving.predlog import Scored
from ridgeline.serving.runtime import Runtime

log = logging.getLogger("ridgeline.serving")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON = b"application/json"
_REQUEST_ID = re.compile(rb"[A-Za-z0-9_.:-]{1,128}")


class _ModelFailed(RidgelineError):
    code = "MODEL_ERROR"
    http_status = 500


class _MethodNotAllowed(RidgelineError):
    code = "METHOD_NOT_ALLOWED"
    http_status = 405


def _error_body(error: RidgelineError) -> bytes:
    return orjson.dumps({"error": error.to_dict()})


class ScoringApp:
    def __init__(self, runtime: Runtime, guard: AccessGuard | None = None) -> None:
        self.runtime = runtime
        self.guard = guard
        self._routes: dict[str, tuple[bytes, Callable[[], tuple[bytes, bytes]]]] = {
            "/ping": (b"GET", lambda: (b"\n", b"text/plain")),
            "/health": (b"GET", lambda: (orjson.dumps({"status": "ok", **runtime.describe()}), _JSON)),
            "/version": (b"GET", lambda: (orjson.dumps({**runtime.describe(), "ridgeline": __version__}), _JSON)),
            "/metrics": (b"GET", lambda: (runtime.metrics.render(), METRICS_TYPE.encode())),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await asyncio.to_thread(self.runtime.start)
                except Exception as exc:
                    log.exception("the model server could not start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.runtime.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"].encode()
        if self.guard is not None:
            try:
                await self.guard.check(scope["method"], path, dict(scope["headers"]).get(b"authorization"))
            except RidgelineError as error:
                await _send(send, error.http_status, _error_body(error), _JSON)
                return
        if path == "/invocations":
            await self._invocations(scope, receive, send)
            return
        route = self._routes.get(path)
        if route is None:
            await _send(send, 404, _error_body(NotFound(f"no route {path}: POST /invocations scores")), _JSON)
        elif method != route[0]:
            await _send(send, 405, _error_body(_MethodNotAllowed(f"{path} answers {route[0].decode()}")), _JSON)
        else:
            body, media_type = route[1]()
            await _send(send, 200, body, media_type)

    async def _invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = dict(scope["headers"])
        given_id = headers.get(b"x-request-id", b"")
        request_id = given_id.decode() if _REQUEST_ID.fullmatch(given_id) else uuid.uuid4().hex
        runtime = self.runtime
        role, served = runtime.pick()
        extra = [(b"x-request-id", request_id.encode()), (b"x-model-role", role.encode())]
        if served.version is not None:
            extra.append((b"x-model-version", str(served.version).encode()))
        try:
            if scope["method"] != "POST":
                raise _MethodNotAllowed("/invocations answers POST")
            body = await _read_body(receive, headers, runtime.options.max_body_bytes)
            content_type = headers.get(b"content-type", b"").decode("latin-1") or None
            data = protocol.parse(body, content_type)
            model_started = time.perf_counter()
            try:
                prepared, outputs = await runtime.score(served, data)
            except RidgelineError:
                raise
            except Exception as exc:
                log.exception("model version %s failed on request %s", served.version, request_id)
                raise _ModelFailed(f"the model failed on this input: {type(exc).__name__}: {exc}") from exc
            model_ms = (time.perf_counter() - model_started) * 1000
            payload = protocol.render(outputs, {"model_version": served.version})
        except RidgelineError as error:
            runtime.metrics.error(error.code)
            await _send(send, error.http_status, _error_body(error), _JSON, extra)
            runtime.metrics.observe(served.version, error.http_status, time.perf_counter() - started)
            return
        await _send(send, 200, payload, _JSON, extra)
        runtime.metrics.observe(served.version, 200, time.perf_counter() - started)
        runtime.record(
            Scored(
                request_id,
                time.time_ns() // 1_000_000,
                runtime.model_name,
                served.version,
                role,
                model_ms,
                data if isinstance(data, list | dict) or hasattr(data, "columns") else prepared,
                outputs,
            ),
            data,
        )


async def _read_body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> bytes:
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {int(declared)} bytes; this server takes at most {limit}", field="body")
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over {limit} bytes, this server's limit", field="body")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(
    send: Send, status: int, body: bytes, media_type: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", media_type), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
