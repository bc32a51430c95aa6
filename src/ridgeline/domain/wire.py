"""JSON shapes of the native API, shared by the server (encoding) and the SDK (decoding); pure functions."""

from __future__ import annotations

import math
from typing import Any

from ridgeline.domain.entities import (
    ArtifactFile,
    DatasetVersion,
    MetricValue,
    Project,
    RunPage,
    RunRecord,
    RunStatus,
)

NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_value(value: float) -> float | str:
    """A metric value as JSON can carry it: non-finite values travel as strings."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def decode_value(value: float | str) -> float:
    return NON_FINITE[value] if isinstance(value, str) else float(value)


def project_to_json(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "deleted_at": project.deleted_at,
        "run_count": project.run_count,
        "last_activity": project.last_activity,
    }


def project_from_json(data: dict[str, Any]) -> Project:
    return Project(
        id=data["id"],
        workspace_id=data.get("workspace_id", "0" * 32),
        name=data["name"],
        description=data.get("description", ""),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        deleted_at=data.get("deleted_at"),
        run_count=data.get("run_count", 0),
        last_activity=data.get("last_activity"),
    )


def run_to_json(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.id,
        "project_id": run.project_id,
        "name": run.name,
        "status": run.status.value,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "user": run.user,
        "notes": run.notes,
        "parent_run_id": run.parent_run_id,
        "deleted_at": run.deleted_at,
        "params": run.params,
        "tags": run.tags,
        "metrics": {
            key: {"value": encode_value(point.value), "step": point.step, "timestamp": point.timestamp}
            for key, point in run.latest_metrics.items()
        },
    }


def run_from_json(data: dict[str, Any]) -> RunRecord:
    return RunRecord(
        id=data["id"],
        project_id=data["project_id"],
        name=data["name"],
        status=RunStatus(data["status"]),
        start_time=data["start_time"],
        end_time=data.get("end_time"),
        user=data.get("user", ""),
        notes=data.get("notes", ""),
        parent_run_id=data.get("parent_run_id"),
        deleted_at=data.get("deleted_at"),
        params=data.get("params", {}),
        tags=data.get("tags", {}),
        latest_metrics={
            key: MetricValue(key, decode_value(p["value"]), p["step"], p["timestamp"])
            for key, p in data.get("metrics", {}).items()
        },
    )


def page_from_json(data: dict[str, Any]) -> RunPage:
    return RunPage([run_from_json(item) for item in data["runs"]], data.get("next_cursor"))


def artifact_to_json(artifact: ArtifactFile) -> dict[str, Any]:
    return {"path": artifact.path, "size": artifact.size, "sha256": artifact.sha256, "created_at": artifact.created_at}


def artifact_from_json(data: dict[str, Any]) -> ArtifactFile:
    return ArtifactFile(
        path=str(data["path"]), size=int(data["size"]), sha256=str(data["sha256"]), created_at=int(data["created_at"])
    )


def version_to_json(version: DatasetVersion, *, profile: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": version.id,
        "dataset_id": version.dataset_id,
        "dataset": version.dataset_name,
        "digest": version.digest,
        "kind": version.kind,
        "rows": version.rows,
        "size_bytes": version.size_bytes,
        "schema": version.schema,
        "source": version.source,
        "created_at": version.created_at,
        "created_by": version.created_by,
        "ready": version.ready,
        "ready_at": version.ready_at,
        "ready_by": version.ready_by,
        "run_count": version.run_count,
    }
    if profile:
        body["profile"] = version.profile
    return body


def version_from_json(data: dict[str, Any]) -> DatasetVersion:
    return DatasetVersion(
        id=data["id"],
        dataset_id=data["dataset_id"],
        dataset_name=data["dataset"],
        digest=data["digest"],
        kind=data["kind"],
        rows=data["rows"],
        size_bytes=data["size_bytes"],
        schema=data["schema"],
        profile=data.get("profile"),
        source=data["source"],
        created_at=data["created_at"],
        created_by=data["created_by"],
        ready_at=data["ready_at"],
        ready_by=data["ready_by"],
        run_count=data["run_count"],
    )
