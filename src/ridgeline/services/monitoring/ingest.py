"""Ingestion: predictions become raw events (Parquet, monitoring_events.py) and merged window profiles (the
metadata store); actuals are joined to their predictions by id and the touched windows' performance recomputed.

Raw events are written before profiles are merged, so a failure in between can only leave events whose profile
is missing (sending the batch again counts it twice), never counted data that was not kept.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.domain.monitors import MAX_SEGMENT_VALUES, PREDICTION, WHOLE, Monitor, Period, segment_key
from ridgeline.monitoring.performance import compute
from ridgeline.monitoring.reference import Reference
from ridgeline.monitoring.window import WindowProfile
from ridgeline.services.monitoring.spec import PredictionBatch, check_ids, check_timestamps
from ridgeline.store.monitoring_events import INPUT, JSON_INPUT
from ridgeline.store.scope import in_workspace

if TYPE_CHECKING:
    from ridgeline.services.monitoring.service import MonitoringService

WindowKey = tuple[int, int, str]  # (period, window start, segment)


@dataclass(frozen=True)
class Ingested:
    rows: int
    windows: int
    periods: list[int]


@dataclass(frozen=True)
class Labelled:
    rows: int
    matched: int
    windows: int


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode()


def _scalar(value: Any) -> Any:
    """A prediction as one profiled value: numbers and labels as they are, anything structured as its JSON."""
    if isinstance(value, np.generic):
        return value.item()
    return _json(value) if isinstance(value, list | dict | tuple | np.ndarray) else value


def predictions(service: MonitoringService, monitor: Monitor, batch: PredictionBatch) -> Ingested:
    given_ids, given_stamps = batch.check()
    rows = batch.rows
    # Generated ids: one random prefix per batch and the row's index (a uuid per row cost ~2 us each).
    prefix = new_id()[:20]
    ids = given_ids if given_ids is not None else [f"{prefix}-{index}" for index in range(rows)]
    stamps = given_stamps if given_stamps is not None else np.full(rows, now_ms(), dtype=np.int64)
    given = batch.versions
    versions: list[int | None] = list(given) if given is not None else [service.current_version(monitor.target)] * rows
    known: dict[int | None, Period] = {}
    numbers = {version: service.period_for(monitor, version, known).number for version in set(versions)}
    period_of = np.fromiter((numbers[version] for version in versions), dtype=np.int32, count=rows)
    references = {period.number: Reference.from_json(period.reference) for period in known.values()}

    columns: dict[str, Any] = {name: _objects(values) for name, values in batch.inputs.items()}
    for name, values in (batch.tags or {}).items():
        columns.setdefault(name, _objects(values))
    service.events.write_predictions(monitor.id, _raw_table(batch, ids, stamps, versions, period_of, columns))
    columns[PREDICTION] = _objects([_scalar(value) for value in batch.predictions])

    window_ms = monitor.window_ms
    starts = stamps - stamps % window_ms
    segmenter = _Segmenter(monitor, service.store.monitors.segments(monitor.id), columns)
    parts: dict[WindowKey, tuple[int, dict[str, Any]]] = {}
    groups = _windows(period_of, starts)
    for (period, window_start), indexes in groups.items():
        reference = references[period]
        for segment, members in segmenter.split(indexes).items():
            subset = {name: values[members] for name, values in columns.items() if name in reference.features}
            parts[(period, window_start, segment)] = (len(members), WindowProfile.of(reference, subset).to_json())
    service.store.monitors.merge_windows(monitor.id, parts, _merge)
    return Ingested(rows, len(groups), sorted(numbers.values()))


def _windows(period_of: Any, starts: Any) -> dict[tuple[int, int], Any]:
    """The row indexes of each (period, window start) in the batch; a batch is most often one window."""
    if (period_of == period_of[0]).all() and (starts == starts[0]).all():
        return {(int(period_of[0]), int(starts[0])): np.arange(len(starts))}
    # One integer per pair, so the grouping sorts a flat array, not rows: the window start times the number of
    # periods in the batch, plus the period's position among them.
    periods, period_index = np.unique(period_of, return_inverse=True)
    composite = starts * len(periods) + period_index
    unique, inverse = np.unique(composite, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(unique) + 1))
    return {
        (int(periods[key % len(periods)]), int(key // len(periods))): order[bounds[position] : bounds[position + 1]]
        for position, key in enumerate(unique.tolist())
    }


def _merge(stored: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return WindowProfile.from_json(stored).merge(WindowProfile.from_json(new)).to_json()


def _objects(values: Sequence[Any]) -> Any:
    """A column as numpy: typed when numpy infers a plain dtype, objects otherwise (mixed or bad values stay as
    they are, for the profile to count as type violations)."""
    array = np.asarray(values)
    if array.ndim != 1 or array.dtype.kind not in "biufUSM":
        array = np.empty(len(values), dtype=object)
        array[:] = list(values)
    return array


def _raw_table(
    batch: PredictionBatch,
    ids: list[str],
    stamps: Any,
    versions: list[int | None],
    period_of: Any,
    columns: dict[str, Any],
) -> Any:
    """The batch as one Arrow table: fixed columns, then each input as a typed column (``in.NAME``) or, when its
    values have no one Arrow type, as JSON texts (``json.NAME``)."""
    import pyarrow as pa  # type: ignore[import-untyped]

    fields = {
        "id": pa.array(ids, pa.string()),
        "timestamp": pa.array(stamps, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
        "period": pa.array(period_of, pa.int32()),
        "model_version": pa.array(versions, pa.int64()),
        "prediction": pa.array([_json(value) for value in batch.predictions], pa.string()),
        "scores": pa.array(
            [None] * batch.rows if batch.scores is None else [_json(value) for value in batch.scores], pa.string()
        ),
    }
    for name, values in columns.items():
        try:
            fields[f"{INPUT}{name}"] = pa.array(values if values.dtype.kind != "O" else values.tolist())
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            fields[f"{JSON_INPUT}{name}"] = pa.array([_json(value) for value in values.tolist()], pa.string())
    return pa.table(fields)


class _Segmenter:
    """Splits a window's rows into the whole population and one part per value of each ``segment_by`` name.

    A name may take at most MAX_SEGMENT_VALUES values; rows with further values go to ``name=*`` so a high-
    cardinality tag cannot flood the store.
    """

    def __init__(self, monitor: Monitor, existing: list[str], columns: dict[str, Any]) -> None:
        self.names = [name for name in monitor.segment_by if name in columns]
        self.columns = columns
        self.known: defaultdict[str, set[str]] = defaultdict(set)
        for key in existing:
            name, _, _ = key.partition("=")
            self.known[name].add(key)

    def split(self, indexes: Any) -> dict[str, Any]:
        parts = {WHOLE: indexes}
        for name in self.names:
            values = self.columns[name][indexes]
            groups: defaultdict[str, list[int]] = defaultdict(list)
            for position, value in enumerate(values):
                groups[self.key(name, value)].append(position)
            for key, positions in groups.items():
                parts[key] = indexes[np.asarray(positions)]
        return parts

    def key(self, name: str, value: Any) -> str:
        key = segment_key(name, value)
        known = self.known[name]
        if key in known:
            return key
        if len(known) >= MAX_SEGMENT_VALUES:
            return f"{name}=*"
        known.add(key)
        return key


def actuals(
    service: MonitoringService,
    monitor: Monitor,
    ids: Sequence[Any],
    values: Sequence[Any],
    timestamps: Sequence[Any] | None,
) -> Labelled:
    checked = check_ids(ids)
    if not checked or len(values) != len(checked):
        raise InvalidArgument(f"{len(checked)} ids and {len(values)} values: one value per id", field="values")
    stamps = check_timestamps(timestamps).tolist() if timestamps is not None else [now_ms()] * len(checked)
    if len(stamps) != len(checked):
        raise InvalidArgument("timestamps has another length than ids", field="timestamps")
    service.events.write_actuals(
        monitor.id,
        [
            {"id": key, "timestamp": stamp, "value": _json(value)}
            for key, stamp, value in zip(checked, stamps, values, strict=True)
        ],
    )
    matched = service.events.read_predictions(monitor.id, ids=checked)
    window_ms = monitor.window_ms
    touched = {
        (int(period), int(stamp) - int(stamp) % window_ms)
        for period, stamp in zip(
            matched.column("period").to_pylist(),
            matched.column("timestamp").cast("int64").to_pylist(),
            strict=True,
        )
    }
    for period, window_start in sorted(touched):
        recompute_performance(service, monitor, period, window_start)
    return Labelled(len(checked), matched.num_rows, len(touched))


def recompute_performance(service: MonitoringService, monitor: Monitor, period: int, window_start: int) -> None:
    """A window's performance from all of its predictions that have actuals (per segment too)."""
    table = service.events.read_predictions(
        monitor.id, start=window_start, end=window_start + monitor.window_ms, inputs=monitor.segment_by
    )
    mask = [value == period for value in table.column("period").to_pylist()]
    table = table.filter(mask)
    ids = table.column("id").to_pylist()
    actual = service.events.read_actuals(monitor.id, ids=ids)
    truth = dict(zip(actual.column("id").to_pylist(), actual.column("value").to_pylist(), strict=True))
    predicted = table.column("prediction").to_pylist()
    scores = table.column("scores").to_pylist()
    segment_values = {name: table.column(f"{INPUT}{name}").to_pylist() for name in monitor.segment_by}
    windows = service.store.monitors.windows(monitor.id, period=period, start=window_start, end=window_start + 1)
    stored = {row.segment for row in windows}
    members: defaultdict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(ids):
        if key not in truth:
            continue
        members[WHOLE].append(index)
        for name, values in segment_values.items():
            text = values[index]
            if text is not None:
                segment = segment_key(name, json.loads(text))
                members[segment if segment in stored else f"{name}=*"].append(index)
    results = []
    for segment in stored:
        chosen = members.get(segment, [])
        results.append(
            (period, window_start, segment, len(chosen), _performance(monitor, chosen, truth, ids, predicted, scores))
        )
    service.store.monitors.set_performance(monitor.id, results)


