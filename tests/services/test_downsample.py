from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

from ridgeline.services.downsample import (
    DownsampleMethod,
    downsample,
    lttb_downsample,
    minmax_downsample,
)

METHODS: list[DownsampleMethod] = ["minmax", "lttb"]


def _steps(n: int) -> NDArray[np.int64]:
    return np.arange(n, dtype=np.int64)


def _f(values: list[float]) -> NDArray[np.float64]:
    return np.array(values, dtype=np.float64)


# Straightforward loop versions of the two algorithms: slow but easy to check by eye, so the
# vectorised code can be compared against them on arbitrary inputs.


def _reference_minmax(values: list[float], points: int) -> list[int]:
    n = len(values)
    if n <= points:
        return list(range(n))
    buckets = (points - 2) // 2
    interior = n - 2
    keep = {0, n - 1}
    for b in range(buckets):
        lo = 1 + b * interior // buckets
        hi = 1 + (b + 1) * interior // buckets
        seen = [i for i in range(lo, hi) if not math.isnan(values[i])]
        if not seen:
            keep.add(lo)
            continue
        keep.add(min(seen, key=lambda i: (values[i], i)))
        keep.add(min(seen, key=lambda i: (-values[i], i)))
    return sorted(keep)


def _reference_lttb(values: list[float], points: int) -> list[int]:
    n = len(values)
    if n <= points:
        return list(range(n))
    buckets = points - 2
    edges = [1 + b * (n - 2) // buckets for b in range(buckets)] + [n - 1]
    keep = [0]
    a = 0
    for b in range(buckets):
        lo, hi = edges[b], edges[b + 1]
        if b + 1 < buckets:
            nlo, nhi = edges[b + 1], edges[b + 2]
            cx = float(sum(range(nlo, nhi))) / (nhi - nlo)
            cy = math.fsum(values[nlo:nhi]) / (nhi - nlo)
        else:
            cx, cy = float(n - 1), values[n - 1]
        ax, ay = float(a), values[a]
        areas = [abs((ax - cx) * (values[i] - ay) - (ax - i) * (cy - ay)) for i in range(lo, hi)]
        a = lo + areas.index(max(areas))
        keep.append(a)
    keep.append(n - 1)
    return keep


# --- argument handling -------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("points", [-1, 0, 1, 2])
def test_too_few_points_is_rejected(method: DownsampleMethod, points: int) -> None:
    with pytest.raises(ValueError, match="at least 3"):
        downsample(_steps(10), np.zeros(10), points, method=method)


def test_too_few_points_is_rejected_even_for_short_series() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        downsample(_steps(1), np.zeros(1), 2)


def test_unknown_method_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown downsampling method"):
        downsample(_steps(10), np.zeros(10), 5, method="average")  # type: ignore[arg-type]


@pytest.mark.parametrize("method", METHODS)
def test_length_mismatch_is_rejected(method: DownsampleMethod) -> None:
    with pytest.raises(ValueError, match="differ in length"):
        downsample(_steps(10), np.zeros(9), 5, method=method)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n", [0, 1, 2, 5, 10])
def test_short_series_is_returned_whole(method: DownsampleMethod, n: int) -> None:
    result = downsample(_steps(n), np.linspace(0.0, 1.0, n), 10, method=method)
    assert result.dtype == np.intp
    assert result.tolist() == list(range(n))


# --- minmax ------------------------------------------------------------------------------------


def test_minmax_hand_made() -> None:
    values = _f([0, 5, 1, 9, 2, -3, 4, 7, 8, 6])
    # Interior 1..8 splits into buckets 1..4 ([5, 1, 9, 2]) and 5..8 ([-3, 4, 7, 8]).
    assert minmax_downsample(_steps(10), values, 6).tolist() == [0, 2, 3, 5, 8, 9]
    # An odd budget cannot fit another min/max pair, so 7 gives the same answer as 6.
    assert minmax_downsample(_steps(10), values, 7).tolist() == [0, 2, 3, 5, 8, 9]


def test_minmax_ties_keep_first_occurrence() -> None:
    values = _f([0, 1, 1, 1, 1, 0])
    assert minmax_downsample(_steps(6), values, 4).tolist() == [0, 1, 5]


def test_minmax_with_three_points_keeps_the_spike() -> None:
    values = _f([0, 0, 0, 50, 0, 0, 0])
    assert minmax_downsample(_steps(7), values, 3).tolist() == [0, 3, 6]


def test_minmax_ignores_nan_when_looking_for_extremes() -> None:
    values = _f([0, math.nan, 3, math.nan, -1, math.nan, 0])
    assert minmax_downsample(_steps(7), values, 4).tolist() == [0, 2, 4, 6]


def test_minmax_all_nan_bucket_keeps_its_first_index() -> None:
    values = _f([0, 1, 2, 3, math.nan, math.nan, math.nan, math.nan, math.nan, 5])
    # Interior 1..8 splits into 1..4 ([1, 2, 3, nan]) and 5..8 (all NaN): the gap stays visible.
    assert minmax_downsample(_steps(10), values, 6).tolist() == [0, 1, 3, 5, 9]


def test_minmax_keeps_infinities() -> None:
    values = _f([0, 1, math.inf, 2, 3, -math.inf, 4, 0])
    result = minmax_downsample(_steps(8), values, 4)
    assert {2, 5} <= set(result.tolist())


def test_minmax_large_series_keeps_budget_and_extremes() -> None:
    rng = np.random.default_rng(7)
    values = np.cumsum(rng.standard_normal(100_003))
    result = minmax_downsample(_steps(values.size), values, 1000)
    assert result.size == 1000
    assert int(np.argmin(values)) in result
    assert int(np.argmax(values)) in result


# --- lttb --------------------------------------------------------------------------------------


def test_lttb_hand_made() -> None:
    values = _f([0, 0, 10, 0, 0, -10, 0])
    # Buckets 1..2 and 3..5; the peak and the trough make the largest triangles.
    assert lttb_downsample(_steps(7), values, 4).tolist() == [0, 2, 5, 6]


def test_lttb_keeps_one_point_per_bucket() -> None:
    values = np.sin(np.linspace(0.0, 20.0, 5000))
    result = lttb_downsample(_steps(5000), values, 100)
    assert result.size == 100


def test_lttb_keeps_nan_and_inf_points() -> None:
    values = np.linspace(0.0, 1.0, 100)
    values[37] = math.nan
    values[38] = math.inf  # same bucket as the NaN: the first non-finite sample wins
    values[71] = -math.inf
    result = lttb_downsample(_steps(100), values, 12).tolist()
    assert 37 in result
    assert 38 not in result
    assert 71 in result


def test_lttb_handles_an_all_nan_series() -> None:
    values = np.full(50, math.nan)
    result = lttb_downsample(_steps(50), values, 5)
    assert result.tolist()[0] == 0
    assert result.tolist()[-1] == 49
    assert result.size == 5


def test_lttb_keeps_isolated_nan_with_full_budget() -> None:
    values = np.random.default_rng(3).standard_normal(300)
    values[150] = math.nan
    result = lttb_downsample(_steps(300), values, 12)
    assert 150 in result.tolist()
    assert result.size == 12


# --- properties --------------------------------------------------------------------------------

any_floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
series = hnp.arrays(np.float64, st.integers(0, 300), elements=any_floats)


@settings(max_examples=150, deadline=None)
@given(values=series, points=st.integers(3, 60), method=st.sampled_from(METHODS))
def test_indices_are_sorted_unique_in_range_and_within_budget(
    values: NDArray[np.float64], points: int, method: DownsampleMethod
) -> None:
    n = values.size
    result = downsample(_steps(n), values, points, method=method)
    assert result.dtype == np.intp
    assert result.size <= points
    assert np.all(np.diff(result) > 0)
    if n:
        assert result[0] == 0
        assert result[-1] == n - 1
        assert result.min() >= 0
        assert result.max() <= n - 1


@settings(max_examples=150, deadline=None)
@given(values=series, points=st.integers(4, 60))
def test_minmax_matches_reference_and_keeps_global_extremes(values: NDArray[np.float64], points: int) -> None:
    result = minmax_downsample(_steps(values.size), values, points)
    assert result.tolist() == _reference_minmax(values.tolist(), points)
    if values.size and not np.isnan(values).all():
        kept = values[result]
        assert np.nanmin(kept) == np.nanmin(values)
        assert np.nanmax(kept) == np.nanmax(values)


# Small integers keep every sum exact, so the reference and the vectorised version see bit-identical
# areas and must break ties identically.
small_ints = st.integers(-1000, 1000).map(float)


@settings(max_examples=150, deadline=None)
@given(
    values=hnp.arrays(np.float64, st.integers(0, 300), elements=small_ints),
    points=st.integers(3, 60),
)
def test_lttb_matches_reference_on_finite_data(values: NDArray[np.float64], points: int) -> None:
    result = lttb_downsample(_steps(values.size), values, points)
    assert result.tolist() == _reference_lttb(values.tolist(), points)


@settings(max_examples=100, deadline=None)
@given(values=series, points=st.integers(3, 60))
def test_lttb_keeps_a_non_finite_sample_from_every_bucket_that_has_one(
    values: NDArray[np.float64], points: int
) -> None:
    n = values.size
    result = lttb_downsample(_steps(n), values, points)
    if n <= points:
        return
    assert result.size == points
    kept = set(result.tolist())
    buckets = points - 2
    for b in range(buckets):
        lo = 1 + b * (n - 2) // buckets
        hi = 1 + (b + 1) * (n - 2) // buckets
        bad = [i for i in range(lo, hi) if not math.isfinite(values[i])]
        if bad:
            assert bad[0] in kept
