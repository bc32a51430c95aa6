"""A request body limit enforced while the body arrives: a client cannot make the server buffer gigabytes."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ridgeline.server.errors import error_response

MAX_REQUEST_BYTES = 64 * 1024 * 1024
# Artifact uploads (PUT /api/v1/runs/{id}/artifacts/{path}, and MLflow's PUT /api/2.0/mlflow-artifacts/artifacts/
# {path}) are exempt: they are streamed to the artifact store piece by piece, never buffered, and enforce their
# own, larger limit (setting max_artifact_size) as bytes arrive.
_STREAMED_UPLOAD = re.compile(r"/api/v1/runs/[^/]+/artifacts/.+|/api/2\.0/mlflow-artifacts/artifacts/.+")


class BodyLimit:
    """Answers 413 as soon as the declared or received body passes ``max_bytes``.

    Past the limit the app is told the client went away, and whatever it tries to send afterwards is dropped,
    so the 413 is the only answer whichever framework code was reading the body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"] == "PUT" and _STREAMED_UPLOAD.fullmatch(scope["path"])):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        refused = False
        started = False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes and not started:
                refused = True
                await self._refuse(scope, receive, send)
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, guarded_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "PAYLOAD_TOO_LARGE", f"request body is larger than the limit of {self.max_bytes} bytes", "body"
        )
        await response(scope, receive, send)
