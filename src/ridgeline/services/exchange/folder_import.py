"""Import an export folder (docs/export-format.md) through the sink: checked first, nothing is written when its
manifest or a file's sha256 is wrong; safe to repeat (the sink brings existing runs up to date, and an artifact
stored with the same sha256 is not copied again)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ridgeline.domain import validation as v
from ridgeline.domain.errors import InvalidArgument
from ridgeline.services.exchange.format import Progress, chunks, pyarrow, quiet, read_lines, read_manifest
from ridgeline.services.exchange.records import (
    ArtifactData,
    InputData,
    ProjectData,
    RunData,
    RunOutcome,
    RunState,
    VersionData,
)
from ridgeline.services.exchange.sink import Sink
from ridgeline.store.artifacts.paths import check_path
from ridgeline.store.artifacts.storage import ArtifactStorage
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.metrics import FLOAT64, INT64, SeriesArrays


@dataclass
class ImportSummary:
    project: str
    project_created: bool = False
    runs_imported: int = 0
    runs_updated: int = 0
    runs_skipped: int = 0
    points: int = 0
    artifacts_copied: int = 0
    artifacts_skipped: int = 0
    datasets_created: int = 0
    versions_created: int = 0
    skipped_in_other_project: list[str] = field(default_factory=list)

    def add(self, run_id: str, outcome: RunOutcome) -> None:
        if outcome.state is RunState.ELSEWHERE:
            self.skipped_in_other_project.append(run_id)
        self.runs_imported += outcome.state is RunState.NEW
        self.runs_updated += outcome.state is RunState.UPDATED
        self.runs_skipped += outcome.state in (RunState.UNCHANGED, RunState.ELSEWHERE)
        self.points += outcome.points
        self.artifacts_copied += outcome.artifacts_copied
        self.artifacts_skipped += outcome.artifacts_present
        self.datasets_created += outcome.datasets_created
        self.versions_created += outcome.versions_created


def import_folder(
    store: MetadataStore, storage: ArtifactStorage, folder: Path, progress: Progress = quiet
) -> ImportSummary:
    """Import the folder's project (matched by name, created as exported when absent) and its runs.

    Every file read is one the manifest lists (and read_manifest checked: a plain file inside the folder, with
    its sha256), found from ids and paths that are checked first: rows naming ``../..`` or an absolute path
    refuse the import before anything is written.
    """
    listed = set(read_manifest(folder)["files"])
    pyarrow()  # refused before anything is written when it is missing
    sink = Sink(store, storage)
    (project_row,) = read_lines(folder / "projects.jsonl")
    run_rows = read_lines(folder / "runs.jsonl")
    for row in run_rows:
        _checked(v.check_id, row["id"], "runs.jsonl")
    artifacts: dict[str, list[ArtifactData]] = {}
    for row in read_lines(folder / "artifacts.jsonl"):
        artifacts.setdefault(row["run_id"], []).append(_artifact(folder, row, listed))
    inputs = _inputs_by_run(folder)
    summary = ImportSummary(project=project_row["name"])
    existing = sink.find_project(project_row["name"])
    if existing is not None:
        project_id = existing.id
    else:
        project_id = sink.create_project(
            ProjectData(
                name=project_row["name"],
                description=project_row["description"],
                created_at=project_row["created_at"],
                updated_at=project_row["updated_at"],
                deleted_at=project_row["deleted_at"],
                # Folders written before project tags were exported have none.
                tags=project_row.get("tags", {}),
                id=project_row["id"],
                retention=project_row["retention"],
            )
        )
        summary.project_created = True

    for done, row in enumerate(run_rows, 1):
        metrics_name = f"metrics/{row['id']}.parquet"
        run = RunData(
            id=row["id"],
            name=row["name"],
            status=row["status"],
            start_time=row["start_time"],
            end_time=row["end_time"],
            user=row["user"],
            notes=row["notes"],
            parent_run_id=row["parent_run_id"],
            updated_at=row["updated_at"],
            deleted_at=row["deleted_at"],
            params=row["params"],
            tags=row["tags"],
            metrics=_read_metrics(folder / metrics_name) if metrics_name in listed else {},
            inputs=inputs.get(row["id"], []),
        )
        summary.add(row["id"], sink.write_run(project_id, run, artifacts.get(row["id"], [])))
        progress("runs", done, len(run_rows))
    return summary


def _inputs_by_run(folder: Path) -> dict[str, list[InputData]]:
    datasets = {row["id"]: row for row in read_lines(folder / "datasets.jsonl")}
    versions: dict[str, VersionData] = {}
    for row in read_lines(folder / "dataset_versions.jsonl"):
        dataset = datasets[row["dataset_id"]]
        versions[row["id"]] = VersionData(
            dataset_name=dataset["name"],
            dataset_created_at=dataset["created_at"],
            digest=row["digest"],
            kind=row["kind"],
            rows=row["rows"],
            size_bytes=row["size_bytes"],
            schema=row["schema"],
            profile=row["profile"],
            source=row["source"],
            created_at=row["created_at"],
            created_by=row["created_by"],
            ready_at=row["ready_at"],
            ready_by=row["ready_by"],
            id=row["id"],
            dataset_id=dataset["id"],
        )
    found: dict[str, list[InputData]] = {}
    for row in read_lines(folder / "run_inputs.jsonl"):
        item = InputData(versions[row["dataset_version_id"]], row["context"], row["created_at"])
        found.setdefault(row["run_id"], []).append(item)
    return found


def _checked(check: Callable[[str, str], str], value: Any, where: str) -> str:
    """``value`` passed through ``check``, or the import refused naming the file whose row holds it."""
    try:
        return check(value, "dir")
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}: {exc.message}; nothing was imported", field="dir") from None


def _artifact(folder: Path, row: dict[str, Any], listed: set[str]) -> ArtifactData:
    name = f"artifacts/{_checked(v.check_id, row['run_id'], 'artifacts.jsonl')}/"
    name += _checked(check_path, row["path"], "artifacts.jsonl")
    if name not in listed:
        raise InvalidArgument(f"artifacts.jsonl names {name}, which the manifest does not list", field="dir")
    source = folder / name

    def read() -> Iterator[bytes]:
        with source.open("rb") as handle:
            yield from chunks(handle)

    return ArtifactData(row["path"], int(row["size"]), read, row["sha256"], int(row["created_at"]))


def _read_metrics(path: Path) -> dict[str, SeriesArrays]:
    _, pq = pyarrow()
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
