"""Data quality: missing, out-of-range and type-violation rates against the reference's own, with a verdict."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.quality import QualityThresholds, feature_quality, window_quality
from ridgeline.monitoring.reference import MAX_CATEGORIES, Reference
from ridgeline.monitoring.window import WindowProfile

_RNG = np.random.default_rng(21)
_SPARSE = _RNG.normal(size=1_000)
_SPARSE[:300] = np.nan
REFERENCE = Reference.build(
    {
        "x": _RNG.uniform(0, 10, 1_000),
        "sparse": _SPARSE,
        "c": _RNG.choice(np.array(["a", "b", "c"]), 1_000),
    }
)


def _quality(columns: dict[str, object], thresholds: QualityThresholds | None = None) -> dict[str, dict[str, object]]:
    window = WindowProfile.of(REFERENCE, columns)
    result = window_quality(REFERENCE, window, thresholds).to_json()
    json.dumps(result, allow_nan=False)
    return {feature["feature"]: feature for feature in result["features"]}


def _clean(rows: int) -> dict[str, object]:
    sparse = _RNG.normal(size=rows)
    sparse[: int(rows * 0.3)] = np.nan
    # x stays inside the reference's range, so every out-of-range value is one a test puts there.
    return {"x": _RNG.uniform(1, 9, rows), "sparse": sparse, "c": _RNG.choice(np.array(["a", "b", "c"]), rows)}


def test_a_window_like_the_reference_passes_even_where_the_reference_was_sparse() -> None:
    result = _quality(_clean(2_000))
    assert all(feature["ok"] for feature in result.values())
    sparse = result["sparse"]
    assert sparse["missing_rate"] == pytest.approx(0.3) and sparse["reference_missing_rate"] == pytest.approx(0.3)
    assert result["x"]["invalid_rate"] == 0.0 and result["x"]["out_of_range_rate"] == 0.0


def test_missing_values_out_of_range_values_and_type_violations_fail_their_checks() -> None:
    columns = _clean(1_000)
    x = np.asarray(columns["x"]).astype(object)
    x[:100] = None  # 10% missing
    x[100:200] = 50.0  # beyond the reference max
    x[200] = "12.5"  # one type violation
    columns["x"] = x
    result = _quality(columns)["x"]
    assert result["missing_rate"] == 0.1 and result["invalid_rate"] == 0.001
    assert result["out_of_range_rate"] == pytest.approx(100 / 899)
    assert result["failed"] == ["missing", "out_of_range", "invalid"] and not result["ok"]
    lenient = _quality(columns, QualityThresholds(missing=0.2, out_of_range=0.2, invalid=0.01))["x"]
    assert lenient["ok"]


def test_infinities_count_as_out_of_range() -> None:
    columns = _clean(100)
    columns["x"] = np.r_[np.full(10, math.inf), np.full(90, 5.0)]
    assert _quality(columns)["x"]["out_of_range_rate"] == 0.1


def test_new_categories_are_out_of_range_beyond_the_references_own_rare_bucket() -> None:
    columns = _clean(1_000)
    c = np.asarray(columns["c"]).copy()
    c[:100] = "new"
    columns["c"] = c
    assert _quality(columns)["c"]["failed"] == ["out_of_range"]
    names = np.array([f"k{i:03d}" for i in range(MAX_CATEGORIES + 100)])
    lumped = Reference.build({"c": np.repeat(names, 2)})
    # A third of the reference's values sit in categories it did not keep: a window like it is fine.
    window = WindowProfile.of(lumped, {"c": np.repeat(names, 3)})
    result = window_quality(lumped, window).features[0]
    assert result.reference_out_of_range_rate == pytest.approx(1 / 3) and result.ok


def test_a_feature_missing_from_the_window_fails_and_an_empty_window_passes() -> None:
    columns = _clean(50)
    del columns["sparse"]
    result = _quality(columns)["sparse"]
    assert (result["missing_rate"], result["out_of_range_rate"], result["failed"]) == (1.0, None, ["missing"])
    empty = _quality({})
    assert all(f["ok"] and f["missing_rate"] is None and f["count"] == 0 for f in empty.values())


def test_per_feature_overrides_and_bad_thresholds() -> None:
    columns = _clean(200)
    columns["sparse"] = np.full(200, np.nan)
    window = WindowProfile.of(REFERENCE, columns)
    overrides = {"sparse": QualityThresholds(missing=1.0)}
    assert window_quality(REFERENCE, window, overrides=overrides).ok
    assert not window_quality(REFERENCE, window).ok
    for arguments in ({"missing": -0.1}, {"invalid": 2.0}, {"out_of_range": math.nan}):
        with pytest.raises(InvalidArgument):
            QualityThresholds(**arguments)
    other = Reference.build({"x": np.arange(10.0)})
    with pytest.raises(InvalidArgument):
        window_quality(other, window)
    with pytest.raises(InvalidArgument):
        feature_quality(REFERENCE.features["x"], window.features["c"])