def _performance(
    monitor: Monitor,
    chosen: list[int],
    truth: dict[str, str],
    ids: list[str],
    predicted: list[str],
    scores: list[str | None],
) -> dict[str, Any] | None:
    if not chosen:
        return None
    y_true = [orjson.loads(truth[ids[index]]) for index in chosen]
    y_pred = [orjson.loads(predicted[index]) for index in chosen]
    given = [scores[index] for index in chosen]
    score_values = None if any(value is None for value in given) else [orjson.loads(str(value)) for value in given]
    try:
        result = compute(y_true, y_pred, score_values, task=monitor.task)
    except InvalidArgument as why:
        return {"error": why.message}
    return {"task": result.task.value, **result.metrics}


def prediction_log(service: MonitoringService, folder: str) -> dict[str, int]:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    root = Path(folder)
    files = sorted(str(path) for path in root.glob("date=*/*.parquet")) if root.is_dir() else []
    if not files:
        return {}
    done = service.store.monitors.ingested(files)
    # Model names are unique per workspace only: every workspace's monitors of a model see its log.
    by_model: defaultdict[str, list[tuple[str, Monitor]]] = defaultdict(list)
    for workspace_id, monitor in service.store.monitors.everywhere():
        by_model[monitor.model_name].append((workspace_id, monitor))
    counts: defaultdict[str, int] = defaultdict(int)
    for path in files:
        if path in done:
            continue
        table = pq.read_table(path)
        records = table.to_pylist()
        for model, group in _by_model(records).items():
            for workspace_id, monitor in by_model.get(model, []):
                chosen = [row for row in group if _serves(monitor, row)]
                if chosen:
                    with in_workspace(workspace_id):
                        predictions(service, monitor, _log_batch(chosen))
                    counts[monitor.name] += len(chosen)
        service.store.monitors.mark_ingested(path, table.num_rows)
    return dict(counts)


