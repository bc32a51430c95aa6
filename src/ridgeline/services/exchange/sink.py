"""The one way in for data that another system recorded: an export folder, MLflow.

A source describes projects and runs as they are over there — their own ids, times, statuses and users, every
metric point, the dataset versions they used and their artifact files — and the sink writes them through the
store, bringing a run that exists already up to date instead of duplicating it:

- the run row takes the source's values; params and tags are set (tags the source lacks are kept);
- metric points are added when the run holds another number of points of a key than the source (the ones it
  lacks);
- dataset inputs are added when missing, their datasets and versions matched by name and digest;
- an artifact is copied when the run lacks the path or holds other content (sha256 when the source knows it,
  else size).

Artifact files are stored first; everything else of a run lands in one transaction afterwards, so an interrupted
import leaves either the run as it was or the run complete, and rerunning finishes the job. Artifacts that cannot
be read are reported and marked on the run with the tag :data:`MISSING_ARTIFACTS_TAG`, so a rerun retries them.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from typing import Any

import numpy as np

from ridgeline.domain.entities import ArtifactFile, Project
from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.services.exchange.records import (
    ArtifactData,
    ProjectData,
    RunData,
    RunOutcome,
    RunState,
    StoredRun,
)
from ridgeline.store.artifacts.paths import check_path
from ridgeline.store.artifacts.storage import ArtifactStorage
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.metrics import SeriesArrays

MISSING_ARTIFACTS_TAG = "ridgeline.import.missing_artifacts"
_MAX_MARKER_LENGTH = 1000


class Sink:
    def __init__(self, store: MetadataStore, storage: ArtifactStorage) -> None:
        self.store = store
        self.storage = storage

    # projects -----------------------------------------------------------------------------------------------

    def find_project(self, name: str) -> Project | None:
        return self.store.projects.find_by_name(name, stats=False)

    def create_project(self, data: ProjectData) -> str:
        """Create the project with its id (a fresh one when that is taken), times, tags and retention policy."""
        project_id = data.id if data.id is not None and not self._project_exists(data.id) else new_id()
        values = {
            "id": project_id,
            "name": data.name,
            "description": data.description,
            "created_at": data.created_at,
            "updated_at": data.updated_at,
            "deleted_at": data.deleted_at,
        }
        self.store.projects.insert(values, data.tags)
        policy = data.retention
        if policy is not None:
            self.store.retention.put(
                project_id, policy["max_age_days"], policy["keep_last"], policy["updated_by"], policy["updated_at"]
            )
        return project_id

    def update_project(self, project: Project, data: ProjectData) -> None:
        """Make the project's description, deletion and tags those of ``data`` (its name and other tags stay)."""
        changes: dict[str, Any] = {}
        if project.description != data.description:
            changes["description"] = data.description
        if (project.deleted_at is None) != (data.deleted_at is None):
            changes["deleted_at"] = data.deleted_at
        if changes:
            self.store.projects.update(project.id, **changes)
        held = self.store.projects.tags([project.id])[project.id]
        for key, value in data.tags.items():
            if held.get(key) != value:
                self.store.projects.set_tag(project.id, key, value)

    def _project_exists(self, project_id: str) -> bool:
        try:
            self.store.projects.get(project_id, stats=False)
        except NotFound:
            return False
        return True

    # runs ---------------------------------------------------------------------------------------------------

    def stored_runs(self, run_ids: list[str]) -> dict[str, StoredRun]:
        """The runs among these ids that Ridgeline holds (a few queries per 500 runs)."""
        records = self.store.runs.get_many(run_ids)
        found = list(records)
        counts = self.store.metrics.point_counts(found)
        inputs = self.store.datasets.input_keys(found)
        return {
            run_id: StoredRun(record, counts.get(run_id, {}), inputs.get(run_id, set()))
            for run_id, record in records.items()
        }

    def write_run(
        self, project_id: str, run: RunData, artifacts: list[ArtifactData], problems: list[str] | None = None
    ) -> RunOutcome:
        """Bring the run into the project, or bring it up to date there; ``problems`` are artifact troubles the
        source met before (a folder it could not list), reported and marked like those met while copying."""
        stored = self.stored_runs([run.id]).get(run.id)
        if stored is not None and stored.record.project_id != project_id:
            return RunOutcome(RunState.ELSEWHERE)
        outcome = RunOutcome(RunState.NEW if stored is None else RunState.UPDATED, problems=list(problems or []))
        points = self._new_points(run, stored)
        outcome.points = sum(len(series) for series in points.values())
        records = self._copy_artifacts(run.id, artifacts, outcome)
        old = stored.record if stored is not None else None
        params = {key: value for key, value in run.params.items() if old is None or old.params.get(key) != value}
        tags = {key: value for key, value in run.tags.items() if old is None or old.tags.get(key) != value}
        drop: list[str] = []
        if outcome.problems:
            marker = "; ".join(outcome.problems)[:_MAX_MARKER_LENGTH]
            if old is None or old.tags.get(MISSING_ARTIFACTS_TAG) != marker:
                tags[MISSING_ARTIFACTS_TAG] = marker
        elif old is not None and MISSING_ARTIFACTS_TAG in old.tags and MISSING_ARTIFACTS_TAG not in run.tags:
            drop.append(MISSING_ARTIFACTS_TAG)
        inputs = [item for item in run.inputs if stored is None or item.key not in stored.inputs]
        if old is not None and run.same_row(old) and not (params or tags or drop or points or inputs or records):
            outcome.state = RunState.UNCHANGED
            return outcome
        with self.store.database.write() as conn:
            self.store.runs.put_imported(conn, run.row(project_id), params, tags, drop)
            self.store.metrics.append_many(conn, run.id, points)
            links = []
            for item in inputs:
                version_id, dataset_created, version_created = self.store.datasets.put_imported_version(
                    conn,
                    item.version.dataset_name,
                    {"id": item.version.dataset_id, "created_at": item.version.dataset_created_at},
                    item.version.columns(),
                )
                outcome.datasets_created += dataset_created
                outcome.versions_created += version_created
                links.append(
                    {
                        "run_id": run.id,
                        "dataset_version_id": version_id,
                        "context": item.context,
                        "created_at": item.created_at,
                    }
                )
            self.store.datasets.link_inputs(conn, links)
            self.store.artifacts.put_many(conn, run.id, records)
        return outcome

    def add_artifacts(self, run_id: str, artifacts: list[ArtifactData]) -> RunOutcome:
        """Bring files into a run that exists (a logged model's package): those it lacks are copied, then recorded
        in one transaction; the outcome counts them and the files that could not be read."""
        outcome = RunOutcome(RunState.UPDATED)
        records = self._copy_artifacts(run_id, artifacts, outcome)
        if records:
            with self.store.database.write() as conn:
                self.store.artifacts.put_many(conn, run_id, records)
        else:
            outcome.state = RunState.UNCHANGED
        return outcome

    def _new_points(self, run: RunData, stored: StoredRun | None) -> dict[str, SeriesArrays]:
        """The points of each key that the run lacks: all of them for a key it does not hold, none when it holds
        as many as the source (recorded points never change), else the source's points minus its own."""
        fresh: dict[str, SeriesArrays] = {}
        for key, points in run.metrics.items():
            held = 0 if stored is None else stored.point_counts.get(key, 0)
            if held == 0:
                fresh[key] = points
            elif held != len(points):
                missing = _missing(points, self.store.metrics.history(run.id, key))
                if len(missing):
                    fresh[key] = missing
        return fresh

    def _copy_artifacts(self, run_id: str, artifacts: list[ArtifactData], outcome: RunOutcome) -> list[ArtifactFile]:
        held = {item.path: item for item in self.store.artifacts.files(run_id)} if artifacts else {}
        copied: list[ArtifactFile] = []
        for item in artifacts:
            have = held.get(item.path)
            if have is not None and (have.sha256 == item.sha256 if item.sha256 else have.size == item.size):
                outcome.artifacts_present += 1
                continue
            try:
                record = self._copy(run_id, check_path(item.path), item)
            except (NotFound, InvalidArgument) as exc:
                outcome.problems.append(f"{item.path}: {exc.message}")
                continue
            copied.append(record)
            outcome.artifacts_copied += 1
            outcome.artifact_bytes += record.size
        return copied

    def _copy(self, run_id: str, path: str, item: ArtifactData) -> ArtifactFile:
        writer = self.storage.writer(f"{run_id}/{path}")
        digest = hashlib.sha256()
        size = 0
        try:
            for chunk in item.read():
                digest.update(chunk)
                size += len(chunk)
                writer.write(chunk)
            if item.sha256 is not None and digest.hexdigest() != item.sha256:
                raise InvalidArgument(f"content has sha256 {digest.hexdigest()}, not the {item.sha256} announced")
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        created = item.created_at if item.created_at is not None else now_ms()
        return ArtifactFile(path=path, size=size, sha256=digest.hexdigest(), created_at=created)


def _point_keys(points: SeriesArrays) -> list[tuple[int, int, float | str]]:
    # NaN never equals itself: count it by name so a NaN point matches the NaN already stored.
    return [
        (int(step), int(stamp), "nan" if math.isnan(value) else float(value))
        for step, stamp, value in zip(points.steps, points.timestamps, points.values, strict=True)
    ]


def _missing(source: SeriesArrays, stored: SeriesArrays) -> SeriesArrays:
    """The source's points that ``stored`` lacks, counting duplicates."""
    have = Counter(_point_keys(stored))
    keep = []
    for index, key in enumerate(_point_keys(source)):
        if have[key]:
            have[key] -= 1
        else:
            keep.append(index)
    return source.take(np.asarray(keep, dtype=np.int64))
