"""/api/2.0/mlflow/metrics/*: a metric's full history (paged) and the bulk variants charts use."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter

from ridgeline.domain.entities import MetricHistory
from ridgeline.domain.errors import InvalidArgument
from ridgeline.server.deps import Tracking
from ridgeline.server.mlflow.errors import MlflowRoute
from ridgeline.server.mlflow.messages import Msg, metric_value
from ridgeline.server.responses import JSON

router = APIRouter(prefix="/metrics", route_class=MlflowRoute)

HISTORY_PAGE = 25_000
MAX_BULK_RUNS = 100
MAX_BULK_POINTS = 2500


def _points(history: MetricHistory, run_id: str | None = None) -> list[dict[str, Any]]:
    points = []
    for point in history:
        item: dict[str, Any] = {
            "key": history.key,
            "value": metric_value(point.value),
            "timestamp": point.timestamp,
            "step": point.step,
        }
        if run_id is not None:
            item["run_id"] = run_id
        points.append(item)
    return points


@router.get("/get-history")
def get_metric_history(msg: Msg, tracking: Tracking) -> JSON:
    run_id = msg.required("run_id", "run_uuid")
    key = msg.required("metric_key")
    max_results = msg.integer("max_results") or HISTORY_PAGE
    if max_results < 1:
        raise InvalidArgument("max_results must be positive", field="max_results")
    token = msg.text("page_token")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise InvalidArgument("page_token is not one this server issued", field="page_token") from None
    if start < 0:
        raise InvalidArgument("page_token is not one this server issued", field="page_token")
    points = _points(tracking.metric_history(run_id, key))
    body: dict[str, Any] = {"metrics": points[start : start + max_results]}
    if start + max_results < len(points):
        body["next_page_token"] = str(start + max_results)
    return JSON(body)


def _evenly(history: MetricHistory, limit: int) -> MetricHistory:
    """At most ``limit`` points at evenly spaced positions, the first and last always kept."""
    if len(history) <= limit:
        return history
    index = np.unique(np.round(np.linspace(0, len(history) - 1, limit)).astype(np.int64))
    pick = index.tolist()
    return MetricHistory(
        history.run_id,
        history.key,
        [history.steps[i] for i in pick],
        [history.values[i] for i in pick],
        [history.timestamps[i] for i in pick],
        history.total,
        True,
    )


def _bulk(msg_run_ids: list[str], key: str, max_results: int | None, tracking: Tracking, **steps: Any) -> JSON:
    run_ids = list(dict.fromkeys(msg_run_ids))
    if not run_ids:
        raise InvalidArgument("Missing value for required parameter 'run_ids'", field="run_ids")
    if len(run_ids) > MAX_BULK_RUNS:
        raise InvalidArgument(f"at most {MAX_BULK_RUNS} run_ids per request", field="run_ids")
    limit = MAX_BULK_POINTS if max_results is None else max_results
    if not 1 <= limit <= MAX_BULK_POINTS:
        raise InvalidArgument(f"max_results must be between 1 and {MAX_BULK_POINTS}", field="max_results")
    points: list[dict[str, Any]] = []
    for run_id in run_ids:
        history = tracking.metric_history(run_id, key, **steps)
        points += _points(_evenly(history, limit), run_id)
    return JSON({"metrics": points})


@router.get("/get-history-bulk-interval")
def get_history_bulk_interval(msg: Msg, tracking: Tracking) -> JSON:
    start_step, end_step = msg.integer("start_step"), msg.integer("end_step")
    if (start_step is None) != (end_step is None):
        raise InvalidArgument("give both start_step and end_step, or neither", field="start_step")
    return _bulk(
        msg.texts("run_ids"),
        msg.required("metric_key"),
        msg.integer("max_results"),
        tracking,
        min_step=start_step,
        max_step=end_step,
    )


@router.get("/get-history-bulk")
def get_history_bulk(msg: Msg, tracking: Tracking) -> JSON:
    return _bulk(msg.texts("run_id"), msg.required("metric_key"), msg.integer("max_results"), tracking)
