"""/api/v1/monitors: production monitors (docs/monitoring.md): define them, send predictions and actuals in
batches, read reports, distributions and alerts."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.monitors_wire import alert_to_json, monitor_to_json, period_to_json
from ridgeline.server.deps import Monitoring, principal_name
from ridgeline.server.responses import ERROR_RESPONSES, JSON
from ridgeline.server.schemas import Strict
from ridgeline.services.monitoring.spec import MonitorSpec, PredictionBatch

router = APIRouter(prefix="/monitors", tags=["monitors"], responses=ERROR_RESPONSES)

Name = Annotated[str, Path(max_length=250, description="the monitor's name")]
User = Annotated[str, Depends(principal_name)]


Body = TypeVar("Body", bound=BaseModel)


class MonitorIn(Strict):
    model: str = Field(description="what it watches: NAME@ALIAS (follows the alias) or NAME/VERSION")
    name: str | None = Field(None, description="default: NAME-ALIAS or NAME-VERSION")
    reference: dict[str, Any] | None = Field(
        None, description="a reference profile (the SDK builds it); null: the model version's training data"
    )
    reference_source: str = Field("", max_length=1000, description="where the reference came from, in words")
    features: list[str] | None = Field(None, description="null: every column of the reference")
    window: str | int = Field("1d", description="window length: 15m, 1h, 1d, 1w… (or seconds)")
    segment_by: list[str] = Field(default_factory=list, description="features or tags to compute statistics per value")
    task: str | None = Field(None, description="classification or regression; null: inferred from the labels")
    policy: dict[str, Any] | None = Field(None, description="drift tests and thresholds (docs/monitoring.md)")
    quality: dict[str, Any] | None = Field(None, description="allowed missing / out_of_range / invalid rates")
    rules: list[Any] = Field(default_factory=list, description="alert rules, as text or JSON")
    channels: list[dict[str, Any]] = Field(default_factory=list, description="where alerts go")
    cooldown: str | int = Field(3600, description="quiet time before an open alert is sent again")
    description: str = Field("", max_length=10_000)


class MonitorPatch(Strict):
    rules: list[Any] | None = None
    channels: list[dict[str, Any]] | None = None
    description: str | None = Field(None, max_length=10_000)


class PredictionsIn(Strict):
    inputs: dict[str, list[Any]] = Field(description="each feature (and tag) as a column of values, one per row")
    predictions: list[Any] = Field(description="the model's output, one per row")
    ids: list[str | int] | None = Field(None, description="ids to join actuals on later; default: generated")
    timestamps: list[int | float] | None = Field(None, description="epoch milliseconds; default: now")
    versions: list[int | None] | None = Field(None, description="model versions; default: the one served now")
    scores: list[Any] | None = Field(None, description="class probabilities or scores, one per row")
    tags: dict[str, list[Any]] | None = Field(None, description="extra columns to segment by, not features")


class ActualsIn(Strict):
    ids: list[str | int] = Field(description="the predictions' ids")
    values: list[Any] = Field(description="the true value of each")
    timestamps: list[int | float] | None = Field(None, description="when the truth was known (epoch ms)")


class ReferenceIn(Strict):
    reference: dict[str, Any]
    source: str = Field("", max_length=1000)
    version: int | None = Field(None, description="the model version whose period it starts; default: served now")


@router.post("", status_code=201)
def create_monitor(body: MonitorIn, monitoring: Monitoring, user: User) -> JSON:
    spec = MonitorSpec(**body.model_dump())
    monitor = monitoring.create(spec, user=user)
    return JSON(monitor_to_json(monitor, monitoring.periods(monitor.name)), status_code=201)


@router.get("")
def list_monitors(monitoring: Monitoring, model: Annotated[str | None, Query(max_length=250)] = None) -> JSON:
    return JSON({"monitors": [monitor_to_json(monitor) for monitor in monitoring.find(model)]})


@router.post("/ingest")
def ingest_prediction_log(request: Request, monitoring: Monitoring) -> JSON:
    """One pass over the server's prediction log (what model servers sent), then every monitor's alert rules."""
    return JSON({"ingested": monitoring.run_pass(str(request.app.state.settings.prediction_log))})


@router.get("/{name}")
def get_monitor(name: Name, monitoring: Monitoring) -> JSON:
    return JSON(monitor_to_json(monitoring.get(name), monitoring.periods(name)))


@router.patch("/{name}")
def update_monitor(name: Name, body: MonitorPatch, monitoring: Monitoring) -> JSON:
    monitor = monitoring.update(name, rules=body.rules, channels=body.channels, description=body.description)
    return JSON(monitor_to_json(monitor, monitoring.periods(name)))


@router.delete("/{name}", status_code=204)
def delete_monitor(name: Name, monitoring: Monitoring) -> Response:
    monitoring.delete(name)
    return Response(status_code=204)


async def _body(request: Request, model: type[Body]) -> Body:
    """The JSON body parsed with orjson off the event loop: a batch of predictions is megabytes, and the stock
    parser takes three times as long."""
    raw = await request.body()
    try:
        data = await run_in_threadpool(orjson.loads, raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidArgument(f"body is not valid JSON: {exc}", field="body") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError([{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]) from None


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


@router.post("/{name}/predictions", openapi_extra=_schema(PredictionsIn))
async def log_predictions(name: Name, request: Request, monitoring: Monitoring) -> JSON:
    body = await _body(request, PredictionsIn)
    batch = PredictionBatch(
        inputs=body.inputs,
        predictions=body.predictions,
        ids=None if body.ids is None else [str(value) for value in body.ids],
        timestamps=body.timestamps,
        versions=body.versions,
        scores=body.scores,
        tags=body.tags,
    )
    done = await run_in_threadpool(monitoring.log_predictions, name, batch)
    return JSON({"rows": done.rows, "windows": done.windows, "periods": done.periods})


@router.post("/{name}/actuals", openapi_extra=_schema(ActualsIn))
async def log_actuals(name: Name, request: Request, monitoring: Monitoring) -> JSON:
    body = await _body(request, ActualsIn)
    done = await run_in_threadpool(monitoring.log_actuals, name, body.ids, body.values, body.timestamps)
    return JSON({"rows": done.rows, "matched": done.matched, "windows": done.windows})


@router.put("/{name}/reference")
def set_reference(name: Name, body: ReferenceIn, monitoring: Monitoring) -> JSON:
    return JSON(period_to_json(monitoring.set_reference(name, body.reference, body.source, body.version)))


@router.get("/{name}/periods")
def list_periods(name: Name, monitoring: Monitoring) -> JSON:
    return JSON({"periods": [period_to_json(period) for period in monitoring.periods(name)]})


@router.get("/{name}/report")
def report(
    name: Name,
    monitoring: Monitoring,
    start: Annotated[int | None, Query(ge=0, description="first window start, epoch ms")] = None,
    end: Annotated[int | None, Query(ge=0, description="windows starting before this, epoch ms")] = None,
    segment: Annotated[
        str | None, Query(max_length=250, description="NAME=VALUE, NAME (every value), * (all); default: everyone")
    ] = None,
    period: Annotated[int | None, Query(ge=1)] = None,
) -> JSON:
    return JSON({"rows": monitoring.report(name, start=start, end=end, segment=segment, period=period)})


@router.get("/{name}/distribution")
def distribution(
    name: Name,
    monitoring: Monitoring,
    feature: Annotated[str, Query(max_length=250)],
    window_start: Annotated[int, Query(ge=0)],
    segment: Annotated[str, Query(max_length=250)] = "",
    period: Annotated[int | None, Query(ge=1)] = None,
) -> JSON:
    return JSON(monitoring.distribution(name, feature, window_start, segment=segment, period=period))


@router.get("/{name}/alerts")
def list_alerts(
    name: Name,
    monitoring: Monitoring,
    status: Annotated[str | None, Query(pattern="^(raised|resolved)$")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
) -> JSON:
    return JSON({"alerts": [alert_to_json(alert) for alert in monitoring.alerts(name, status=status, limit=limit)]})


@router.post("/{name}/evaluate")
def evaluate_alerts(name: Name, monitoring: Monitoring) -> JSON:
    """Run the monitor's alert rules now (the server also does after each pass over the prediction log)."""
    return JSON({"alerts": [alert_to_json(alert) for alert in monitoring.evaluate_alerts(name)]})
