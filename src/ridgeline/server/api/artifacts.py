"""/api/v1/runs/{run_id}/artifacts: streamed upload and download, listing, deletion; storage used.

The bodies stream both ways (server/artifact_streams.py): memory stays constant for any file size.
"""

from __future__ import annotations

from fastapi import APIRouter, Header, Request, Response

from ridgeline.domain.wire import artifact_to_json
from ridgeline.server.artifact_streams import check_raw_artifact_path, download_response, receive_upload
from ridgeline.server.deps import Artifacts
from ridgeline.server.responses import ERROR_RESPONSES, JSON
from ridgeline.store.artifact_records import RunUsage

router = APIRouter(tags=["artifacts"], responses=ERROR_RESPONSES)


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
    check_raw_artifact_path(request)
    record = await receive_upload(request, artifacts, run_id, path, x_content_sha256)
    if record is None:
        return Response(status_code=400)
    return JSON(artifact_to_json(record), status_code=201)


@router.get("/runs/{run_id}/artifacts/{path:path}")
def get_artifact(run_id: str, path: str, request: Request, artifacts: Artifacts) -> Response:
    """The artifact's bytes, streamed; ``Range: bytes=START-END`` resumes an interrupted download."""
    check_raw_artifact_path(request)
    return download_response(request, artifacts, run_id, path)


@router.get("/runs/{run_id}/artifacts")
def list_artifacts(run_id: str, artifacts: Artifacts, prefix: str | None = None) -> JSON:
    """Every file of the run (recursively), optionally under ``prefix``, with size and sha256."""
    files = artifacts.list_files(run_id, prefix or "")
    return JSON({"files": [artifact_to_json(item) for item in files], "bytes": sum(item.size for item in files)})


@router.delete("/runs/{run_id}/artifacts/{path:path}", status_code=204)
def delete_artifact(run_id: str, path: str, request: Request, artifacts: Artifacts) -> Response:
    check_raw_artifact_path(request)
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
