"""Export a project to a versioned folder, and import such a folder into any data folder or database.

The format is documented in docs/export-format.md. Output is deterministic (rows sorted, JSON with sorted keys
and fixed separators, Parquet written from plain arrays), so export → import → export gives the same files; only
``exported_at`` in ``manifest.json`` differs. Import keeps ids, times, statuses and whole metric histories, and
is safe to repeat: a run that exists already is left as it is, an artifact already stored with the same sha256
is not copied again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from ridgeline import __version__
from ridgeline.domain.entities import ArtifactFile
from ridgeline.domain.errors import Conflict, InvalidArgument, NotFound
from ridgeline.store.artifacts.storage import ArtifactStorage
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.metrics import FLOAT64, INT64, SeriesArrays
from ridgeline.store.projects import DEFAULT_WORKSPACE_ID
from ridgeline.store.runs import text_row
from ridgeline.store.schema import (
    artifacts,
    dataset_versions,
    datasets,
    latest_metrics,
    params,
    projects,
    retention_policies,
    run_inputs,
    runs,
    tags,
)

FORMAT_NAME = "ridgeline-export"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
MANIFEST = "manifest.json"
_CHUNK = 1 << 20
_IN_CHUNK = 500

# (phase, done, total): the CLI turns these into progress bars.
Progress = Callable[[str, int, int], None]


def _quiet(_phase: str, _done: int, _total: int) -> None:
    """No progress shown."""


def _line(value: Any) -> str:
    """One JSON line: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - pyarrow ships with the test and artifacts extras
        raise InvalidArgument(
            "export and import need pyarrow for metric histories: pip install 'ridgeline[artifacts]'"
        ) from None
    return pa, pq


@dataclass
class ExportSummary:
    folder: Path
    project: str
    counts: dict[str, int]


@dataclass
class ImportSummary:
    project: str
    project_created: bool = False
    runs_imported: int = 0
    runs_skipped: int = 0
    points: int = 0
    artifacts_copied: int = 0
    artifacts_skipped: int = 0
    datasets_created: int = 0
    versions_created: int = 0
    skipped_in_other_project: list[str] = field(default_factory=list)


# export ---------------------------------------------------------------------------------------------------------


