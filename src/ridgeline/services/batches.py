"""Reading a logging batch from its wire form (JSON-like data), naming the exact field that is wrong.

Non-finite metric values travel as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` because JSON has
no literal for them.
"""

from __future__ import annotations

from typing import Any

from ridgeline.domain import validation as v
from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.wire import NON_FINITE

MAX_POINTS_PER_BATCH = 1_000_000


def _values(raw: Any, field: str) -> list[float]:
    if not isinstance(raw, list):
        raise InvalidArgument(f"{field} must be a list of numbers", field=field)
    out: list[float] = []
    for index, item in enumerate(raw):
        if type(item) is float or type(item) is int:
            out.append(float(item))
        elif isinstance(item, str) and item in NON_FINITE:
            out.append(NON_FINITE[item])
        else:
            raise InvalidArgument(
                f'{field}[{index}] must be a number or one of "NaN", "Infinity", "-Infinity", got {item!r}',
                field=f"{field}[{index}]",
            )
    return out


def _integers(raw: Any, field: str, check: Any) -> list[int]:
    if not isinstance(raw, list):
        raise InvalidArgument(f"{field} must be a list of integers", field=field)
    if raw and all(type(item) is int for item in raw):
        # Every element is an int, so checking the two extremes checks them all.
        for extreme in (min(raw), max(raw)):
            check(extreme, f"{field}[{raw.index(extreme)}]")
        return raw
    for index, item in enumerate(raw):
        check(item, f"{field}[{index}]")
    return raw


def _text_map(raw: Any, field: str, max_length: int) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidArgument(f"{field} must be an object of key: value", field=field)
    out: dict[str, str] = {}
    for key, value in raw.items():
        v.check_key(key, f"{field}.{key}")
        if value is None or isinstance(value, dict | list):
            raise InvalidArgument(f"{field}.{key} must be a string, number or boolean", field=f"{field}.{key}")
        out[key] = v.check_text(value, f"{field}.{key}", max_length)
    return out


def parse_batch(data: Any) -> LogBatch:
    if not isinstance(data, dict):
        raise InvalidArgument("the batch must be a JSON object", field="body")
    unknown = set(data) - {"batch_id", "params", "tags", "metrics"}
    if unknown:
        raise InvalidArgument(f"unknown batch field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    batch_id = v.check_batch_id(data.get("batch_id"))
    raw_metrics = data.get("metrics") or []
    if not isinstance(raw_metrics, list):
        raise InvalidArgument("metrics must be a list of series", field="metrics")
    metrics: list[MetricSeries] = []
    total = 0
    for index, raw in enumerate(raw_metrics):
        field = f"metrics[{index}]"
        if not isinstance(raw, dict):
            raise InvalidArgument(f"{field} must be an object with key, steps, values, timestamps", field=field)
        key = v.check_key(raw.get("key"), f"{field}.key")
        values = _values(raw.get("values"), f"{field}.values")
        steps = _integers(raw.get("steps"), f"{field}.steps", v.check_step)
        stamps = _integers(raw.get("timestamps"), f"{field}.timestamps", v.check_timestamp)
        if not len(steps) == len(values) == len(stamps):
            raise InvalidArgument(
                f"{field}: steps, values and timestamps must have the same length "
                f"({len(steps)}, {len(values)}, {len(stamps)})",
                field=field,
            )
        total += len(values)
        metrics.append(MetricSeries(key, steps, values, stamps))
    if total > MAX_POINTS_PER_BATCH:
        raise InvalidArgument(f"a batch holds at most {MAX_POINTS_PER_BATCH} points, got {total}", field="metrics")
    return LogBatch(
        batch_id=batch_id,
        params=_text_map(data.get("params"), "params", v.MAX_PARAM_VALUE_LENGTH),
        tags=_text_map(data.get("tags"), "tags", v.MAX_TAG_VALUE_LENGTH),
        metrics=metrics,
    )
