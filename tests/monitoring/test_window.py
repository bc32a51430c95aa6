"""Window profiles: per-feature counts on the reference's bins and categories, exact merging, JSON round trips."""

from __future__ import annotations

import json
import math
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.reference import MAX_CATEGORIES, CategoricalReference, NumericReference, Reference
from ridgeline.monitoring.window import CategoricalWindow, NumericWindow, WindowProfile

_RNG = np.random.default_rng(11)
REFERENCE = Reference.build({"x": _RNG.normal(0, 1, 2000), "c": _RNG.choice(np.array(["a", "b", "c"]), 2000)}, bins=10)


def _numeric(profile: WindowProfile, name: str = "x") -> NumericWindow:
    feature = profile.features[name]
    assert isinstance(feature, NumericWindow)
    return feature


def _categorical(profile: WindowProfile, name: str = "c") -> CategoricalWindow:
    feature = profile.features[name]
    assert isinstance(feature, CategoricalWindow)
    return feature


def _by_category(profile: WindowProfile) -> dict[str, int]:
    ref = REFERENCE.features["c"]
    assert isinstance(ref, CategoricalReference)
    return dict(zip(ref.categories, _categorical(profile).counts, strict=True))


def _assert_same(merged: WindowProfile, single: WindowProfile) -> None:
    """Equal exactly, except the float sums, which may differ by rounding."""
    a, b = merged.to_json(), single.to_json()
    for key in ("sum", "sum_sq"):
        assert math.isclose(a["features"]["x"].pop(key), b["features"]["x"].pop(key), rel_tol=1e-9, abs_tol=1e-9)
    assert a == b


def test_a_batch_is_counted_on_the_reference_bins_and_categories() -> None:
    x = np.array([-0.5, 0.0, 0.3, 2.0, 100.0, -math.inf, math.inf, math.nan])
    c = np.array(["a", "b", "a", "zz", None, "new", [1], "c"], dtype=object)
    profile = WindowProfile.of(REFERENCE, {"x": x, "c": c, "ignored": np.zeros(8)})
    assert profile.rows == 8 and set(profile.features) == {"x", "c"}
    numeric = _numeric(profile)
    edges = REFERENCE.features["x"].edges
    present = [value for value in x.tolist() if not math.isnan(value)]
    # Half-open bins [low, high), except that the top one holds +inf too.
    in_bin = [[low <= v < high or v == high == math.inf for v in present] for low, high in pairwise(edges)]
    assert numeric.bins == tuple(map(sum, in_bin))
    finite = x[np.isfinite(x)]
    assert (numeric.count, numeric.missing, numeric.invalid, numeric.infinite) == (8, 1, 0, 2)
    assert (numeric.min, numeric.max) == (finite.min(), finite.max())
    assert numeric.mean == pytest.approx(finite.mean()) and numeric.std == pytest.approx(finite.std())
    ref = REFERENCE.features["x"]
    assert isinstance(ref, NumericReference) and ref.min is not None and ref.max is not None
    assert numeric.out_of_range == int(np.sum((x < ref.min) | (x > ref.max))) == 3
    assert _by_category(profile) == {"a": 2, "b": 1, "c": 1}
    categorical = _categorical(profile)
    assert categorical.unseen == {"new": 1, "zz": 1} and categorical.unseen_other == 0
    assert (categorical.missing, categorical.invalid, categorical.unseen_total) == (1, 1, 2)


def test_strings_and_non_scalars_in_a_numeric_column_are_counted_not_raised() -> None:
    values = [1.0, "2.5", "oops", [1, 2], None, {"k": 1}, 3]
    numeric = _numeric(WindowProfile.of(REFERENCE, {"x": values}))
    assert (numeric.count, numeric.missing, numeric.invalid, numeric.present) == (7, 1, 4, 2)
    # A whole column of another type (text, dates) is all violations: production data never raises.
    for column in (np.array(["1", "2"]), np.array(["2026-01-01", "NaT"], dtype="datetime64[D]")):
        other_type = _numeric(WindowProfile.of(REFERENCE, {"x": column}))
        assert (other_type.invalid, other_type.present, other_type.mean) == (2, 0, None)


def test_a_feature_the_batch_lacks_is_missing_in_every_row() -> None:
    profile = WindowProfile.of(REFERENCE, {"c": np.array(["a", "b", "a"])})
    assert (_numeric(profile).count, _numeric(profile).missing, _numeric(profile).present) == (3, 3, 0)
    assert _by_category(profile) == {"a": 2, "b": 1, "c": 0}


def test_empty_batches_give_the_empty_profile() -> None:
    empty = WindowProfile.empty(REFERENCE)
    assert WindowProfile.of(REFERENCE, {}) == empty
    assert WindowProfile.of(REFERENCE, {"x": np.array([]), "c": []}) == empty
    assert empty.rows == 0 and _numeric(empty).mean is None and _numeric(empty).std is None
    profile = WindowProfile.of(REFERENCE, {"x": [1.0, 2.0], "c": ["a", "b"]})
    assert profile.merge(empty) == profile == empty.merge(profile)
    json.dumps(empty.to_json(), allow_nan=False)


