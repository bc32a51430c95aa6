"""MLflow's proxied artifact API over Ridgeline's artifact store: ``/api/2.0/mlflow-artifacts/artifacts``
(upload, download, delete, list), ``/api/2.0/mlflow/artifacts/list`` and ``/api/3.0/mlflow/server-info``.

MLflow names every artifact by one path under its artifact root: ``<experiment_id>/<run_id>/artifacts/<path>``
for a run's files (the ``artifact_uri`` runs/get returns), and ``<experiment_id>/models/<model_id>/artifacts/
<path>`` for an MLflow 3 logged model, whose files live in its run under ``models/<model_id>/``. :func:`resolve`
maps both onto a run and a path in its artifacts; the artifact service does the rest (path safety, size limit,
sha256, storage), through the same streaming helpers as the native API (server/artifact_streams.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ridgeline.domain.entities import RunRecord
from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.server.artifact_streams import check_raw_artifact_path, download_response, receive_upload
from ridgeline.server.deps import Artifacts, LoggedModels, Tracking
from ridgeline.server.mlflow.errors import MlflowRoute
from ridgeline.server.mlflow.messages import Msg, run_artifact_uri
from ridgeline.server.responses import JSON
from ridgeline.services.artifacts import ArtifactService
from ridgeline.services.logged_models import LoggedModelService
from ridgeline.services.tracking import TrackingService
from ridgeline.store.artifacts.paths import check_path, check_prefix

ARTIFACTS_PREFIX = "/api/2.0/mlflow-artifacts/artifacts"
SERVER_INFO = "/api/3.0/mlflow/server-info"

# The artifact root: /api/2.0/mlflow-artifacts/artifacts/...
proxy_router = APIRouter(prefix=ARTIFACTS_PREFIX, route_class=MlflowRoute)
# Under /api/2.0/mlflow: artifacts/list.
router = APIRouter(prefix="/artifacts", route_class=MlflowRoute)
# Beside /api/2.0: the one /api/3.0 route the client calls before artifact transfers.
info_router = APIRouter(route_class=MlflowRoute)


@dataclass(frozen=True)
class Location:
    """Where an MLflow artifact path points: a run, and a path in its artifacts ("" for their root)."""

    run: RunRecord
    path: str


def resolve(tracking: TrackingService, logged_models: LoggedModelService, path: str) -> Location:
    """The run and path in it that an MLflow artifact path names; NotFound when it names none (an unknown run,
    or a run of another experiment than the path says), InvalidArgument for an unsafe path."""
    parts = check_path(path).split("/")
    experiment_id = parts[0]
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        return _resolve_logged_model(tracking, logged_models, experiment_id, parts[2], "/".join(parts[4:]))
    if len(parts) >= 3 and parts[2] == "artifacts":
        run = tracking.get_run_header(parts[1])
        if run.project_id != experiment_id:
            raise NotFound(f"run {run.id} is not in experiment {experiment_id}", field="path")
        return Location(run, "/".join(parts[3:]))
    raise NotFound(
        f"no artifacts at {path!r}: paths look like <experiment_id>/<run_id>/artifacts/<path> "
        "or <experiment_id>/models/<model_id>/artifacts/<path>",
        field="path",
    )


def _resolve_logged_model(
    tracking: TrackingService, logged_models: LoggedModelService, experiment_id: str, model_id: str, path: str
) -> Location:
    """A logged model's files: the artifacts of the run that logged it, under ``models/<model_id>/``."""
    try:
        model = logged_models.get(model_id)
    except InvalidArgument:
        raise NotFound(f"no logged model {model_id!r}", field="path") from None
    if model.project_id != experiment_id:
        raise NotFound(f"logged model {model_id} is not in experiment {experiment_id}", field="path")
    folder = f"{model.artifact_path}/{path}" if path else model.artifact_path
    return Location(tracking.get_run_header(model.run_id), folder)


