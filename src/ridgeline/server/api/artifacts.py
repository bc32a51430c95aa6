"""/api/v1/runs/{run_id}/artifacts: streamed upload and download, listing, deletion; storage used.

Bodies stream in both directions: an upload goes from the socket to the artifact store in pieces of at most
:data:`UPLOAD_PIECE` bytes (the global body limit does not apply; ``max_artifact_size`` does, as bytes arrive),
and a download is read from the store chunk by chunk. Memory stays constant for any file size.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Iterator

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from ridgeline.domain.entities import ArtifactFile
from ridgeline.domain.wire import artifact_to_json
from ridgeline.server.deps import Artifacts
from ridgeline.server.errors import error_response
from ridgeline.server.responses import JSON
from ridgeline.store.artifact_records import RunUsage
from ridgeline.store.artifacts.paths import check_raw_url_path

log = logging.getLogger("ridgeline.server")
router = APIRouter(tags=["artifacts"])

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
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _raw_artifact_path(request: Request) -> str:
    """The artifact path as the client encoded it (routing has decoded it once already)."""
    raw: bytes = request.scope.get("raw_path", b"")
    return raw.decode("latin-1").split("/artifacts/", 1)[-1]


def _usage_json(usage: RunUsage) -> dict[str, object]:
    return {
        "run_id": usage.run_id,
        "run_name": usage.run_name,
        "files": usage.files,
        "bytes": usage.bytes,
        "deleted": usage.deleted_at is not None,
    }


@router.put("/runs/{run_id}/artifacts/{path:path}", status_code=201)
async def put_artifact(
    run_id: str,
    path: str,
    request: Request,
    artifacts: Artifacts,
    x_content_sha256: str | None = Header(None, description="sha256 (hex) the body must have, checked on arrival"),
) -> Response:
    """Store the raw request body as the artifact ``path`` of the run (replacing an earlier one at that path)."""
    check_raw_url_path(_raw_artifact_path(request))
    declared = request.headers.get("content-length", "")
    upload = await run_in_threadpool(
        artifacts.begin_upload,
        run_id,
        path,
        expected_sha256=x_content_sha256,
        declared_size=int(declared) if declared.isdigit() else None,
    )
    try:
        piece = bytearray()
        async for chunk in request.stream():
            piece += chunk
            if len(piece) >= UPLOAD_PIECE:
                await run_in_threadpool(upload.write, bytes(piece))
                piece.clear()
        if piece:
            await run_in_threadpool(upload.write, bytes(piece))
        record = await run_in_threadpool(upload.finish)
    except ClientDisconnect:
        await run_in_threadpool(upload.abort)
        log.info("upload of %s to run %s abandoned by the client", path, run_id)
        return Response(status_code=400)
    except BaseException:
        await run_in_threadpool(upload.abort)
        raise
    return JSON(artifact_to_json(record), status_code=201)


def _content_headers(record: ArtifactFile) -> dict[str, str]:
    media_type = mimetypes.guess_type(record.path)[0] or "application/octet-stream"
    headers = {
        "Content-Type": media_type,
        "ETag": f'"{record.sha256}"',
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
        # Even opened directly, a stored file can neither run scripts nor reach this origin.
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }
    if media_type not in _INLINE_TYPES:
        name = record.path.rsplit("/", 1)[-1]
        ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
        headers["Content-Disposition"] = f'attachment; filename="{ascii_name}"'
    return headers


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


@router.get("/runs/{run_id}/artifacts/{path:path}")
def get_artifact(run_id: str, path: str, request: Request, artifacts: Artifacts) -> Response:
    """The artifact's bytes, streamed; ``Range: bytes=START-END`` resumes an interrupted download."""
    check_raw_url_path(_raw_artifact_path(request))
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
    chunks: Iterator[bytes] = artifacts.read(run_id, path, start, end)
    headers["Content-Length"] = str(end - start)
    return StreamingResponse(chunks, status_code=status, headers=headers, media_type=headers["Content-Type"])


@router.get("/runs/{run_id}/artifacts")
def list_artifacts(run_id: str, artifacts: Artifacts, prefix: str | None = None) -> JSON:
    """Every file of the run (recursively), optionally under ``prefix``, with size and sha256."""
    files = artifacts.list_files(run_id, prefix or "")
    return JSON({"files": [artifact_to_json(item) for item in files], "bytes": sum(item.size for item in files)})


@router.delete("/runs/{run_id}/artifacts/{path:path}", status_code=204)
def delete_artifact(run_id: str, path: str, request: Request, artifacts: Artifacts) -> Response:
    check_raw_url_path(_raw_artifact_path(request))
    artifacts.delete(run_id, path)
    return Response(status_code=204)


@router.get("/runs/{run_id}/storage")
def run_storage(run_id: str, artifacts: Artifacts) -> JSON:
    """Artifact files and bytes the run holds."""
    return JSON(_usage_json(artifacts.run_usage(run_id)))


@router.get("/projects/{project_id}/storage")
def project_storage(project_id: str, artifacts: Artifacts) -> JSON:
    """Artifact storage of a project: the total, and per run (largest first; deleted runs hold space until gc)."""
    usage = sorted(artifacts.project_usage(project_id), key=lambda item: (-item.bytes, item.run_id))
    return JSON(
        {
            "project_id": project_id,
            "files": sum(item.files for item in usage),
            "bytes": sum(item.bytes for item in usage),
            "runs": [_usage_json(item) for item in usage],
        }
    )