def test_all_missing_columns_have_counts_and_no_statistics() -> None:
    profile = WindowProfile.of(REFERENCE, {"x": np.full(4, np.nan), "c": np.array([None] * 4, dtype=object)})
    numeric = _numeric(profile)
    assert (numeric.missing, numeric.present, numeric.min, numeric.mean, numeric.out_of_range) == (4, 0, None, None, 0)
    assert _categorical(profile).missing == 4
    assert WindowProfile.from_json(json.loads(json.dumps(profile.to_json(), allow_nan=False))) == profile


def test_sums_that_overflow_travel_through_json_as_strings() -> None:
    profile = WindowProfile.of(REFERENCE, {"x": np.array([1e300, -1e300, 1e300])})
    numeric = _numeric(profile)
    assert numeric.total_sq == math.inf and numeric.std is None
    data = json.loads(json.dumps(profile.to_json(), allow_nan=False))
    assert data["features"]["x"]["sum_sq"] == "inf"
    assert WindowProfile.from_json(data) == profile


_NUMERIC_VALUES = st.one_of(
    st.floats(-4, 4),
    st.integers(-5, 5),
    st.sampled_from([math.nan, math.inf, -math.inf, None, "text", (1, 2)]),
)
_CATEGORY_VALUES = st.one_of(st.sampled_from(["a", "b", "c", None, 3]), st.text(max_size=2), st.just([1]))
_ROWS = st.lists(st.tuples(_NUMERIC_VALUES, _CATEGORY_VALUES), max_size=60)


def _profile(rows: list[tuple[Any, Any]]) -> WindowProfile:
    return WindowProfile.of(REFERENCE, {"x": [row[0] for row in rows], "c": [row[1] for row in rows]})


@given(rows=_ROWS, cuts=st.lists(st.integers(0, 60), max_size=5), data=st.data())
def test_merged_partitions_equal_a_single_pass(rows: list[tuple[Any, Any]], cuts: list[int], data: Any) -> None:
    bounds = sorted({0, len(rows), *(min(cut, len(rows)) for cut in cuts)})
    parts = [_profile(rows[start:end]) for start, end in pairwise(bounds)]
    order = data.draw(st.permutations(range(len(parts))))
    merged = WindowProfile.empty(REFERENCE)
    for index in order:
        merged = merged.merge(parts[index])
    _assert_same(merged, _profile(rows))
    if len(parts) >= 3:
        # Associativity: a different grouping of the same partitions.
        left_first = parts[0].merge(parts[1]).merge(parts[2])
        right_first = parts[0].merge(parts[1].merge(parts[2]))
        _assert_same(left_first, right_first)


def test_unseen_categories_beyond_the_limit_merge_exactly() -> None:
    rng = np.random.default_rng(5)
    values = rng.choice(np.array([f"new{i:04d}" for i in range(1000)] + ["a"]), 20_000)
    single = _categorical(WindowProfile.of(REFERENCE, {"c": values}))
    assert list(single.unseen) == sorted(set(values) - {"a"})[:MAX_CATEGORIES]
    assert single.unseen_total == int(np.sum(values != "a"))
    parts = [WindowProfile.of(REFERENCE, {"c": part}) for part in np.array_split(values, 7)]
    merged = WindowProfile.empty(REFERENCE)
    for index in rng.permutation(len(parts)):
        merged = merged.merge(parts[index])
    assert _categorical(merged) == single


def test_json_round_trip_and_merging_across_references_is_refused() -> None:
    profile = _profile([(0.5, "a"), (math.inf, "new"), ("bad", None), (None, [1])])
    restored = WindowProfile.from_json(json.loads(json.dumps(profile.to_json(), allow_nan=False)))
    assert restored == profile
    other = Reference.build({"x": np.arange(10.0), "c": np.array(list("ababababab"))})
    with pytest.raises(InvalidArgument):
        profile.merge(WindowProfile.empty(other))


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda d: d.pop("rows"),
        lambda d: d.update(format=2),
        lambda d: d["features"]["x"].update(bins=[1, 2]),
        lambda d: d["features"]["x"].update(sum="many"),
        lambda d: d["features"]["x"].update(min="nan"),
        lambda d: d["features"]["x"].update(missing=None),
        lambda d: d["features"]["c"].update(unseen_other=3),
        lambda d: d["features"]["c"].update(kind="other"),
    ],
)
def test_malformed_profile_json_raises_invalid_argument(corrupt: Any) -> None:
    data = _profile([(0.5, "a"), (1.5, "q")]).to_json()
    corrupt(data)
    with pytest.raises(InvalidArgument):
        WindowProfile.from_json(data)


@pytest.mark.parametrize(
    "columns", [{"x": np.zeros((3, 2))}, {"x": [1.0], "c": ["a", "b"]}, {"x": 5}, {"c": "abc"}, ["x"]]
)
def test_bad_batches_raise_invalid_argument(columns: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        WindowProfile.of(REFERENCE, columns)