def _children(artifacts: ArtifactService, location: Location) -> list[tuple[str, bool, int | None]]:
    """The direct children of a folder of the run's artifacts: (name, is folder, size of a file), by name."""
    prefix = f"{location.path}/" if location.path else ""
    found: dict[str, int | None] = {}
    folders: set[str] = set()
    for item in artifacts.list_files(location.run.id, check_prefix(prefix)):
        name, nested, _ = item.path.removeprefix(prefix).partition("/")
        if nested:
            folders.add(name)
        else:
            found[name] = item.size
    entries = [(name, False, size) for name, size in found.items() if name not in folders]
    return sorted(entries + [(name, True, None) for name in folders])


def _file_info(path: str, is_dir: bool, size: int | None) -> dict[str, Any]:
    return {"path": path, "is_dir": True} if is_dir else {"path": path, "is_dir": False, "file_size": size}


@proxy_router.put("/{path:path}")
async def upload(
    path: str, request: Request, tracking: Tracking, artifacts: Artifacts, logged_models: LoggedModels
) -> Response:
    """Store the body as the file at ``path``, streamed (MLflow's client sends one PUT per file)."""
    check_raw_artifact_path(request)
    location = await run_in_threadpool(resolve, tracking, logged_models, path)
    record = await receive_upload(request, artifacts, location.run.id, location.path)
    return Response(status_code=400) if record is None else JSON({})


@proxy_router.get("/{path:path}")
def download(
    path: str, request: Request, tracking: Tracking, artifacts: Artifacts, logged_models: LoggedModels
) -> Response:
    """The file's bytes, streamed; a folder or a missing file is RESOURCE_DOES_NOT_EXIST (the client probes)."""
    check_raw_artifact_path(request)
    location = resolve(tracking, logged_models, path)
    return download_response(request, artifacts, location.run.id, location.path)


@proxy_router.delete("/{path:path}")
def delete(path: str, request: Request, tracking: Tracking, artifacts: Artifacts, logged_models: LoggedModels) -> JSON:
    """Delete the file at ``path``, or every file under the folder at ``path`` (the run's root included)."""
    check_raw_artifact_path(request)
    location = resolve(tracking, logged_models, path.removesuffix("/"))
    inside = f"{location.path}/" if location.path else ""
    files = [
        item
        for item in artifacts.list_files(location.run.id, check_prefix(location.path))
        if item.path == location.path or item.path.startswith(inside)
    ]
    if not files:
        raise NotFound(f"no artifact at {path!r}", field="path")
    for item in files:
        artifacts.delete(location.run.id, item.path)
    return JSON({})


@proxy_router.get("")
def list_folder(msg: Msg, tracking: Tracking, artifacts: Artifacts, logged_models: LoggedModels) -> JSON:
    """The folder's direct children, named relative to it; a missing folder (or run) lists nothing, as
    MLflow's server answers."""
    path = (msg.text("path") or "").removesuffix("/")
    try:
        location = resolve(tracking, logged_models, path) if path else None
    except NotFound:
        location = None
    if location is None:
        return JSON({})
    files = [_file_info(name, is_dir, size) for name, is_dir, size in _children(artifacts, location)]
    return JSON({"files": files} if files else {})


@router.get("/list")
def list_run_artifacts(msg: Msg, tracking: Tracking, artifacts: Artifacts) -> JSON:
    """A folder of the run's artifacts (``path``; nothing: the root), named relative to the run's root."""
    run = tracking.get_run_header(msg.required("run_id", "run_uuid"))
    folder = check_prefix(msg.text("path") or "").removesuffix("/")
    entries = _children(artifacts, Location(run, folder))
    files = [_file_info(f"{folder}/{name}" if folder else name, is_dir, size) for name, is_dir, size in entries]
    body: dict[str, Any] = {"root_uri": run_artifact_uri(run)}
    if files:
        body["files"] = files
    return JSON(body)


@info_router.get(SERVER_INFO)
def server_info() -> JSON:
    """What the client asks before transfers: files go through the server in one request each (no multipart
    or presigned transfers), and this is not one of MLflow's own stores."""
    return JSON(
        {
            "store_type": None,
            "workspaces_enabled": False,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
        }
    )
