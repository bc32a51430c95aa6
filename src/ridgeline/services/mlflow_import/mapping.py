"""MLflow's entities as Ridgeline stores them (docs/import-mlflow.md, "Mapping").

An experiment becomes the project of the same name, which remembers the experiment's id and source in two tags;
a run keeps its id, name, status (SCHEDULED becomes RUNNING), times, user, params and tags, its parent comes from
the ``mlflow.parentRunId`` tag and its notes from ``mlflow.note.content``; a deleted run is soft-deleted. A
dataset input becomes a dataset version as services/mlflow_datasets.py maps it.
"""

from __future__ import annotations

from ridgeline.domain.entities import RunStatus
from ridgeline.services.exchange.records import (
    InputData,
    ProjectData,
    RunData,
    StoredRun,
    VersionData,
)
from ridgeline.services.exchange.sink import MISSING_ARTIFACTS_TAG
from ridgeline.services.mlflow_datasets import CONTEXT_TAG, version_of
from ridgeline.services.mlflow_import.model import DatasetInput, Experiment, RunSummary
from ridgeline.store.metrics import SeriesArrays

EXPERIMENT_ID_TAG = "ridgeline.import.mlflow_experiment_id"
SOURCE_TAG = "ridgeline.import.mlflow_source"
NOTE_TAG = "mlflow.note.content"
PARENT_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"


def project_data(experiment: Experiment, name: str, source_label: str) -> ProjectData:
    created = experiment.creation_time or 0
    updated = experiment.last_update_time or created
    return ProjectData(
        name=name,
        description=experiment.tags.get(NOTE_TAG, ""),
        created_at=created,
        updated_at=updated,
        deleted_at=updated if experiment.deleted else None,
        tags={**experiment.tags, EXPERIMENT_ID_TAG: experiment.id, SOURCE_TAG: source_label},
    )


def run_data(run: RunSummary, metrics: dict[str, SeriesArrays]) -> RunData:
    start = run.start_time or 0
    ends = [stamp for stamp in (run.end_time, run.deleted_time) if stamp is not None]
    last_points = [stamp for _, stamp in run.latest.values()]
    deleted_at = (run.deleted_time or run.end_time or start) if run.deleted else None
    return RunData(
        id=run.id,
        name=run.name or run.tags.get(RUN_NAME_TAG, ""),
        status=RunStatus.RUNNING.value if run.status == "SCHEDULED" else run.status,
        start_time=start,
        end_time=run.end_time,
        user=run.user,
        notes=run.tags.get(NOTE_TAG, ""),
        parent_run_id=run.tags.get(PARENT_TAG) or None,
        updated_at=max([start, *ends, *last_points]),
        deleted_at=deleted_at,
        params=run.params,
        tags=run.tags,
        metrics=metrics,
        inputs=[_input(item, start, run.user) for item in run.inputs],
    )


def _input(item: DatasetInput, when: int, user: str) -> InputData:
    version = version_of(item.digest, item.source_type, item.source, item.schema, item.profile)
    data = VersionData(dataset_name=item.name, dataset_created_at=when, created_at=when, created_by=user, **version)
    return InputData(data, item.tags.get(CONTEXT_TAG, ""), when)


def unchanged(run: RunSummary, stored: StoredRun) -> bool:
    """Whether Ridgeline holds the run as the summary describes it, so its histories and artifacts need not be
    read: same row, params, tags and dataset inputs, each metric's latest point at the same step and time, the
    same number of points where the source counts them, and no artifact left to retry."""
    record = stored.record
    data = run_data(run, {})
    if MISSING_ARTIFACTS_TAG in record.tags or not data.same_row(record):
        return False
    if any(record.params.get(key) != value for key, value in run.params.items()):
        return False
    if any(record.tags.get(key) != value for key, value in run.tags.items()):
        return False
    latest = {key: (point.step, point.timestamp) for key, point in record.latest_metrics.items()}
    if any(latest.get(key) != point for key, point in run.latest.items()):
        return False
    if run.point_counts is not None and any(stored.point_counts.get(k) != n for k, n in run.point_counts.items()):
        return False
    return all(item.key in stored.inputs for item in data.inputs)
