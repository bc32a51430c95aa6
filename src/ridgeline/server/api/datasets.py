"""/api/v1/datasets, dataset versions, a run's dataset inputs and its lineage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from ridgeline.domain.entities import Dataset
from ridgeline.domain.wire import artifact_to_json, run_to_json, version_to_json
from ridgeline.server.deps import Datasets, Who
from ridgeline.server.responses import ERROR_RESPONSES, JSON
from ridgeline.server.schemas import Strict

router = APIRouter(tags=["datasets"], responses=ERROR_RESPONSES)


class DatasetInput(Strict):
    name: str = Field(description="the dataset's name, created on first use")
    context: str = Field("training", description="what the run used it for: training, validation, test, …")
    digest: str = Field(description="sha256 of the content (hex): the version's identity")
    kind: str = Field(description="dataframe, arrays or files")
    rows: int | None = None
    size_bytes: int | None = None
    schema_: list[dict[str, Any]] = Field(default_factory=list, alias="schema")
    profile: dict[str, Any] | None = None
    source: str = ""


class ReadyFlag(Strict):
    ready: bool = True


class ReadyByName(Strict):
    name: str
    version: str | None = Field(None, description="version id or (a prefix of) its digest; null: the latest")
    ready: bool = True


def dataset_json(dataset: Dataset) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "name": dataset.name,
        "created_at": dataset.created_at,
        "version_count": dataset.version_count,
        "latest_version_at": dataset.latest_version_at,
    }


@router.post("/runs/{run_id}/datasets", status_code=201)
def log_dataset(run_id: str, body: DatasetInput, datasets: Datasets, who: Who) -> JSON:
    """Record that the run used this content of a dataset (the same content is always the same version)."""
    version = datasets.log_input(run_id, body.name, body.context, body.model_dump(by_alias=True), who)
    return JSON(version_to_json(version), status_code=201)


@router.get("/runs/{run_id}/lineage")
def run_lineage(run_id: str, datasets: Datasets) -> JSON:
    """The run's inputs (dataset versions, with what for), its parent run and its outputs (artifacts)."""
    lineage = datasets.lineage(run_id)
    return JSON(
        {
            "run": run_to_json(lineage.run),
            "inputs": [
                {"context": item.context, "version": version_to_json(item.version, profile=False)}
                for item in lineage.inputs
            ],
            "parent_run_id": lineage.run.parent_run_id,
            "outputs": {"artifacts": [artifact_to_json(item) for item in lineage.outputs]},
        }
    )


@router.get("/datasets")
def list_datasets(datasets: Datasets) -> JSON:
    return JSON({"datasets": [dataset_json(item) for item in datasets.list_datasets()]})


@router.get("/datasets/by-name")
def dataset_by_name(name: Annotated[str, Query(max_length=200)], datasets: Datasets) -> JSON:
    """The named dataset and every version of it, newest first, with how many runs used each."""
    return JSON(
        {
            "dataset": dataset_json(datasets.get_dataset(name)),
            "versions": [version_to_json(item, profile=False) for item in datasets.versions(name)],
        }
    )


@router.get("/dataset-versions/{version_id}")
def get_version(version_id: str, datasets: Datasets) -> JSON:
    return JSON(version_to_json(datasets.version(version_id)))


@router.get("/dataset-versions/{version_id}/runs")
def version_runs(version_id: str, datasets: Datasets) -> JSON:
    """Every live run that used the version, and for what: lineage from the data's side."""
    return JSON(
        {"runs": [{"context": context, "run": run_to_json(run)} for run, context in datasets.runs_using(version_id)]}
    )


@router.post("/dataset-versions/{version_id}/ready")
def mark_ready(version_id: str, datasets: Datasets, who: Who, body: ReadyFlag | None = None) -> JSON:
    """Declare the version ready for modelling (recorded with who and when), or withdraw that with ready=false."""
    flag = body or ReadyFlag()
    return JSON(version_to_json(datasets.mark_ready(version_id, who, flag.ready)))


@router.post("/datasets/ready")
def mark_ready_by_name(body: ReadyByName, datasets: Datasets, who: Who) -> JSON:
    """Mark a version of a dataset, named by dataset name and version id or digest prefix (or the latest)."""
    version = datasets.resolve_version(body.name, body.version)
    return JSON(version_to_json(datasets.mark_ready(version.id, who, body.ready)))
