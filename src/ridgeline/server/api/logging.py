"""/api/v1/runs/{run_id}/batches, tags and metric histories."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import orjson
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ridgeline.domain import columns
from ridgeline.domain.entities import MetricHistory
from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.wire import encode_value
from ridgeline.server.deps import Tracking
from ridgeline.server.responses import ERROR_RESPONSES, JSON
from ridgeline.server.schemas import BatchIn, BatchOut, HistoriesRequest, HistoryOut
from ridgeline.services.batches import ParsedBatch, parse_batch

router = APIRouter(prefix="/runs/{run_id}", tags=["logging"], responses=ERROR_RESPONSES)


@router.post(
    "/batches",
    response_model=BatchOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BatchIn.model_json_schema()}},
        }
    },
)
async def log_batch(run_id: str, request: Request, tracking: Tracking) -> JSON:
    """Log params, tags and metric series together. A batch id seen before is acknowledged and not applied again.

    A malformed batch (not an object, bad batch_id, unknown fields) is refused whole. Otherwise bad items (a
    point, a param, a tag, a series with a bad key) are set aside and everything else is applied; the answer is
    then 400 naming the first bad field, with every rejected item and the outcome in `error.details`.
    """
    body = await request.body()
    parsed = await run_in_threadpool(_parse, body)
    outcome = await run_in_threadpool(tracking.log_batch, run_id, parsed.batch)
    if parsed.rejected:
        first = parsed.rejected[0]
        more = f" (and {len(parsed.rejected) - 1} more)" if len(parsed.rejected) > 1 else ""
        batch = parsed.batch
        rest = "; the rest of the batch was applied" if batch.params or batch.tags or batch.metrics else ""
        raise InvalidArgument(
            f"{first['message']}{more}{rest}",
            field=first["field"],
            details={"rejected": parsed.rejected, "applied": outcome.applied, "conflicts": outcome.conflicts},
        )
    return JSON({"applied": outcome.applied, "conflicts": outcome.conflicts})


def _parse(body: bytes) -> ParsedBatch:
    """Decode and check a batch body (in a worker thread: a large body must not stall the event loop)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidArgument(f"body is not valid JSON: {exc}", field="body") from None
    return parse_batch(data)


@router.delete("/tags")
def delete_tag(run_id: str, key: Annotated[str, Query(max_length=250)], tracking: Tracking) -> JSON:
    tracking.delete_tag(run_id, key)
    return JSON({"deleted": key})


@router.get("/metrics")
def metric_keys(run_id: str, tracking: Tracking) -> JSON:
    return JSON({"keys": tracking.metric_keys(run_id)})


@router.get("/metrics/histories")
def run_histories(
    run_id: str,
    tracking: Tracking,
    points: Annotated[int | None, Query(ge=3, le=100_000, description="downsample each to about this many")] = None,
    method: Literal["minmax", "lttb"] = "minmax",
) -> JSON:
    """Every metric of a run in one response, each (optionally) downsampled.

    A GET, so a page can ask for it with `<link rel="preload">` while its scripts are still loading.
    """
    histories = [
        _history_json(tracking.metric_history(run_id, key, points=points, method=method))
        for key in tracking.metric_keys(run_id)
    ]
    return JSON({"histories": histories})


@router.get("/metrics/history", response_model=HistoryOut)
def metric_history(
    run_id: str,
    request: Request,
    tracking: Tracking,
    key: Annotated[str, Query(max_length=250)],
    min_step: int | None = None,
    max_step: int | None = None,
    points: Annotated[int | None, Query(ge=3, le=1_000_000, description="downsample to about this many")] = None,
    method: Literal["minmax", "lttb"] = "minmax",
) -> Response:
    """A metric's points ordered by step: all of them, a step range, or a shape-keeping downsampled view.

    JSON by default (non-finite values as "NaN", "Infinity", "-Infinity"); with `Accept:
    application/x-ridgeline-columns`, a compact binary form (see ridgeline/domain/columns.py).
    """
    history = tracking.metric_history(run_id, key, min_step=min_step, max_step=max_step, points=points, method=method)
    if columns.MEDIA_TYPE in request.headers.get("accept", ""):
        body = b"".join(
            [
                columns.encode_header(history),
                np.ascontiguousarray(history.steps, dtype="<i8").tobytes(),
                np.ascontiguousarray(history.values, dtype="<f8").tobytes(),
                np.ascontiguousarray(history.timestamps, dtype="<i8").tobytes(),
            ]
        )
        return Response(body, media_type=columns.MEDIA_TYPE)
    return JSON(_history_json(history))


def _history_json(history: MetricHistory) -> dict[str, Any]:
    """A history as JSON columns; non-finite values spelled "NaN", "Infinity", "-Infinity"."""
    values = history.values
    if isinstance(values, np.ndarray) and not np.isfinite(values).all():
        values = [encode_value(float(x)) for x in values]
    return {
        "run_id": history.run_id,
        "key": history.key,
        "steps": history.steps,
        "values": values,
        "timestamps": history.timestamps,
        "total": history.total,
        "downsampled": history.downsampled,
    }


MAX_HISTORIES = 1000

histories_router = APIRouter(prefix="/runs", tags=["logging"], responses=ERROR_RESPONSES)


@histories_router.post("/histories")
def metric_histories(body: HistoriesRequest, tracking: Tracking) -> JSON:
    """Several histories in one request: every key of every run (a missing key gives an empty series).

    Charts use it to draw many metrics, or the same metric of many runs, with one round trip.
    """
    run_ids, keys = list(dict.fromkeys(body.run_ids)), list(dict.fromkeys(body.keys))
    if len(run_ids) * len(keys) > MAX_HISTORIES:
        raise InvalidArgument(f"at most {MAX_HISTORIES} (run, key) pairs per request", field="keys")
    histories = [
        _history_json(
            tracking.metric_history(
                run_id,
                key,
                min_step=body.min_step,
                max_step=body.max_step,
                points=body.points,
                method=body.method,
            )
        )
        for run_id in run_ids
        for key in keys
    ]
    return JSON({"histories": histories})
