"""Column profiles: kinds, missing values, quantiles and top categories, JSON-safe."""

from __future__ import annotations

import json

import numpy as np

from ridgeline.monitoring.profile import MAX_PROFILED_ROWS, profile_columns


def test_numeric_boolean_datetime_and_categorical_columns() -> None:
    columns = {
        "x": np.array([1.0, 2.0, np.nan, 4.0, np.inf]),
        "n": np.array([3, 1, 2, 2, 5]),
        "flag": np.array([True, False, True, True, False]),
        "when": np.array(["2026-01-01", "NaT", "2026-03-01", "2026-02-01", "2026-01-15"], dtype="datetime64[D]"),
        "city": np.array(["paris", "rome", None, "paris", float("nan")], dtype=object),
    }
    profile = profile_columns(columns, 5).to_json()
    by_name = {column["name"]: column for column in profile["columns"]}
    assert profile["rows"] == 5 and profile["sampled_rows"] is None
    assert [c["kind"] for c in profile["columns"]] == ["numeric", "numeric", "boolean", "datetime", "categorical"]
    x = by_name["x"]
    # Statistics over finite values; the infinity is counted apart (JSON has no infinity).
    assert x["missing"] == 1 and x["infinite"] == 1 and x["min"] == 1.0 and x["max"] == 4.0
    n = by_name["n"]
    assert n["missing"] == 0 and n["distinct"] == 4 and n["quantiles"]["0.5"] == 2.0 and n["mean"] == 2.6
    assert by_name["flag"]["true"] == 3 and by_name["flag"]["false"] == 2
    assert by_name["when"]["missing"] == 1 and by_name["when"]["min"] == "2026-01-01"
    city = by_name["city"]
    assert city["missing"] == 2 and city["distinct"] == 2
    assert city["top"] == [{"value": "paris", "count": 2}, {"value": "rome", "count": 1}]
    json.dumps(profile, allow_nan=False)


def test_a_large_table_is_profiled_on_an_even_sample() -> None:
    rows = MAX_PROFILED_ROWS + 10
    profile = profile_columns({"v": np.arange(rows, dtype=np.float64)}, rows).to_json()
    assert profile["rows"] == rows and profile["sampled_rows"] == MAX_PROFILED_ROWS
    column = profile["columns"][0]
    assert column["min"] == 0.0 and column["max"] == rows - 1


def test_an_empty_column_has_counts_and_no_statistics() -> None:
    profile = profile_columns({"v": np.array([], dtype=float), "c": np.array([], dtype=object)}, 0).to_json()
    assert profile["columns"][0] == {
        "name": "v",
        "kind": "numeric",
        "dtype": "float64",
        "count": 0,
        "missing": 0,
        "infinite": 0,
        "distinct": 0,
    }
    assert profile["columns"][1]["top"] == []