def _by_model(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if record.get("error") is None:
            grouped[record["model"]].append(record)
    return grouped


def _serves(monitor: Monitor, record: dict[str, Any]) -> bool:
    """An alias monitor watches what the alias answered (the primary's answers); a version monitor watches that
    version's answers, canary included; shadow outputs were never returned, so no monitor takes them."""
    if monitor.alias is not None:
        return bool(record["role"] == "primary")
    return bool(record["role"] != "shadow" and record["version"] == monitor.version)


def _log_batch(records: list[dict[str, Any]]) -> PredictionBatch:
    rows = [_log_inputs(record["inputs"]) for record in records]
    names = list(dict.fromkeys(name for row in rows for name in row))
    return PredictionBatch(
        inputs={name: [row.get(name) for row in rows] for name in names},
        predictions=[orjson.loads(record["output"]) if record["output"] else None for record in records],
        ids=[
            record["request_id"] if not record["row"] else f"{record['request_id']}:{record['row']}"
            for record in records
        ],
        timestamps=[int(record["timestamp"].timestamp() * 1000) for record in records],
        versions=[record["version"] for record in records],
    )


def _log_inputs(text: str | None) -> dict[str, Any]:
    value = orjson.loads(text) if text else {}
    if isinstance(value, list):  # an array-fed model's row: columns by position, as its signature names them
        return {str(index): item for index, item in enumerate(value)}
    return value if isinstance(value, dict) else {}
