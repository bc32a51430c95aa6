"""/api/v1/runs/{run_id}/batches, tags and metric histories."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import orjson
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from ridgeline.domain import columns
from ridgeline.domain.errors import InvalidArgument, PayloadTooLarge
from ridgeline.domain.wire import encode_value
from ridgeline.server.deps import Tracking
from ridgeline.server.responses import JSON
from ridgeline.server.schemas import BatchIn, BatchOut, HistoryOut
from ridgeline.services.batches import parse_batch

router = APIRouter(prefix="/runs/{run_id}", tags=["logging"])

MAX_BATCH_BYTES = 64 * 1024 * 1024


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

    Every field is checked before anything is written: a bad field is named in the error and the batch is
    not applied at all, so fixing and resending it is safe.
    """
    body = await request.body()
    if len(body) > MAX_BATCH_BYTES:
        raise PayloadTooLarge(f"batch body is {len(body)} bytes; the limit is {MAX_BATCH_BYTES}", field="body")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidArgument(f"body is not valid JSON: {exc}", field="body") from None
    batch = parse_batch(data)
    outcome = await run_in_threadpool(tracking.log_batch, run_id, batch)
    return JSON({"applied": outcome.applied, "conflicts": outcome.conflicts})


@router.delete("/tags")
def delete_tag(run_id: str, key: Annotated[str, Query(max_length=250)], tracking: Tracking) -> JSON:
    tracking.delete_tag(run_id, key)
    return JSON({"deleted": key})


@router.get("/metrics")
def metric_keys(run_id: str, tracking: Tracking) -> JSON:
    return JSON({"keys": tracking.metric_keys(run_id)})


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
    values = history.values
    if isinstance(values, np.ndarray) and not np.isfinite(values).all():
        values = [encode_value(float(x)) for x in values]
    return JSON(
        {
            "run_id": history.run_id,
            "key": history.key,
            "steps": history.steps,
            "values": values,
            "timestamps": history.timestamps,
            "total": history.total,
            "downsampled": history.downsampled,
        }
    )
