"""Reading MLflow request messages (query parameters for GET, a JSON body otherwise) and writing entities
in MLflow's proto3 JSON shape."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request

from ridgeline.domain.entities import Project, RunInput, RunRecord
from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.registry import LoggedModel
from ridgeline.server.mlflow.inputs import dataset_input_json

RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"
PARENT_TAG = "mlflow.parentRunId"


class Message:
    """One request message, read the same way whether it came as query parameters or as JSON."""

    def __init__(self, body: Mapping[str, Any] | None = None, query: Mapping[str, list[str]] | None = None) -> None:
        self.body = body or {}
        self.query = query or {}

    def raw(self, name: str) -> Any:
        if name in self.body:
            return self.body[name]
        values = self.query.get(name)
        return values[-1] if values else None

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, dict | list):
            raise InvalidArgument(f"{name} must be a string", field=name)
        return value if isinstance(value, str) else str(value)

    def required(self, name: str, *aliases: str) -> str:
        for candidate in (name, *aliases):
            value = self.text(candidate)
            if value:
                return value
        raise InvalidArgument(f"Missing value for required parameter '{name}'", field=name)

    def integer(self, name: str) -> int | None:
        value = self.raw(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise InvalidArgument(f"{name} must be an integer, got {value!r}", field=name)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InvalidArgument(f"{name} must be an integer, got {value!r}", field=name) from None

    def texts(self, name: str) -> list[str]:
        if name in self.body:
            value = self.body[name]
            if value is None:
                return []
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise InvalidArgument(f"{name} must be a list of strings", field=name)
            return list(value)
        return list(self.query.get(name, []))

    def objects(self, name: str) -> list[dict[str, Any]]:
        value = self.body.get(name) or []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise InvalidArgument(f"{name} must be a list of objects", field=name)
        return list(value)

    def key_values(self, name: str) -> dict[str, str]:
        """A repeated ``{key, value}`` field as a dict (the last value of a repeated key wins)."""
        pairs: dict[str, str] = {}
        for index, item in enumerate(self.objects(name)):
            key = item.get("key")
            if not isinstance(key, str) or not key:
                raise InvalidArgument(f"{name}[{index}].key must be a non-empty string", field=f"{name}[{index}].key")
            value = item.get("value", "")
            pairs[key] = "" if value is None else value if isinstance(value, str) else str(value)
        return pairs


async def read_message(request: Request) -> Message:
    if request.method == "GET":
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        return Message(query=query)
    body = await request.body()
    if not body.strip():
        return Message()
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidArgument(f"the request body is not valid JSON: {exc}", field="body") from None
    if not isinstance(data, dict):
        raise InvalidArgument("the request body must be a JSON object", field="body")
    return Message(body=data)


Msg = Annotated[Message, Depends(read_message)]


def _pairs(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in values.items()]


def metric_value(value: float) -> float | str:
    """Proto3 JSON spells non-finite doubles as strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def experiment_json(project: Project, tags: Mapping[str, str]) -> dict[str, Any]:
    return {
        "experiment_id": project.id,
        "name": project.name,
        "artifact_location": f"mlflow-artifacts:/{project.id}",
        "lifecycle_stage": "deleted" if project.deleted else "active",
        "creation_time": project.created_at,
        "last_update_time": project.updated_at,
        "tags": _pairs(tags),
    }


def run_artifact_uri(run: RunRecord) -> str:
    """Where MLflow's client finds the run's artifacts: server/mlflow/artifacts.py serves this location."""
    return f"mlflow-artifacts:/{run.project_id}/{run.id}/artifacts"


def run_info_json(run: RunRecord) -> dict[str, Any]:
    info: dict[str, Any] = {
        "run_id": run.id,
        "run_uuid": run.id,
        "experiment_id": run.project_id,
        "run_name": run.name,
        "user_id": run.user,
        "status": run.status.value,
        "start_time": run.start_time,
        "artifact_uri": run_artifact_uri(run),
        "lifecycle_stage": "deleted" if run.deleted else "active",
    }
    if run.end_time is not None:
        info["end_time"] = run.end_time
    return info


def run_json(run: RunRecord, inputs: Sequence[RunInput] = (), outputs: Sequence[LoggedModel] = ()) -> dict[str, Any]:
    """The run in MLflow's shape, with ``inputs``: its dataset inputs (DatasetService.inputs_of_runs), and
    ``outputs``: the models it logged (LoggedModelService.of_runs)."""
    tags = dict(run.tags)
    # Runs logged by the Ridgeline SDK have no mlflow.runName tag; MLflow's client and UI read the name there.
    tags.setdefault(RUN_NAME_TAG, run.name)
    if run.parent_run_id is not None:
        tags.setdefault(PARENT_TAG, run.parent_run_id)
    metrics = [
        {"key": key, "value": metric_value(point.value), "timestamp": point.timestamp, "step": point.step}
        for key, point in run.latest_metrics.items()
    ]
    return {
        "info": run_info_json(run),
        "data": {"metrics": metrics, "params": _pairs(run.params), "tags": _pairs(tags)},
        "inputs": {"dataset_inputs": [dataset_input_json(item) for item in inputs]} if inputs else {},
        "outputs": {"model_outputs": [{"model_id": model.id, "step": 0} for model in outputs]} if outputs else {},
    }
