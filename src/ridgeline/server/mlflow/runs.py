"""/api/2.0/mlflow/runs/*: run lifecycle, logging and search over the same runs as the native API."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter

from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.server.deps import Datasets, LoggedModels, Tracking, Who
from ridgeline.server.mlflow.errors import MlflowRoute
from ridgeline.server.mlflow.experiments import project_for
from ridgeline.server.mlflow.filters import RUN_ATTRIBUTES, translate, translate_order_by
from ridgeline.server.mlflow.inputs import input_spec
from ridgeline.server.mlflow.messages import PARENT_TAG, RUN_NAME_TAG, Message, Msg, run_info_json, run_json
from ridgeline.server.responses import JSON
from ridgeline.services.batches import parse_batch
from ridgeline.services.tracking import MAX_PAGE, RunSpec, TrackingService

router = APIRouter(prefix="/runs", route_class=MlflowRoute)

# MLflow's limits on one log-batch or log-inputs request.
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_TOTAL = 1000
MAX_INPUT_DATASETS = 1000
_VIEWS: dict[str, bool | None] = {"ACTIVE_ONLY": False, "DELETED_ONLY": True, "ALL": None}


def _run_id(msg: Message) -> str:
    return msg.required("run_id", "run_uuid")


def _apply(
    tracking: TrackingService,
    run_id: str,
    *,
    metrics: list[dict[str, Any]] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    """Check and log MLflow-shaped items as one Ridgeline batch; any bad item refuses the whole request."""
    series: dict[str, dict[str, list[Any]]] = {}
    for index, metric in enumerate(_without_model_copies(tracking, run_id, metrics or [])):
        key = metric.get("key")
        if not isinstance(key, str):
            raise InvalidArgument(f"metrics[{index}].key must be a string", field=f"metrics[{index}].key")
        columns = series.setdefault(key, {"key": key, "steps": [], "values": [], "timestamps": []})  # type: ignore[dict-item]
        columns["steps"].append(_integer(metric.get("step", 0), f"metrics[{index}].step"))
        columns["values"].append(metric.get("value"))
        columns["timestamps"].append(_integer(metric.get("timestamp", now_ms()), f"metrics[{index}].timestamp"))
    parsed = parse_batch(
        {
            "batch_id": f"mlflow-{new_id()}",
            "metrics": list(series.values()),
            "params": params or {},
            "tags": tags or {},
        }
    )
    if parsed.rejected:
        first = parsed.rejected[0]
        raise InvalidArgument(first["message"], field=first["field"])
    outcome = tracking.log_batch(run_id, parsed.batch)
    if outcome.conflicts:
        first = outcome.conflicts[0]
        raise InvalidArgument(f"Changing param values is not allowed. {first['message']}", field=first["field"])


def _point(key: Any, step: Any, timestamp: Any, value: Any) -> tuple[Any, ...] | None:
    """A metric point as a comparable tuple (NaN equal to NaN), or None when it is malformed."""
    try:
        number = float(value)
        return (key, int(step or 0), int(timestamp or 0), "nan" if math.isnan(number) else number)
    except (TypeError, ValueError):
        return None


def _without_model_copies(
    tracking: TrackingService, run_id: str, metrics: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """MLflow 3's ``log_model`` sends the run's points of the current step again with ``model_id`` set, to link
    them to the new model. They are already in the run's history; appending them would double it, so a point
    with a ``model_id`` that the run already holds is dropped (as MLflow's own store deduplicates it)."""
    linked = {(m["key"], m.get("step")) for m in metrics if m.get("model_id") and isinstance(m.get("key"), str)}
    if not linked:
        return metrics
    held: set[tuple[Any, ...] | None] = set()
    for key, step in linked:
        try:
            at = _integer(step, "step")
            history = tracking.metric_history(run_id, key, min_step=at, max_step=at)
        except (NotFound, InvalidArgument):
            continue
        for point in zip(history.steps, history.timestamps, history.values, strict=True):
            held.add(_point(key, *point))
    return [
        metric
        for metric in metrics
        if not metric.get("model_id")
        or _point(metric.get("key"), metric.get("step"), metric.get("timestamp"), metric.get("value")) not in held
    ]


def _integer(value: Any, field: str) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{field} must be an integer, got {value!r}", field=field) from None


@router.post("/create")
def create_run(msg: Msg, tracking: Tracking) -> JSON:
    project = project_for(tracking, msg.text("experiment_id") or "0")
    tags = msg.key_values("tags")
    name = msg.text("run_name") or tags.get(RUN_NAME_TAG) or None
    parsed = parse_batch({"batch_id": "mlflow-create", "tags": tags})
    if parsed.rejected:
        first = parsed.rejected[0]
        raise InvalidArgument(first["message"], field=first["field"])
    spec = RunSpec(
        project_id=project.id,
        name=name,
        user=msg.text("user_id") or "",
        start_time=msg.integer("start_time"),
        parent_run_id=tags.get(PARENT_TAG) or None,
    )
    run = tracking.create_run(spec, tags=parsed.batch.tags)
    if tags.get(RUN_NAME_TAG) != run.name:
        _apply(tracking, run.id, tags={RUN_NAME_TAG: run.name})
        run = tracking.get_run(run.id)
    return JSON({"run": run_json(run)})


@router.get("/get")
def get_run(msg: Msg, tracking: Tracking, datasets: Datasets, logged_models: LoggedModels) -> JSON:
    run = tracking.get_run(_run_id(msg))
    outputs = logged_models.of_runs([run.id])[run.id]
    return JSON({"run": run_json(run, datasets.inputs_of_runs([run.id])[run.id], outputs)})


@router.post("/update")
def update_run(msg: Msg, tracking: Tracking) -> JSON:
    run_id = _run_id(msg)
    status = msg.text("status")
    if status is not None and status.upper() == "SCHEDULED":
        status = "RUNNING"  # Ridgeline has no queued state; a scheduled run is one that has not ended
    name = msg.text("run_name") or None
    run = tracking.update_run(run_id, name=name, status=status, end_time=msg.integer("end_time"))
    if name is not None:
        _apply(tracking, run_id, tags={RUN_NAME_TAG: name})
    return JSON({"run_info": run_info_json(run)})


@router.post("/delete")
def delete_run(msg: Msg, tracking: Tracking) -> JSON:
    tracking.delete_runs([_run_id(msg)])
    return JSON({})


@router.post("/restore")
def restore_run(msg: Msg, tracking: Tracking) -> JSON:
    tracking.restore_runs([_run_id(msg)])
    return JSON({})


@router.post("/log-metric")
def log_metric(msg: Msg, tracking: Tracking) -> JSON:
    metric = {
        "key": msg.required("key"),
        "value": msg.raw("value"),
        "timestamp": msg.raw("timestamp"),
        "step": msg.raw("step"),
    }
    _apply(tracking, _run_id(msg), metrics=[metric])
    return JSON({})


@router.post("/log-parameter")
def log_param(msg: Msg, tracking: Tracking) -> JSON:
    _apply(tracking, _run_id(msg), params={msg.required("key"): msg.text("value") or ""})
    return JSON({})


@router.post("/set-tag")
def set_tag(msg: Msg, tracking: Tracking) -> JSON:
    run_id = _run_id(msg)
    key, value = msg.required("key"), msg.text("value") or ""
    _apply(tracking, run_id, tags={key: value})
    if key == RUN_NAME_TAG and value:
        tracking.update_run(run_id, name=value)
    return JSON({})


@router.post("/delete-tag")
def delete_tag(msg: Msg, tracking: Tracking) -> JSON:
    tracking.delete_tag(_run_id(msg), msg.required("key"))
    return JSON({})


@router.post("/log-batch")
def log_batch(msg: Msg, tracking: Tracking) -> JSON:
    metrics, params, tags = msg.objects("metrics"), msg.key_values("params"), msg.key_values("tags")
    for name, count, limit in (
        ("metrics", len(metrics), MAX_BATCH_METRICS),
        ("params", len(params), MAX_BATCH_PARAMS),
        ("tags", len(tags), MAX_BATCH_TAGS),
    ):
        if count > limit:
            raise InvalidArgument(f"a log-batch request holds at most {limit} {name}, got {count}", field=name)
    if len(metrics) + len(params) + len(tags) > MAX_BATCH_TOTAL:
        raise InvalidArgument(f"A batch logging request can contain at most {MAX_BATCH_TOTAL} items", field="metrics")
    run_id = _run_id(msg)
    _apply(tracking, run_id, metrics=metrics, params=params, tags=tags)
    if tags.get(RUN_NAME_TAG):
        tracking.update_run(run_id, name=tags[RUN_NAME_TAG])
    return JSON({})


@router.post("/log-inputs")
def log_inputs(msg: Msg, datasets: Datasets, who: Who) -> JSON:
    """MLflow datasets become versions of Ridgeline datasets used by the run (server/mlflow/inputs.py)."""
    run_id = _run_id(msg)
    if msg.objects("models"):
        raise InvalidArgument("logging models as run inputs is not supported yet", field="models")
    items = msg.objects("datasets")
    if len(items) > MAX_INPUT_DATASETS:
        raise InvalidArgument(
            f"a log-inputs request holds at most {MAX_INPUT_DATASETS} datasets, got {len(items)}", field="datasets"
        )
    specs = [
        input_spec(item.get("dataset"), Message(body=item).key_values("tags"), f"datasets[{index}]")
        for index, item in enumerate(items)
    ]
    datasets.log_inputs(run_id, specs, who, foreign=True)
    return JSON({})


@router.post("/search")
def search_runs(msg: Msg, tracking: Tracking, datasets: Datasets, logged_models: LoggedModels) -> JSON:
    view = (msg.text("run_view_type") or "ACTIVE_ONLY").upper()
    if view not in _VIEWS:
        raise InvalidArgument(
            f"run_view_type must be ACTIVE_ONLY, DELETED_ONLY or ALL, got {view!r}", field="run_view_type"
        )
    max_results = msg.integer("max_results") or 1000
    if max_results < 1:
        raise InvalidArgument("max_results must be positive", field="max_results")
    experiment_ids = msg.texts("experiment_ids")
    if not experiment_ids:
        return JSON({})
    project_ids = [project_for(tracking, experiment_id).id for experiment_id in experiment_ids]
    page = tracking.search_runs(
        project_ids,
        filter=translate(msg.text("filter") or "", RUN_ATTRIBUTES),
        order_by=translate_order_by(msg.texts("order_by"), RUN_ATTRIBUTES) or None,
        # MLflow allows bigger pages; a smaller one with a next_page_token is within its contract.
        limit=min(max_results, MAX_PAGE),
        cursor=msg.text("page_token") or None,
        deleted=_VIEWS[view],
    )
    run_ids = [run.id for run in page.runs]
    inputs, outputs = datasets.inputs_of_runs(run_ids), logged_models.of_runs(run_ids)
    body: dict[str, Any] = {"runs": [run_json(run, inputs[run.id], outputs[run.id]) for run in page.runs]}
    if page.next_cursor:
        body["next_page_token"] = page.next_cursor
    return JSON(body)