def export_project(
    store: MetadataStore, storage: ArtifactStorage, project_name: str, folder: Path, progress: Progress = _quiet
) -> ExportSummary:
    """Write the project (every run, soft-deleted ones included) to ``folder``, which must be empty or absent."""
    _, pq = _pyarrow()
    project = store.projects.find_by_name(project_name, stats=False)
    if project is None:
        raise NotFound(f"project {project_name!r} does not exist", field="project")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InvalidArgument(f"{folder} is not an empty folder; export into a new one", field="to")
    folder.mkdir(parents=True, exist_ok=True)
    db = store.database
    counts: dict[str, int] = {}
    with db.read() as conn:
        project_row = dict(conn.execute(select(projects).where(projects.c.id == project.id)).one()._mapping)
        policy = conn.execute(select(retention_policies).where(retention_policies.c.project_id == project.id)).first()
        run_rows = [
            dict(row._mapping)
            for row in conn.execute(select(runs).where(runs.c.project_id == project.id).order_by(runs.c.id))
        ]
        run_ids = [row["id"] for row in run_rows]
        kv = {"params": _key_values(conn, params, run_ids), "tags": _key_values(conn, tags, run_ids)}
        artifact_rows = _rows_of_runs(conn, artifacts, run_ids, (artifacts.c.run_id, artifacts.c.path))
        input_rows = _rows_of_runs(
            conn,
            run_inputs,
            run_ids,
            (run_inputs.c.run_id, run_inputs.c.dataset_version_id, run_inputs.c.context),
        )
        version_ids = sorted({row["dataset_version_id"] for row in input_rows})
        version_rows = [
            dict(row._mapping)
            for start in range(0, len(version_ids), _IN_CHUNK)
            for row in conn.execute(
                select(dataset_versions).where(dataset_versions.c.id.in_(version_ids[start : start + _IN_CHUNK]))
            )
        ]
        dataset_ids = sorted({row["dataset_id"] for row in version_rows})
        dataset_rows = [
            dict(row._mapping)
            for row in conn.execute(select(datasets).where(datasets.c.id.in_(dataset_ids)).order_by(datasets.c.id))
        ]
    version_rows.sort(key=lambda row: row["id"])

    project_row.pop("workspace_id")
    project_row["retention"] = (
        None
        if policy is None
        else {
            "max_age_days": policy.max_age_days,
            "keep_last": policy.keep_last,
            "updated_at": policy.updated_at,
            "updated_by": policy.updated_by,
        }
    )
    _write_lines(folder / "projects.jsonl", [project_row])

    exported_runs = []
    for row in run_rows:
        row.pop("project_id")
        row["user"] = row.pop("user_name")
        row["params"] = kv["params"].get(row["id"], {})
        row["tags"] = kv["tags"].get(row["id"], {})
        exported_runs.append(row)
    _write_lines(folder / "runs.jsonl", exported_runs)
    counts["runs"] = len(exported_runs)
    counts["deleted_runs"] = sum(1 for row in exported_runs if row["deleted_at"] is not None)
    counts["params"] = sum(len(row["params"]) for row in exported_runs)
    counts["tags"] = sum(len(row["tags"]) for row in exported_runs)

    counts["metric_series"] = counts["metric_points"] = 0
    (folder / "metrics").mkdir()
    for done, run_id in enumerate(run_ids, 1):
        series_count, points = _export_metrics(store, pq, run_id, folder / "metrics" / f"{run_id}.parquet")
        counts["metric_series"] += series_count
        counts["metric_points"] += points
        progress("metrics", done, len(run_ids))

    _write_lines(folder / "datasets.jsonl", [{k: v for k, v in r.items() if k != "workspace_id"} for r in dataset_rows])
    for row in version_rows:
        row["schema"] = json.loads(row["schema"])
        row["profile"] = None if row["profile"] is None else json.loads(row["profile"])
    _write_lines(folder / "dataset_versions.jsonl", version_rows)
    _write_lines(folder / "run_inputs.jsonl", input_rows)
    counts["datasets"] = len(dataset_rows)
    counts["dataset_versions"] = len(version_rows)
    counts["run_inputs"] = len(input_rows)

    (folder / "artifacts").mkdir()
    for done, row in enumerate(artifact_rows, 1):
        _export_artifact(storage, row, folder / "artifacts" / row["run_id"] / row["path"])
        progress("artifacts", done, len(artifact_rows))
    _write_lines(folder / "artifacts.jsonl", artifact_rows)
    counts["artifacts"] = len(artifact_rows)
    counts["artifact_bytes"] = sum(int(row["size"]) for row in artifact_rows)

    files = {
        path.relative_to(folder).as_posix(): _sha256_file(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "ridgeline_version": __version__,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "project": project.name,
        "counts": counts,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
    return ExportSummary(folder, project.name, counts)


def _write_lines(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(_line(row) + "\n")


def _key_values(conn: Connection, table: Any, run_ids: list[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for row in _rows_of_runs(conn, table, run_ids, (table.c.run_id, table.c.key)):
        found.setdefault(row["run_id"], {})[row["key"]] = row["value"]
    return found


def _rows_of_runs(conn: Connection, table: Any, run_ids: list[str], order: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rows of ``table`` belonging to the runs, in ``order``; derived search columns left out."""
    rows: list[dict[str, Any]] = []
    for start in range(0, len(run_ids), _IN_CHUNK):
        chunk = run_ids[start : start + _IN_CHUNK]
        rows += [dict(row._mapping) for row in conn.execute(select(table).where(table.c.run_id.in_(chunk)))]
    for row in rows:
        row.pop("value_prefix", None)
        row.pop("num_value", None)
    names = [column.name for column in order]
    rows.sort(key=lambda row: tuple(row[name] for name in names))
    return rows


def _export_metrics(store: MetadataStore, pq: Any, run_id: str, path: Path) -> tuple[int, int]:
    pa, _ = _pyarrow()
    with store.database.read() as conn:
        keys = sorted(
            conn.execute(select(latest_metrics.c.key).where(latest_metrics.c.run_id == run_id)).scalars().all()
        )
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


# import ---------------------------------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest, once its format version is known and every file matches its sha256."""
    path = folder / MANIFEST
    if not path.is_file():
        raise InvalidArgument(f"{folder} has no {MANIFEST}: it is not a Ridgeline export", field="dir")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"{path} is not valid JSON: {exc}", field="dir") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise InvalidArgument(f"{path} does not describe a {FORMAT_NAME} folder", field="dir")
    version = manifest.get("format_version")
    if version not in SUPPORTED_VERSIONS:
        supported = ", ".join(str(item) for item in SUPPORTED_VERSIONS)
        raise InvalidArgument(
            f"export format version {version!r} is not supported (this Ridgeline {__version__} reads version "
            f"{supported}); upgrade Ridgeline to import it",
            field="dir",
        )
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise InvalidArgument(f"{path} lists no files", field="dir")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST}
    unlisted = sorted(present - set(files))
    if unlisted:
        raise InvalidArgument(f"{unlisted[0]} is not listed in the manifest: the folder was changed", field="dir")
    for name, expected in sorted(files.items()):
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise InvalidArgument(f"the manifest names a file outside the folder: {name!r}", field="dir")
        if name not in present:
            raise InvalidArgument(f"{name} is missing from {folder}", field="dir")
        actual = _sha256_file(folder / name)
        if actual != expected:
            raise InvalidArgument(
                f"{name} has sha256 {actual}, not the {expected} in the manifest: the folder was changed or "
                "damaged; nothing was imported",
                field="dir",
            )
    return manifest


def _read_lines(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def import_folder(
    store: MetadataStore, storage: ArtifactStorage, folder: Path, progress: Progress = _quiet
) -> ImportSummary:
    """Import an export folder (checked first: nothing is written when its manifest or a hash is wrong)."""
    _, pq = _pyarrow()
    read_manifest(folder)
    (project_row,) = _read_lines(folder / "projects.jsonl")
    summary = ImportSummary(project=project_row["name"])
    project_id, summary.project_created = _import_project(store, project_row)

    version_ids: dict[str, str] = {}
    dataset_ids: dict[str, str] = {}
    with store.database.write() as conn:
        for row in _read_lines(folder / "datasets.jsonl"):
            dataset_ids[row["id"]], created = _import_dataset(conn, row)
            summary.datasets_created += created
        for row in _read_lines(folder / "dataset_versions.jsonl"):
            version_ids[row["id"]], created = _import_version(conn, row, dataset_ids[row["dataset_id"]])
            summary.versions_created += created

    inputs: dict[str, list[dict[str, Any]]] = {}
    for row in _read_lines(folder / "run_inputs.jsonl"):
        inputs.setdefault(row["run_id"], []).append(row)
    run_rows = _read_lines(folder / "runs.jsonl")
    for done, row in enumerate(run_rows, 1):
        metrics_file = folder / "metrics" / f"{row['id']}.parquet"
        series = _read_metrics(pq, metrics_file) if metrics_file.is_file() else {}
        imported = _import_run(store, project_id, row, series, inputs.get(row["id"], []), version_ids)
        if imported is None:
            summary.runs_skipped += 1
        elif imported:
            summary.runs_imported += 1
            summary.points += sum(len(points) for points in series.values())
        else:
            summary.runs_skipped += 1
            summary.skipped_in_other_project.append(row["id"])
        progress("runs", done, len(run_rows))

    artifact_rows = _read_lines(folder / "artifacts.jsonl")
    for done, row in enumerate(artifact_rows, 1):
        if row["run_id"] not in summary.skipped_in_other_project:
            copied = _import_artifact(store, storage, folder / "artifacts" / row["run_id"] / row["path"], row)
            summary.artifacts_copied += copied
            summary.artifacts_skipped += not copied
        progress("artifacts", done, len(artifact_rows))
    return summary


def _import_project(store: MetadataStore, row: dict[str, Any]) -> tuple[str, bool]:
    """The id of the project of that name, created with the exported id and times when absent."""
    existing = store.projects.find_by_name(row["name"], stats=False)
    if existing is not None:
        return existing.id, False
    with store.database.write() as conn:
        taken = conn.execute(select(projects.c.id).where(projects.c.id == row["id"])).first() is not None
        project_id = row["id"] if not taken else hashlib.sha256(row["id"].encode()).hexdigest()[:32]
        conn.execute(
            projects.insert().values(
                id=project_id,
                workspace_id=DEFAULT_WORKSPACE_ID,
                name=row["name"],
                description=row["description"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                deleted_at=row["deleted_at"],
            )
        )
        policy = row.get("retention")
        if policy is not None:
            conn.execute(retention_policies.insert().values(project_id=project_id, **policy))
    return project_id, True


def _import_dataset(conn: Connection, row: dict[str, Any]) -> tuple[str, bool]:
    found = conn.execute(
        select(datasets.c.id).where(datasets.c.workspace_id == DEFAULT_WORKSPACE_ID, datasets.c.name == row["name"])
    ).scalar()
    if found is not None:
        return str(found), False
    taken = conn.execute(select(datasets.c.id).where(datasets.c.id == row["id"])).first() is not None
    dataset_id = row["id"] if not taken else hashlib.sha256(row["id"].encode()).hexdigest()[:32]
    conn.execute(
        datasets.insert().values(
            id=dataset_id, workspace_id=DEFAULT_WORKSPACE_ID, name=row["name"], created_at=row["created_at"]
        )
    )
    return dataset_id, True


def _import_version(conn: Connection, row: dict[str, Any], dataset_id: str) -> tuple[str, bool]:
    found = conn.execute(
        select(dataset_versions.c.id).where(
            dataset_versions.c.dataset_id == dataset_id, dataset_versions.c.digest == row["digest"]
        )
    ).scalar()
    if found is not None:
        return str(found), False
    taken = conn.execute(select(dataset_versions.c.id).where(dataset_versions.c.id == row["id"])).first()
    version_id = row["id"] if taken is None else hashlib.sha256(row["id"].encode()).hexdigest()[:32]
    values = {**row, "id": version_id, "dataset_id": dataset_id, "schema": json.dumps(row["schema"])}
    values["profile"] = None if row["profile"] is None else json.dumps(row["profile"])
    conn.execute(dataset_versions.insert().values(**values))
    return version_id, True


def _read_metrics(pq: Any, path: Path) -> dict[str, SeriesArrays]:
    table = pq.read_table(path)
    keys = table.column("key").to_pylist()
    steps = table.column("step").to_numpy().astype(INT64)
    values = table.column("value").to_numpy().astype(FLOAT64)
    stamps = table.column("timestamp").to_numpy().astype(INT64)
    series: dict[str, SeriesArrays] = {}
    start = 0
    for index in range(1, len(keys) + 1):
        if index == len(keys) or keys[index] != keys[start]:
            part = slice(start, index)
            key = keys[start]
            if key in series:
                raise InvalidArgument(f"{path.name}: rows of key {key!r} are not together", field="dir")
            series[key] = SeriesArrays(steps[part], values[part], stamps[part])
            start = index
    return series


def _text_rows(run_id: str, values: dict[str, str]) -> list[dict[str, Any]]:
    return [text_row(run_id, key, value) for key, value in sorted(values.items())]


def _import_run(
    store: MetadataStore,
    project_id: str,
    row: dict[str, Any],
    series: dict[str, SeriesArrays],
    inputs: list[dict[str, Any]],
    version_ids: dict[str, str],
) -> bool | None:
    """Insert the run with everything it holds in one transaction. None: it exists already in this project
    (left as it is); False: its id belongs to a run of another project (also left alone)."""
    with store.database.write() as conn:
        existing = conn.execute(select(runs.c.project_id).where(runs.c.id == row["id"])).first()
        if existing is not None:
            return None if existing.project_id == project_id else False
        conn.execute(
            runs.insert().values(
                id=row["id"],
                project_id=project_id,
                name=row["name"],
                status=row["status"],
                start_time=row["start_time"],
                end_time=row["end_time"],
                user_name=row["user"],
                notes=row["notes"],
                parent_run_id=row["parent_run_id"],
                updated_at=row["updated_at"],
                deleted_at=row["deleted_at"],
            )
        )
        for table, kind in ((params, "params"), (tags, "tags")):
            rows = _text_rows(row["id"], row[kind])
            if rows:
                conn.execute(table.insert(), rows)
        store.metrics.append_many(conn, row["id"], series)
        if inputs:
            conn.execute(
                run_inputs.insert(),
                [
                    {
                        "run_id": row["id"],
                        "dataset_version_id": version_ids[item["dataset_version_id"]],
                        "context": item["context"],
                        "created_at": item["created_at"],
                    }
                    for item in inputs
                ],
            )
    return True


def _import_artifact(store: MetadataStore, storage: ArtifactStorage, source: Path, row: dict[str, Any]) -> bool:
    """Store the file and its row, unless the run holds it already with the same sha256; True when copied."""
    run_id, path = row["run_id"], row["path"]
    try:
        if store.artifacts.get(run_id, path).sha256 == row["sha256"]:
            return False
    except NotFound:
        pass
    writer = storage.writer(f"{run_id}/{path}")
    try:
        with source.open("rb") as handle:
            for chunk in _chunks(handle):
                writer.write(chunk)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    store.artifacts.put(
        run_id, ArtifactFile(path=path, size=int(row["size"]), sha256=row["sha256"], created_at=int(row["created_at"]))
    )
    return True


def _chunks(handle: Any) -> Iterator[bytes]:
    while chunk := handle.read(_CHUNK):
        yield chunk
