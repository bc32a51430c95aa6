"""The validation gate and registry lineage in the native API: stored evaluations, promote (rule-checked) and
rollback, a version's lineage (run, dataset versions, commit) and the model versions trained on a dataset version.

A refused promotion answers 409 with code ``PROMOTION_REFUSED``; its ``details`` hold the failed rule and every
rule's values (candidate, champion, required).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BeforeValidator, Field

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.promotion import EvaluationSpec, evaluation_to_json, promotion_to_json, result_to_json
from ridgeline.domain.registry_wire import model_version_to_json
from ridgeline.domain.wire import NON_FINITE, decode_value, run_to_json, version_to_json
from ridgeline.server.api.registry import ModelName, VersionNumber
from ridgeline.server.deps import Datasets, Registry, Who
from ridgeline.server.responses import ERROR_RESPONSES, JSON
from ridgeline.server.schemas import Strict
from ridgeline.services.registry_gate import MAX_EVALUATIONS_LISTED, RegistryGate

router = APIRouter(tags=["registry"], responses=ERROR_RESPONSES)

_METRICS = '{name: number}; NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity"'


def _not_bool(value: object) -> object:
    # Pydantic would otherwise store true as 1.0.
    if isinstance(value, bool):
        raise ValueError("a metric is a number, not true or false")
    return value


Metric = Annotated[float | str, BeforeValidator(_not_bool)]


def _gate(registry: Registry) -> RegistryGate:
    return RegistryGate(registry.store)


Gate = Annotated[RegistryGate, Depends(_gate)]


class EvaluationCreate(Strict):
    version: int | str = Field(description="the candidate version's number")
    metrics: dict[str, Metric] = Field(description=f"the candidate's metrics, {_METRICS}")
    dataset_name: str = Field(description="the evaluation data's name (a logged dataset's, or a label)")
    dataset_digest: str = Field(description="its content hash (1-64 printable characters)")
    dataset_version_id: str | None = Field(None, description="the logged dataset version, when it is one")
    task: str = Field(description="classification or regression")
    rows: int = Field(description="how many rows were scored")
    alias: str | None = Field(None, description="the alias whose holder was scored beside the candidate")
    champion_version: int | None = Field(None, description="that holder's version (the alias's current one)")
    champion_metrics: dict[str, Metric] | None = Field(None, description=f"its metrics, {_METRICS}")


class PromoteBody(Strict):
    version: int | str
    alias: str = "champion"
    require: list[str] = Field(
        default_factory=list,
        description="rules on the version's stored evaluation: 'accuracy >= 0.9', 'f1 > champion + 0.01', "
        "'rmse < champion - 0.5' (champion: the alias's current holder on the same data)",
    )


class RollbackBody(Strict):
    alias: str = "champion"


def _numbers(metrics: dict[str, Metric] | None, field: str) -> dict[str, float] | None:
    if metrics is None:
        return None
    for key, value in metrics.items():
        if isinstance(value, str) and value not in NON_FINITE:
            raise InvalidArgument(f"{field}[{key}] must be a number, or NaN, Infinity, -Infinity as text", field=field)
    return {key: decode_value(value) for key, value in metrics.items()}


@router.post("/models/{name}/evaluations", status_code=201)
def record_evaluation(name: ModelName, body: EvaluationCreate, gate: Gate, who: Who) -> JSON:
    """Store an evaluation: the candidate's metrics and, when an alias has a holder, the holder's on the same
    data, under one evaluation id (ridgeline.registry.evaluate computes them where the model and data are)."""
    spec = EvaluationSpec(
        version=body.version,
        metrics=_numbers(body.metrics, "metrics") or {},
        dataset_name=body.dataset_name,
        dataset_digest=body.dataset_digest,
        dataset_version_id=body.dataset_version_id,
        task=body.task,
        rows=body.rows,
        alias=body.alias,
        champion_version=body.champion_version,
        champion_metrics=_numbers(body.champion_metrics, "champion_metrics"),
    )
    return JSON(result_to_json(gate.record_evaluation(name, spec, user=who)), status_code=201)


@router.get("/models/{name}/evaluations/{evaluation_id}")
def get_evaluation(name: ModelName, evaluation_id: str, gate: Gate) -> JSON:
    """One evaluation: the candidate's and the champion's results and the deltas (candidate minus champion)."""
    return JSON(result_to_json(gate.get_evaluation(name, evaluation_id)))


@router.get("/models/{name}/versions/{version}/evaluations")
def version_evaluations(
    name: ModelName,
    version: VersionNumber,
    gate: Gate,
    limit: Annotated[int, Query(ge=1, le=MAX_EVALUATIONS_LISTED)] = 100,
) -> JSON:
    """The version's stored evaluations, newest first (as candidate or as the champion compared with)."""
    found = gate.evaluations(name, version, limit)
    return JSON({"evaluations": [evaluation_to_json(item) for item in found]})


@router.post("/models/{name}/promote")
def promote(name: ModelName, body: PromoteBody, gate: Gate, who: Who) -> JSON:
    """Move the alias to the version if every rule passes on its stored evaluation; 409 PROMOTION_REFUSED
    (naming the failed rule, with the values) otherwise, and the alias stays where it was."""
    return JSON(promotion_to_json(gate.promote(name, body.version, body.alias, body.require, user=who)))


@router.post("/models/{name}/rollback")
def rollback(name: ModelName, gate: Gate, who: Who, body: RollbackBody | None = None) -> JSON:
    """Move the alias back to the version it pointed at before its last promotion (from the alias history)."""
    return JSON(promotion_to_json(gate.rollback(name, (body or RollbackBody()).alias, user=who)))


@router.get("/models/{name}/versions/{version}/lineage")
def version_lineage(name: ModelName, version: VersionNumber, gate: Gate) -> JSON:
    """Version → run → dataset versions (profiles left out) → git commit; `run` is null when it is gone."""
    found = gate.version_lineage(name, version)
    inputs: list[dict[str, Any]] = [
        {"context": item.context, "version": version_to_json(item.version, profile=False)} for item in found.inputs
    ]
    return JSON(
        {
            "version": model_version_to_json(found.version),
            "run": None if found.run is None else run_to_json(found.run),
            "inputs": inputs,
            "git_commit": found.git_commit,
        }
    )


@router.get("/dataset-versions/{version_id}/model-versions")
def dataset_model_versions(version_id: str, gate: Gate) -> JSON:
    """Every model version trained on the dataset version (its run used it): lineage from the data's side."""
    versions = gate.versions_trained_on(version_id)
    return JSON({"versions": [model_version_to_json(item) for item in versions]})


@router.get("/datasets/resolve")
def resolve_dataset_version(
    name: Annotated[str, Query(max_length=200)],
    datasets: Datasets,
    version: Annotated[str | None, Query(description="version id or digest prefix; default: the newest")] = None,
) -> JSON:
    """A version of the named dataset by id or digest prefix (at least 4 hex digits), or the newest."""
    return JSON(version_to_json(datasets.resolve_version(name, version)))
