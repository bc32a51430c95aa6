"""Artifact bodies over HTTP, shared by the native API (api/artifacts.py) and the MLflow-compatible one
(mlflow/artifacts.py): uploads streamed from the request body, downloads streamed with ETag and Range.

Bodies stream in both directions: an upload goes from the socket to the artifact store in pieces of at most
:data:`UPLOAD_PIECE` bytes (the global body limit does not apply; ``max_artifact_size`` does, as bytes arrive),
and a download is read from the store chunk by chunk. Memory stays constant for any file size.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
from collections.abc import Iterator
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from ridgeline.domain.entities import ArtifactFile
from ridgeline.server.errors import error_response
from ridgeline.services.artifacts import ArtifactService
from ridgeline.store.artifacts.paths import check_raw_url_path

log = logging.getLogger("ridgeline.server")

# Bytes gathered from the socket before one write to the store (a thread hop per 64 KiB would cost more).
UPLOAD_PIECE = 4 * 1024 * 1024
# Types a browser shows inertly; anything else (HTML, SVG, XML, scripts, unknown) is served as an attachment,
# so user content never runs as a page of this origin.
_INLINE_TYPES = {
    "text/plain",
    "text/csv",
    "application/json",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
}
# Files up to this size are read whole and sent in one piece.
SMALL_FILE = 1024 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def check_raw_artifact_path(request: Request) -> None:
    """Refuse encoded traversal in the artifact path as the client encoded it (routing has decoded it once)."""
    raw: bytes = request.scope.get("raw_path", b"")
    check_raw_url_path(raw.decode("latin-1").split("/artifacts/", 1)[-1])


async def receive_upload(
    request: Request, artifacts: ArtifactService, run_id: str, path: str, expected_sha256: str | None = None
) -> ArtifactFile | None:
    """Store the request body as the artifact ``path`` of the run; None when the client went away meanwhile
    (nothing is stored then)."""
    declared = request.headers.get("content-length", "")
    upload = await run_in_threadpool(
        artifacts.begin_upload,
        run_id,
        path,
        expected_sha256=expected_sha256,
        declared_size=int(declared) if declared.isdigit() else None,
    )
    # The store writes one piece while the next arrives: receiving, hashing and writing overlap.
    writing: asyncio.Future[None] | None = None
    try:
        parts: list[bytes] = []
        gathered = 0
        async for chunk in request.stream():
            parts.append(chunk)
            gathered += len(chunk)
            if gathered >= UPLOAD_PIECE:
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(run_in_threadpool(upload.write_parts, parts))
                parts, gathered = [], 0
        if writing is not None:
            await writing
        if parts:
            await run_in_threadpool(upload.write_parts, parts)
        return await run_in_threadpool(upload.finish)
    except BaseException as exc:
        if writing is not None and not writing.done():
            # Never abort under a write still running in its thread; its own failure no longer matters.
            await asyncio.gather(writing, return_exceptions=True)
        await run_in_threadpool(upload.abort)
        if isinstance(exc, ClientDisconnect):
            log.info("upload of %s to run %s abandoned by the client", path, run_id)
            return None
        raise


def _content_headers(record: ArtifactFile) -> dict[str, str]:
    media_type = mimetypes.guess_type(record.path)[0] or "application/octet-stream"
    headers = {
        "Content-Type": media_type,
        "ETag": f'"{record.sha256}"',
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
        # Even opened directly, a stored file can neither run scripts nor reach this origin.
        "Content-Security-Policy": "sandbox; default-src 'none'; frame-ancestors 'none'",
    }
    if media_type not in _INLINE_TYPES:
        headers["Content-Disposition"] = attachment(record.path.rsplit("/", 1)[-1])
    return headers


def attachment(name: str) -> str:
    """``Content-Disposition: attachment`` naming the file (RFC 6266): a plain ASCII ``filename`` for old clients,
    with anything but printable ASCII, quotes, backslashes, ``%`` and ``;`` replaced, and the exact name as UTF-8
    in ``filename*``, percent-encoded. No byte of the name reaches the header raw, so no name can end the header
    (CR, LF) or the parameter (a quote) early: artifact paths refuse control characters, and this does not rely
    on it."""
    fallback = "".join(char if " " <= char <= "~" and char not in '"\\%;' else "_" for char in name) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """``[start, end)`` of a single ``bytes=`` range; None when it cannot be satisfied."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        suffix = int(last)
        return (max(size - suffix, 0), size) if suffix > 0 and size > 0 else None
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    return (start, end) if start < end else None


def download_response(request: Request, artifacts: ArtifactService, run_id: str, path: str) -> Response:
    """The artifact's bytes, streamed; ``Range: bytes=START-END`` resumes an interrupted download."""
    record = artifacts.info(run_id, path)
    headers = _content_headers(record)
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers={"ETag": headers["ETag"]})
    start, end, status = 0, record.size, 200
    wanted = request.headers.get("range")
    if wanted:
        chosen = _byte_range(wanted, record.size)
        if chosen is None:
            response = error_response(416, "RANGE_NOT_SATISFIABLE", f"the file has {record.size} bytes", "Range")
            response.headers["Content-Range"] = f"bytes */{record.size}"
            return response
        start, end = chosen
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{record.size}"
    chunks: Iterator[bytes] = artifacts.read_file(run_id, record, start, end)
    if end - start <= SMALL_FILE:
        # One piece: a plain response skips the streaming machinery's thread hops (model files are mostly small).
        return Response(b"".join(chunks), status_code=status, headers=headers, media_type=headers["Content-Type"])
    headers["Content-Length"] = str(end - start)
    return StreamingResponse(chunks, status_code=status, headers=headers, media_type=headers["Content-Type"])
