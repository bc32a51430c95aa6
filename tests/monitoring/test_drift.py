"""Drift: injected shifts are flagged and nothing else, at a thousand and at a million rows; the statistics agree
with scipy on the same binned data; every edge case gives a defined, JSON-safe result."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from scipy import spatial, special, stats

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.drift import (
    PSI_EPSILON,
    DatasetDrift,
    DriftPolicy,
    DriftRule,
    DriftTest,
    FeatureDrift,
    dataset_drift,
    feature_drift,
    window_drift,
)
from ridgeline.monitoring.reference import CategoricalReference, Kind, NumericReference, Reference
from ridgeline.monitoring.window import CategoricalWindow, NumericWindow, WindowProfile

CATEGORIES = np.array(["a", "b", "c", "d"])
SHARES = [0.4, 0.3, 0.2, 0.1]


def _table(rng: np.random.Generator, rows: int, shift: float = 0.0, shares: list[float] = SHARES) -> dict[str, Any]:
    """Two numeric columns that ``shift`` moves (in stds), two that stay, a categorical whose shares are given."""
    return {
        "normal": rng.normal(10, 2, rows) + 2 * shift,
        "skewed": rng.exponential(1.0, rows) + shift,
        "steady": rng.normal(0, 1, rows),
        "counts": rng.integers(0, 50, rows),
        "segment": rng.choice(CATEGORIES, rows, p=shares),
        "region": rng.choice(CATEGORIES, rows),
    }


REFERENCE = Reference.build(_table(np.random.default_rng(1), 20_000))
DRIFTED = {"normal", "skewed", "segment"}


def _drifted(window: WindowProfile) -> set[str]:
    result = window_drift(REFERENCE, window)
    json.dumps(result.to_json(), allow_nan=False)
    return {feature.feature for feature in result.features if feature.drift}


@pytest.mark.parametrize("rows", [1_000, 1_000_000])
def test_exactly_the_drifted_columns_are_flagged(rows: int) -> None:
    # Seeded: at a thousand rows each steady column has a 5% chance of a false alarm by design (p < 0.05).
    window = WindowProfile.of(REFERENCE, _table(np.random.default_rng(2), rows, 0.5, [0.25, 0.3, 0.2, 0.25]))
    assert _drifted(window) == DRIFTED
    result = window_drift(REFERENCE, window)
    tests = {r.feature: r.test for r in result.features}
    if rows <= 1_000:
        assert tests["normal"] is DriftTest.KS and tests["segment"] is DriftTest.CHI2
    else:
        assert tests["normal"] is DriftTest.WASSERSTEIN and tests["segment"] is DriftTest.JENSEN_SHANNON
    assert (result.evaluated, result.drifted, result.share, result.drift) == (6, 3, 0.5, True)
    assert _drifted(WindowProfile.of(REFERENCE, _table(np.random.default_rng(3), rows))) == set()


def test_a_negligible_shift_in_a_million_rows_is_not_flagged() -> None:
    window = WindowProfile.of(REFERENCE, _table(np.random.default_rng(4), 1_000_000, 0.01))
    result = window_drift(REFERENCE, window)
    assert not result.drift and result.drifted == 0
    # A p-value would call it significant: the reason the policy judges large windows by effect size.
    normal = next(r for r in result.features if r.feature == "normal")
    assert normal.ks_p_value is not None and normal.ks_p_value < 0.05
    assert normal.wasserstein is not None and normal.wasserstein < 0.1


def _pair(name: str, window: WindowProfile) -> tuple[Any, Any]:
    return REFERENCE.features[name], window.features[name]


def test_numeric_statistics_match_scipy_on_the_binned_data() -> None:
    window = WindowProfile.of(REFERENCE, _table(np.random.default_rng(5), 3_000, 0.2))
    ref, win = _pair("normal", window)
    assert isinstance(ref, NumericReference) and isinstance(win, NumericWindow)
    result = feature_drift(ref, win)
    p, q = np.array(ref.counts) / ref.present, np.array(win.bins) / win.present
    pe, qe = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    assert result.psi == pytest.approx(special.rel_entr(qe, pe).sum() + special.rel_entr(pe, qe).sum())
    assert result.jensen_shannon == pytest.approx(spatial.distance.jensenshannon(p, q, base=2))
    # KS on the data expanded from the bins (each value is its bin's index) gives the binned statistic.
    bins = np.arange(len(p))
    expected = stats.ks_2samp(np.repeat(bins, ref.counts), np.repeat(bins, win.bins), method="asymp")
    assert result.ks_statistic == pytest.approx(expected.statistic)
    assert result.ks_p_value == pytest.approx(expected.pvalue)
    inner = np.array(ref.edges[1:-1])
    points = np.r_[min(ref.min, win.min), (inner[:-1] + inner[1:]) / 2, max(ref.max, win.max)]
    distance = stats.wasserstein_distance(points, points, ref.counts, win.bins) / ref.std
    assert result.wasserstein == pytest.approx(distance)
    assert result.score == result.wasserstein and result.drift


def test_categorical_statistics_match_scipy_and_name_new_and_vanished_categories() -> None:
    values = np.array(["a"] * 500 + ["b"] * 300 + ["c"] * 150 + ["e"] * 30 + ["f"] * 20)
    window = WindowProfile.of(REFERENCE, {"segment": values})
    ref, win = _pair("segment", window)
    assert isinstance(ref, CategoricalReference) and isinstance(win, CategoricalWindow)
    result = feature_drift(ref, win)
    assert result.new_categories == ("e", "f") and result.vanished_categories == ("d",)
    # The cells: the reference's categories, then one for everything outside them.
    reference_cells = np.array([*ref.counts, 0])
    window_cells = np.array([*win.counts, 50])
    p, q = reference_cells / reference_cells.sum(), window_cells / window_cells.sum()
    assert result.jensen_shannon == pytest.approx(spatial.distance.jensenshannon(p, q, base=2))
    expected = (reference_cells + 0.5) / (reference_cells + 0.5).sum() * 1000
    chi2 = stats.chisquare(window_cells, expected).statistic * ref.present / (ref.present + 1000)
    assert result.chi2_statistic == pytest.approx(chi2)
    assert result.chi2_p_value == pytest.approx(stats.chi2.sf(chi2, 4)) and result.drift
    pe, qe = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    assert result.psi == pytest.approx(np.sum((qe - pe) * np.log(qe / pe)))


def test_the_chi_square_p_value_is_calibrated_without_drift() -> None:
    rng = np.random.default_rng(6)
    p_values = [
        feature_drift(
            *_pair("segment", WindowProfile.of(REFERENCE, {"segment": rng.choice(CATEGORIES, 500, p=SHARES)}))
        ).chi2_p_value
        for _ in range(200)
    ]
    assert 0.0 <= np.mean(np.array(p_values) < 0.05) <= 0.1


def test_windows_without_values_are_skipped_with_a_reason() -> None:
    for columns in ({}, {"normal": np.full(5, np.nan), "segment": np.array([None] * 5, dtype=object)}):
        result = window_drift(REFERENCE, WindowProfile.of(REFERENCE, columns))
        assert (result.evaluated, result.drifted, result.share, result.drift) == (0, 0, 0.0, False)
        first = result.features[0]
        assert first.skipped == "the window has no values of this feature" and first.score is None
        json.dumps(result.to_json(), allow_nan=False)


def test_a_reference_column_without_values_is_skipped() -> None:
    reference = Reference.build({"v": np.full(10, np.nan)})
    result = window_drift(reference, WindowProfile.of(reference, {"v": [1.0, 2.0]})).features[0]
    assert result.skipped == "the reference has no values of this feature" and not result.drift


def test_a_constant_reference_column_drifts_only_when_the_window_moves() -> None:
    reference = Reference.build({"v": np.full(2_000, 3.0)})
    same = window_drift(reference, WindowProfile.of(reference, {"v": np.full(5_000, 3.0)})).features[0]
    assert (same.wasserstein, same.psi, same.drift) == (0.0, 0.0, False)
    moved = window_drift(reference, WindowProfile.of(reference, {"v": np.full(5_000, 3.5)})).features[0]
    # The reference std is 0: the distance is measured in units of the floor (1e-3), far above the threshold.
    assert moved.wasserstein == pytest.approx(500.0) and moved.drift


def test_infinities_and_overflowing_values_give_a_verdict_and_json_without_nan() -> None:
    window = WindowProfile.of(REFERENCE, {"normal": np.r_[np.full(600, math.inf), np.full(600, -math.inf), 10.0]})
    result = feature_drift(*_pair("normal", window))
    assert result.drift and all(math.isfinite(v) for v in (result.psi, result.wasserstein, result.ks_p_value))
    extremes = np.array([-1.7e308, 0.0, 1.7e308] * 400)
    wide = Reference.build({"v": extremes})
    same = window_drift(wide, WindowProfile.of(wide, {"v": extremes})).features[0]
    assert (same.wasserstein, same.drift) == (0.0, False)
    zero = Reference.build({"v": np.zeros(100)})
    overflowed = window_drift(zero, WindowProfile.of(zero, {"v": np.full(2_000, 1.7e308)})).features[0]
    assert overflowed.wasserstein == math.inf and overflowed.drift
    assert overflowed.to_json()["wasserstein"] is None
    json.dumps(overflowed.to_json(), allow_nan=False)


def test_overrides_fix_a_features_rule() -> None:
    window = WindowProfile.of(REFERENCE, _table(np.random.default_rng(7), 500, 0.5))
    policy = DriftPolicy(overrides={"normal": DriftRule(DriftTest.PSI, 10.0), "region": DriftRule("psi", 1e-9)})
    result = {r.feature: r for r in window_drift(REFERENCE, window, policy).features}
    assert (result["normal"].test, result["normal"].threshold, result["normal"].drift) == ("psi", 10.0, False)
    assert result["region"].drift and result["region"].score == result["region"].psi
    with pytest.raises(InvalidArgument):
        feature_drift(*_pair("segment", window), DriftPolicy(overrides={"segment": DriftRule(DriftTest.KS, 0.01)}))


def test_policy_json_round_trip_and_validation() -> None:
    policy = DriftPolicy(small_window=500, p_value=0.01, overrides={"x": DriftRule(DriftTest.JENSEN_SHANNON, 0.2)})
    assert DriftPolicy.from_json(json.loads(json.dumps(policy.to_json()))) == policy
    assert DriftPolicy.from_json(DriftPolicy().to_json()) == DriftPolicy()
    bad: list[dict[str, Any]] = [{"p_value": 1.5}, {"wasserstein": -1.0}, {"small_window": -1}, {"overrides": {"x": 1}}]
    for arguments in bad:
        with pytest.raises(InvalidArgument):
            DriftPolicy(**arguments)
    for test, threshold in (("anova", 0.1), ("ks", 0.0), ("psi", math.inf), ("ks", math.nan), ("psi", "high")):
        with pytest.raises(InvalidArgument):
            DriftRule(test, threshold)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        DriftPolicy.from_json({"p_value": 0.05})


def test_dataset_drift_counts_evaluated_features() -> None:
    def result(drift: bool, skipped: str | None = None) -> FeatureDrift:
        return FeatureDrift("f", Kind.CATEGORICAL, DriftTest.CHI2, 0.05, None, drift, 1, 1, skipped=skipped)

    verdict = dataset_drift([result(True), result(False), result(False), result(False, "the window has no values")])
    assert (verdict.evaluated, verdict.drifted, verdict.share, verdict.drift) == (3, 1, 1 / 3, False)
    assert dataset_drift(verdict.features, share=0.3).drift
    assert dataset_drift([]) == DatasetDrift((), 0, 0, 0.0, 0.5, False)
    for share in (0.0, 1.5, math.nan):
        with pytest.raises(InvalidArgument):
            dataset_drift([], share)


def test_mismatched_reference_and_window_raise_invalid_argument() -> None:
    other = Reference.build({"normal": np.arange(100.0), "segment": np.array(list("xy") * 50)}, bins=5)
    window = WindowProfile.of(other, {"normal": [1.0], "segment": ["x"]})
    with pytest.raises(InvalidArgument):
        window_drift(REFERENCE, window)
    with pytest.raises(InvalidArgument):
        feature_drift(REFERENCE.features["normal"], window.features["normal"])
    with pytest.raises(InvalidArgument):
        feature_drift(REFERENCE.features["normal"], window.features["segment"])
