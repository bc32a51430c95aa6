"""Export a project to a versioned folder (docs/export-format.md), every run included, soft-deleted ones too."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ridgeline.domain.errors import Conflict, InvalidArgument, NotFound
from ridgeline.services.exchange.format import Progress, pyarrow, quiet, write_lines, write_manifest
from ridgeline.store.artifacts.storage import ArtifactStorage
from ridgeline.store.metadata import MetadataStore


@dataclass
class ExportSummary:
    folder: Path
    project: str
    counts: dict[str, int]


def export_project(
    store: MetadataStore, storage: ArtifactStorage, project_name: str, folder: Path, progress: Progress = quiet
) -> ExportSummary:
    """Write the project to ``folder``, which must be empty or absent."""
    project = store.projects.find_by_name(project_name, stats=False)
    if project is None:
        raise NotFound(f"project {project_name!r} does not exist", field="project")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InvalidArgument(f"{folder} is not an empty folder; export into a new one", field="to")
    folder.mkdir(parents=True, exist_ok=True)
    policy = store.retention.get(project.id)
    project_tags = store.projects.tags([project.id])[project.id]
    project_row = {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "deleted_at": project.deleted_at,
        "tags": project_tags,
        "retention": None
        if policy is None
        else {
            "max_age_days": policy.max_age_days,
            "keep_last": policy.keep_last,
            "updated_at": policy.updated_at,
            "updated_by": policy.updated_by,
        },
    }
    write_lines(folder / "projects.jsonl", [project_row])

    run_rows = store.runs.project_rows(project.id)
    for row in run_rows:
        row.pop("project_id")
        row["user"] = row.pop("user_name")
    write_lines(folder / "runs.jsonl", run_rows)
    run_ids = [row["id"] for row in run_rows]
    counts = {
        "runs": len(run_rows),
        "deleted_runs": sum(1 for row in run_rows if row["deleted_at"] is not None),
        "params": sum(len(row["params"]) for row in run_rows),
        "tags": sum(len(row["tags"]) for row in run_rows),
        "project_tags": len(project_tags),
        "metric_series": 0,
        "metric_points": 0,
    }

    (folder / "metrics").mkdir()
    for done, run_id in enumerate(run_ids, 1):
        series_count, points = _export_metrics(store, run_id, folder / "metrics" / f"{run_id}.parquet")
        counts["metric_series"] += series_count
        counts["metric_points"] += points
        progress("metrics", done, len(run_ids))

    dataset_rows, version_rows, input_rows = store.datasets.export_rows(run_ids)
    write_lines(folder / "datasets.jsonl", [{k: v for k, v in r.items() if k != "workspace_id"} for r in dataset_rows])
    write_lines(folder / "dataset_versions.jsonl", version_rows)
    write_lines(folder / "run_inputs.jsonl", input_rows)
    counts["datasets"] = len(dataset_rows)
    counts["dataset_versions"] = len(version_rows)
    counts["run_inputs"] = len(input_rows)

    # Sorted here, not in SQL: PostgreSQL would order paths by its locale, the format wants code points.
    artifact_rows = sorted(
        (
            {"run_id": run_id, "path": f.path, "size": f.size, "sha256": f.sha256, "created_at": f.created_at}
            for run_id in run_ids
            for f in store.artifacts.files(run_id)
        ),
        key=lambda row: (row["run_id"], row["path"]),
    )
    (folder / "artifacts").mkdir()
    for done, row in enumerate(artifact_rows, 1):
        _export_artifact(storage, row, folder / "artifacts" / row["run_id"] / row["path"])
        progress("artifacts", done, len(artifact_rows))
    write_lines(folder / "artifacts.jsonl", artifact_rows)
    counts["artifacts"] = len(artifact_rows)
    counts["artifact_bytes"] = sum(int(row["size"]) for row in artifact_rows)

    write_manifest(folder, project.name, counts)
    return ExportSummary(folder, project.name, counts)


def _export_metrics(store: MetadataStore, run_id: str, path: Path) -> tuple[int, int]:
    pa, pq = pyarrow()
    keys = sorted(store.metrics.keys(run_id))
    if not keys:
        return 0, 0
    histories = [(key, store.metrics.history(run_id, key)) for key in keys]
    table = pa.table(
        {
            "key": pa.array([key for key, points in histories for _ in range(len(points))], pa.string()),
            "step": pa.array(np.concatenate([points.steps for _, points in histories]), pa.int64()),
            "value": pa.array(np.concatenate([points.values for _, points in histories]), pa.float64()),
            "timestamp": pa.array(np.concatenate([points.timestamps for _, points in histories]), pa.int64()),
        }
    )
    pq.write_table(table, path, compression="zstd")
    return len(keys), table.num_rows


def _export_artifact(storage: ArtifactStorage, row: dict[str, Any], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    try:
        with target.open("wb") as handle:
            for chunk in storage.read(f"{row['run_id']}/{row['path']}"):
                digest.update(chunk)
                handle.write(chunk)
    except NotFound:
        raise NotFound(f"artifact {row['path']!r} of run {row['run_id']} is missing from the artifact store") from None
    if digest.hexdigest() != row["sha256"]:
        raise Conflict(
            f"artifact {row['path']!r} of run {row['run_id']} has sha256 {digest.hexdigest()}, "
            f"not the {row['sha256']} recorded: the stored file is damaged"
        )
