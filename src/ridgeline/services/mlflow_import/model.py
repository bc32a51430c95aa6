"""What the importer reads from MLflow, the same whichever source it came from (server, database, mlruns folder).

Values stay as MLflow holds them (statuses as MLflow's names, times in epoch milliseconds, JSON strings for
dataset schemas and profiles); mapping.py turns them into what Ridgeline stores.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ridgeline.services.exchange.records import ArtifactData
from ridgeline.store.metrics import FLOAT64, INT64, SeriesArrays

# MLflow's run statuses by the numbers its file store writes (mlflow/protos/service.proto RunStatus).
STATUS_BY_NUMBER = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
# A logged model's status as MLflow's database and file store (numbers) and REST API (names) spell it.
LOGGED_MODEL_STATUS = {
    1: "PENDING",
    2: "READY",
    3: "FAILED",
    "LOGGED_MODEL_PENDING": "PENDING",
    "LOGGED_MODEL_READY": "READY",
    "LOGGED_MODEL_UPLOAD_FAILED": "FAILED",
}
# The stage MLflow's database and file store give a deleted version (mlflow/entities/model_registry).
DELETED_STAGE = "Deleted_Internal"
# Registered models that are MLflow prompts carry this tag set to "true"; they are not models.
PROMPT_TAG = "mlflow.prompt.is_prompt"


def history(points: Iterable[tuple[int, int, float]]) -> SeriesArrays:
    """(step, timestamp, value) points as columns, ordered by step, then time (MLflow keeps no logging order)."""
    rows = sorted(points, key=lambda point: (point[0], point[1]))
    return SeriesArrays(
        np.fromiter((row[0] for row in rows), INT64, len(rows)),
        np.fromiter((row[2] for row in rows), FLOAT64, len(rows)),
        np.fromiter((row[1] for row in rows), INT64, len(rows)),
    )


def latest(series: SeriesArrays) -> tuple[int, int]:
    """(step, timestamp) of the latest point of an ordered history."""
    return int(series.steps[-1]), int(series.timestamps[-1])


@dataclass(frozen=True)
class Experiment:
    id: str
    name: str
    deleted: bool
    creation_time: int | None
    last_update_time: int | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetInput:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None
    profile: str | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSummary:
    """A run without its metric histories and artifacts: what a listing returns, enough to tell whether
    Ridgeline already holds it as it is."""

    id: str
    experiment_id: str
    name: str
    status: str
    start_time: int | None
    end_time: int | None
    user: str
    deleted: bool
    deleted_time: int | None
    artifact_uri: str
    params: dict[str, str]
    tags: dict[str, str]
    # Key → (step, timestamp) of its latest point (highest step, then latest time).
    latest: dict[str, tuple[int, int]]
    inputs: list[DatasetInput]
    # Points per key, where the source can count them cheaply (database, folder); None over REST.
    point_counts: dict[str, int] | None = None


@dataclass(frozen=True)
class LoggedModelInfo:
    """An MLflow 3 logged model: a model package, normally saved by a run, whose files are at ``artifact_uri``."""

    id: str
    experiment_id: str
    name: str
    artifact_uri: str
    created: int | None
    # PENDING, READY or FAILED.
    status: str
    model_type: str
    run_id: str | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VersionInfo:
    version: int
    created: int | None
    description: str
    user: str
    stage: str
    source: str
    run_id: str | None
    # READY, PENDING_REGISTRATION or FAILED_REGISTRATION.
    status: str
    model_id: str | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisteredModelInfo:
    name: str
    description: str
    created: int | None
    updated: int | None
    tags: dict[str, str]
    aliases: dict[str, int]
    versions: list[VersionInfo]


@dataclass
class Artifacts:
    """A run's files, or the reasons some could not be listed."""

    files: list[ArtifactData] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class MlflowSource(Protocol):
    """One MLflow installation, read-only."""

    # Names the source in messages and in the project tag that finds an experiment's project again.
    label: str

    def experiments(self) -> list[Experiment]:
        """Every experiment, deleted ones included."""
        ...

    def runs(self, experiment: Experiment) -> Iterator[RunSummary]:
        """Every run of the experiment, deleted ones included."""
        ...

    def histories(self, run: RunSummary) -> dict[str, SeriesArrays]:
        """Every point of every metric of the run."""
        ...

    def artifacts(self, run: RunSummary) -> Artifacts: ...

    def logged_models(self, experiment: Experiment) -> list[LoggedModelInfo]:
        """The experiment's logged models that are not deleted."""
        ...

    def model_files(self, model: LoggedModelInfo) -> Artifacts: ...

    def registered_models(self) -> list[RegisteredModelInfo]:
        """Every registered model with its versions (prompts left out)."""
        ...

    def close(self) -> None: ...
