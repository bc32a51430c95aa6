"""Reading a logging batch from its wire form (JSON-like data), naming the exact field that is wrong.

A batch whose shape is broken (not an object, no valid ``batch_id``, unknown top-level fields, too many
points) is refused whole. Within a well-formed batch, a bad item is set aside on its own — one point, one
param, one tag, or a series whose key or column lengths are wrong — and listed in ``rejected``; everything
else is applied, so one typo never costs the data logged beside it.

Non-finite metric values travel as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` because JSON has
no literal for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ridgeline.domain import validation as v
from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.wire import NON_FINITE

MAX_POINTS_PER_BATCH = 1_000_000


@dataclass
class ParsedBatch:
    batch: LogBatch
    rejected: list[dict[str, str]] = field(default_factory=list)


class _Rejections:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, error: InvalidArgument) -> None:
        self.items.append({"field": error.field or "body", "message": error.message})


def _value(item: Any, field: str) -> float:
    if type(item) is float or type(item) is int:
        return float(item)
    if isinstance(item, str) and item in NON_FINITE:
        return NON_FINITE[item]
    raise InvalidArgument(
        f'{field} must be a number or one of "NaN", "Infinity", "-Infinity", got {item!r}', field=field
    )


def _bad_integers(raw: list[Any], field: str, check: Callable[[object, str], int], out: _Rejections) -> set[int]:
    """Indexes of the elements ``check`` refuses (recorded in ``out``)."""
    if raw and all(type(item) is int for item in raw):
        try:
            # All ints: when both extremes pass, every element does; otherwise look at each below.
            check(min(raw), field)
            check(max(raw), field)
            return set()
        except InvalidArgument:
            pass
    bad = set()
    for index, item in enumerate(raw):
        try:
            check(item, f"{field}[{index}]")
        except InvalidArgument as exc:
            out.add(exc)
            bad.add(index)
    return bad


def _series(raw: Any, field: str, out: _Rejections) -> MetricSeries | None:
    """One series with its bad points left out, or None when the series as a whole is malformed."""
    try:
        if not isinstance(raw, dict):
            raise InvalidArgument(f"{field} must be an object with key, steps, values, timestamps", field=field)
        key = v.check_key(raw.get("key"), f"{field}.key")
        columns: dict[str, Any] = {name: raw.get(name) for name in ("steps", "values", "timestamps")}
        for name, column in columns.items():
            if not isinstance(column, list):
                raise InvalidArgument(f"{field}.{name} must be a list", field=f"{field}.{name}")
        steps, raw_values, stamps = columns["steps"], columns["values"], columns["timestamps"]
        if not len(steps) == len(raw_values) == len(stamps):
            raise InvalidArgument(
                f"{field}: steps, values and timestamps must have the same length "
                f"({len(steps)}, {len(raw_values)}, {len(stamps)})",
                field=field,
            )
    except InvalidArgument as exc:
        out.add(exc)
        return None
    bad = _bad_integers(steps, f"{field}.steps", v.check_step, out)
    bad |= _bad_integers(stamps, f"{field}.timestamps", v.check_timestamp, out)
    values: list[float] = []
    for index, item in enumerate(raw_values):
        try:
            values.append(_value(item, f"{field}.values[{index}]"))
        except InvalidArgument as exc:
            out.add(exc)
            bad.add(index)
            values.append(0.0)
    if bad:
        keep = [i for i in range(len(values)) if i not in bad]
        steps, values, stamps = [steps[i] for i in keep], [values[i] for i in keep], [stamps[i] for i in keep]
    return MetricSeries(key, steps, values, stamps)


def _text_map(raw: Any, field: str, max_length: int, out: _Rejections) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        out.add(InvalidArgument(f"{field} must be an object of key: value", field=field))
        return {}
    texts: dict[str, str] = {}
    for key, value in raw.items():
        try:
            v.check_key(key, f"{field}.{key}" if key else f"a key in {field}")
            if value is None or isinstance(value, dict | list):
                raise InvalidArgument(f"{field}.{key} must be a string, number or boolean", field=f"{field}.{key}")
            texts[key] = v.check_text(value, f"{field}.{key}", max_length)
        except InvalidArgument as exc:
            out.add(exc)
    return texts


def parse_batch(data: Any) -> ParsedBatch:
    """The batch's valid contents and the items set aside; raises InvalidArgument when its shape is broken."""
    if not isinstance(data, dict):
        raise InvalidArgument("the batch must be a JSON object", field="body")
    unknown = set(data) - {"batch_id", "params", "tags", "metrics"}
    if unknown:
        raise InvalidArgument(f"unknown batch field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    batch_id = v.check_batch_id(data.get("batch_id"))
    raw_metrics = data.get("metrics") or []
    if not isinstance(raw_metrics, list):
        raise InvalidArgument("metrics must be a list of series", field="metrics")
    # Counted before any list is converted, so an oversized batch costs no work.
    total = sum(
        len(raw["values"]) for raw in raw_metrics if isinstance(raw, dict) and isinstance(raw.get("values"), list)
    )
    if total > MAX_POINTS_PER_BATCH:
        raise InvalidArgument(f"a batch holds at most {MAX_POINTS_PER_BATCH} points, got {total}", field="metrics")
    out = _Rejections()
    metrics = [series for i, raw in enumerate(raw_metrics) if (series := _series(raw, f"metrics[{i}]", out))]
    batch = LogBatch(
        batch_id=batch_id,
        params=_text_map(data.get("params"), "params", v.MAX_PARAM_VALUE_LENGTH, out),
        tags=_text_map(data.get("tags"), "tags", v.MAX_TAG_VALUE_LENGTH, out),
        metrics=metrics,
    )
    return ParsedBatch(batch, out.items)
