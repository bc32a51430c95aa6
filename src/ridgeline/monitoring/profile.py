"""A column profile of a table: types, missing values, quantiles or top categories, per column.

Dataset versions carry one so a reader sees what the data looks like without downloading it; the monitoring of a
later release compares production data against the same summaries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
TOP_CATEGORIES = 10
# Beyond this many rows the profile reads an evenly spaced sample: quantiles and shares barely move, time does.
MAX_PROFILED_ROWS = 1_000_000
MAX_COLUMNS = 1_000


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    kind: str  # numeric, boolean, datetime, categorical
    dtype: str
    count: int
    missing: int
    stats: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "dtype": self.dtype,
            "count": self.count,
            "missing": self.missing,
            **self.stats,
        }


@dataclass(frozen=True)
class TableProfile:
    rows: int
    columns: list[ColumnProfile]
    sampled_rows: int | None = None
    truncated_columns: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "sampled_rows": self.sampled_rows,
            "truncated_columns": self.truncated_columns,
            "columns": [column.to_json() for column in self.columns],
        }


def profile_columns(columns: Mapping[str, NDArray[Any]], rows: int) -> TableProfile:
    """Profile equally long 1-D columns (a table's columns in order)."""
    names = list(columns)[:MAX_COLUMNS]
    sample: slice | NDArray[np.intp] = slice(None)
    sampled_rows = None
    if rows > MAX_PROFILED_ROWS:
        sample = np.linspace(0, rows - 1, MAX_PROFILED_ROWS).astype(np.intp)
        sampled_rows = MAX_PROFILED_ROWS
    profiles = [_profile(name, np.asarray(columns[name])[sample]) for name in names]
    return TableProfile(rows, profiles, sampled_rows, max(0, len(columns) - len(names)))


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity: such a statistic is reported as absent."""
    return float(value) if math.isfinite(value) else None


def _profile(name: str, values: NDArray[Any]) -> ColumnProfile:
    dtype = str(values.dtype)
    if values.dtype.kind == "b":
        trues = int(np.count_nonzero(values))
        return ColumnProfile(name, "boolean", dtype, len(values), 0, {"true": trues, "false": len(values) - trues})
    if values.dtype.kind in "iuf":
        return _numeric(name, values, dtype)
    if values.dtype.kind == "M":
        present = values[~np.isnat(values)]
        stats = {}
        if len(present):
            stats = {"min": str(present.min()), "max": str(present.max())}
        return ColumnProfile(name, "datetime", dtype, len(values), len(values) - len(present), stats)
    return _categorical(name, values, dtype)


def _numeric(name: str, values: NDArray[Any], dtype: str) -> ColumnProfile:
    as_float = values.astype(np.float64, copy=False)
    missing = int(np.isnan(as_float).sum())
    # Statistics over the finite values; infinities are counted apart (they would make every moment infinite).
    finite = as_float[np.isfinite(as_float)]
    stats: dict[str, Any] = {
        "infinite": len(as_float) - missing - len(finite),
        "distinct": len(np.unique(finite)) if len(finite) <= 100_000 else None,
    }
    if len(finite):
        stats.update(
            min=float(finite.min()),
            max=float(finite.max()),
            mean=_finite(finite.mean()),
            std=_finite(finite.std()),
            quantiles={str(q): float(v) for q, v in zip(QUANTILES, np.quantile(finite, QUANTILES), strict=True)},
        )
    return ColumnProfile(name, "numeric", dtype, len(values), missing, stats)


def _categorical(name: str, values: NDArray[Any], dtype: str) -> ColumnProfile:
    missing_mask = np.array([_is_missing(value) for value in values], dtype=bool) if len(values) else np.zeros(0, bool)
    present = values[~missing_mask].astype(str)
    categories, counts = np.unique(present, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:TOP_CATEGORIES]
    stats = {
        "distinct": len(categories),
        "top": [{"value": str(categories[i]), "count": int(counts[i])} for i in order],
    }
    return ColumnProfile(name, "categorical", dtype, len(values), int(missing_mask.sum()), stats)


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
