"""Drift statistics: how far a window's distribution (a :class:`~ridgeline.monitoring.window.WindowProfile`
feature) has moved from its reference's, and whether that counts as drift under a :class:`DriftPolicy`.

``feature_drift(ref_feature, window_feature, policy)`` gives every statistic of one feature and the policy's
verdict; ``dataset_drift(results, share)`` the verdict over features; ``window_drift(reference, window, policy,
share)`` both at once. All of them work on binned data (the reference's bins and categories), so the cost does not
depend on the number of rows.

Statistics, on the shares ``p`` (reference) and ``q`` (window) of the bins or categories:

- ``psi``: the population stability index, ``sum((q - p) * ln(q / p))``, with shares below ``PSI_EPSILON``
  (1e-4) raised to it, so an empty bin adds a large but finite term instead of infinity.
- ``jensen_shannon``: the Jensen-Shannon distance (square root of the divergence, base 2), from 0 (same
  distribution) to 1 (disjoint).
- Numeric only: ``ks_statistic``, the Kolmogorov-Smirnov statistic on the binned CDFs (the largest gap at a bin
  edge, a lower bound of the raw-data statistic), and ``ks_p_value``, the two-sample asymptotic p-value
  (``scipy.stats.kstwo`` at the effective size ``N * n / (N + n)``, as ``scipy.stats.ks_2samp(method="asymp")``).
  ``wasserstein``: the Wasserstein-1 distance between the binned distributions divided by the reference std,
  or by ``STD_FLOOR`` (1e-3) where that is larger or the std unknown, so a constant reference column gives a
  finite distance. Each bin's mass sits
  at one point shared by both sides: an inner bin's midpoint; for the open outer bins, which hold only a window's
  values beyond the reference's range, the window's min and max (values far out count as far out).
- Categorical only: ``chi2_statistic`` and ``chi2_p_value``, Pearson's goodness-of-fit test of the window's
  counts against the reference shares. The cells are the reference's categories plus one for the values outside
  them (its ``other`` bucket and the window's unseen categories); the reference counts get 0.5 added per cell
  (Jeffreys smoothing), so a new category has a small expected share instead of none. The statistic is scaled by
  ``N / (N + n)``, which accounts for the reference being a sample too (the same effective size as for KS).
  ``new_categories``: window categories outside the reference's (named ones: at most ``MAX_CATEGORIES``);
  ``vanished_categories``: reference categories the window does not hold.

``N`` and ``n`` are the reference's and the window's present (non-missing, valid) values. When either is zero no
statistic exists: the result has ``skipped`` set to the reason, every statistic None and ``drift`` False.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats  # type: ignore[import-untyped]

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.reference import CategoricalReference, Kind, NumericReference, Reference
from ridgeline.monitoring.window import CategoricalWindow, NumericWindow, WindowProfile

Floats = NDArray[np.float64]
PSI_EPSILON = 1e-4
STD_FLOOR = 1e-3
# Reference counts added per cell before the chi-square expectations (Jeffreys smoothing).
CHI2_SMOOTHING = 0.5


class DriftTest(enum.StrEnum):
    """A statistic that can decide drift: a p-value (drift below the threshold) or a distance (at or above)."""

    KS = "ks"
    CHI2 = "chi2"
    PSI = "psi"
    WASSERSTEIN = "wasserstein"
    JENSEN_SHANNON = "jensen_shannon"


P_VALUE_TESTS = frozenset({DriftTest.KS, DriftTest.CHI2})
# The FeatureDrift field that holds each test's score.
SCORES = {
    DriftTest.KS: "ks_p_value",
    DriftTest.CHI2: "chi2_p_value",
    DriftTest.PSI: "psi",
    DriftTest.WASSERSTEIN: "wasserstein",
    DriftTest.JENSEN_SHANNON: "jensen_shannon",
}
TESTS_BY_KIND = {
    Kind.NUMERIC: frozenset({DriftTest.KS, DriftTest.PSI, DriftTest.WASSERSTEIN, DriftTest.JENSEN_SHANNON}),
    Kind.CATEGORICAL: frozenset({DriftTest.CHI2, DriftTest.PSI, DriftTest.JENSEN_SHANNON}),
}


@dataclass(frozen=True)
class DriftRule:
    test: DriftTest
    threshold: float

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "test", DriftTest(self.test))
        except ValueError:
            choices = ", ".join(test.value for test in DriftTest)
            raise InvalidArgument(f"unknown drift test {self.test!r}: choose from {choices}", field="test") from None
        limit = 1.0 if self.test in P_VALUE_TESTS else math.inf
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float):
            raise InvalidArgument(f"threshold must be a number, got {self.threshold!r}", field="threshold")
        if not 0 < self.threshold < limit:
            raise InvalidArgument(
                f"threshold of {self.test} must be above 0{' and below 1' if limit == 1 else ''} and finite, "
                f"got {self.threshold!r}",
                field="threshold",
            )

    def decides(self, score: float) -> bool:
        return score < self.threshold if self.test in P_VALUE_TESTS else score >= self.threshold


@dataclass(frozen=True)
class DriftPolicy:
    """Which test decides drift, and from which value.

    Windows of at most ``small_window`` (1,000) present values are judged by a p-value, below ``p_value`` (0.05):
    KS for numeric features, chi-square for categorical ones. Larger windows are judged by an effect size: the
    normalised Wasserstein distance at or above ``wasserstein`` (0.1 reference stds) for numeric features, the
    Jensen-Shannon distance at or above ``jensen_shannon`` (0.1) for categorical ones. With a million rows a
    p-value flags shifts too small to matter; with a few hundred an effect size is mostly noise. ``overrides``
    fixes the rule of named features whatever the window size.
    """

    small_window: int = 1_000
    p_value: float = 0.05
    wasserstein: float = 0.1
    jensen_shannon: float = 0.1
    overrides: Mapping[str, DriftRule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.small_window, bool) or not isinstance(self.small_window, int) or self.small_window < 0:
            raise InvalidArgument(f"small_window must be an integer >= 0, got {self.small_window!r}", field="policy")
        # The default thresholds obey the rules of an override's.
        DriftRule(DriftTest.KS, self.p_value)
        DriftRule(DriftTest.WASSERSTEIN, self.wasserstein)
        DriftRule(DriftTest.JENSEN_SHANNON, self.jensen_shannon)
        if not all(isinstance(rule, DriftRule) for rule in self.overrides.values()):
            raise InvalidArgument("overrides must map feature names to DriftRule", field="policy")

    def rule(self, feature: str, kind: Kind, present: int) -> DriftRule:
        """The rule for a feature of this kind whose window holds ``present`` values."""
        if feature in self.overrides:
            return self.overrides[feature]
        if present <= self.small_window:
            return DriftRule(DriftTest.KS if kind is Kind.NUMERIC else DriftTest.CHI2, self.p_value)
        if kind is Kind.NUMERIC:
            return DriftRule(DriftTest.WASSERSTEIN, self.wasserstein)
        return DriftRule(DriftTest.JENSEN_SHANNON, self.jensen_shannon)

    def to_json(self) -> dict[str, Any]:
        return {
            "small_window": self.small_window,
            "p_value": self.p_value,
            "wasserstein": self.wasserstein,
            "jensen_shannon": self.jensen_shannon,
            "overrides": {name: {"test": r.test.value, "threshold": r.threshold} for name, r in self.overrides.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DriftPolicy:
        try:
            overrides = {str(k): DriftRule(v["test"], v["threshold"]) for k, v in data.get("overrides", {}).items()}
            defaults = {key: data[key] for key in ("small_window", "p_value", "wasserstein", "jensen_shannon")}
        except (KeyError, TypeError, AttributeError) as error:
            raise InvalidArgument(f"malformed drift policy JSON: {error!r}", field="policy") from None
        return cls(**defaults, overrides=overrides)


@dataclass(frozen=True)
class FeatureDrift:
    """Every statistic of one feature (None where it does not apply) and the verdict of ``test``: ``score`` is
    that test's value, ``drift`` whether it crossed ``threshold``. ``reference_count`` and ``window_count`` are
    the present values compared (N and n)."""

    feature: str
    kind: Kind
    test: DriftTest
    threshold: float
    score: float | None
    drift: bool
    reference_count: int
    window_count: int
    psi: float | None = None
    jensen_shannon: float | None = None
    ks_statistic: float | None = None
    ks_p_value: float | None = None
    wasserstein: float | None = None
    chi2_statistic: float | None = None
    chi2_p_value: float | None = None
    new_categories: tuple[str, ...] = ()
    vanished_categories: tuple[str, ...] = ()
    skipped: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready; a statistic that overflowed to infinity is null (``drift`` still tells the verdict)."""
        body: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if isinstance(value, float):
                value = value if math.isfinite(value) else None
            elif isinstance(value, tuple):
                value = list(value)
            body[key] = value.value if isinstance(value, enum.Enum) else value
        return body


@dataclass(frozen=True)
class DatasetDrift:
    """The dataset drifts when at least ``threshold`` of the evaluated (not skipped) features drift."""

    features: tuple[FeatureDrift, ...]
    evaluated: int
    drifted: int
    share: float
    threshold: float
    drift: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "evaluated": self.evaluated,
            "drifted": self.drifted,
            "share": self.share,
            "threshold": self.threshold,
            "drift": self.drift,
            "features": [feature.to_json() for feature in self.features],
        }


def feature_drift(
    ref_feature: NumericReference | CategoricalReference,
    window_feature: NumericWindow | CategoricalWindow,
    policy: DriftPolicy | None = None,
) -> FeatureDrift:
    """One feature's statistics and verdict. Only the shapes of the two are checked (the same number of bins or
    categories); ``window_drift`` also checks that the window was profiled against this very reference."""
    if isinstance(ref_feature, NumericReference) and isinstance(window_feature, NumericWindow):
        kind = Kind.NUMERIC
        if len(ref_feature.counts) != len(window_feature.bins):
            raise InvalidArgument(f"feature {ref_feature.name!r}: the window has other bins than the reference")
    elif isinstance(ref_feature, CategoricalReference) and isinstance(window_feature, CategoricalWindow):
        kind = Kind.CATEGORICAL
        if len(ref_feature.categories) != len(window_feature.counts):
            raise InvalidArgument(f"feature {ref_feature.name!r}: the window has other categories than the reference")
    else:
        raise InvalidArgument(f"feature {ref_feature.name!r} has different kinds in reference and window")
    rule = (policy or DriftPolicy()).rule(ref_feature.name, kind, window_feature.present)
    if rule.test not in TESTS_BY_KIND[kind]:
        raise InvalidArgument(f"{rule.test} does not apply to {kind} feature {ref_feature.name!r}", field="policy")
    base = FeatureDrift(
        ref_feature.name, kind, rule.test, rule.threshold, None, False, ref_feature.present, window_feature.present
    )
    if not ref_feature.present or not window_feature.present:
        side = "reference" if not ref_feature.present else "window"
        return replace(base, skipped=f"the {side} has no values of this feature")
    if isinstance(ref_feature, NumericReference) and isinstance(window_feature, NumericWindow):
        values = _numeric(ref_feature, window_feature)
    else:
        assert isinstance(ref_feature, CategoricalReference) and isinstance(window_feature, CategoricalWindow)
        values = _categorical(ref_feature, window_feature)
    score = float(values[SCORES[rule.test]])
    return replace(base, score=score, drift=rule.decides(score), **values)


def dataset_drift(results: Iterable[FeatureDrift], share: float = 0.5) -> DatasetDrift:
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise InvalidArgument(f"share must be above 0 and at most 1, got {share!r}", field="share")
    features = tuple(results)
    evaluated = sum(1 for result in features if result.skipped is None)
    drifted = sum(1 for result in features if result.drift)
    fraction = drifted / evaluated if evaluated else 0.0
    return DatasetDrift(features, evaluated, drifted, fraction, float(share), evaluated > 0 and fraction >= share)


def window_drift(
    reference: Reference, window: WindowProfile, policy: DriftPolicy | None = None, share: float = 0.5
) -> DatasetDrift:
    """Every feature's drift and the dataset's verdict, for a window profiled against this reference."""
    if window.reference != reference.fingerprint:
        raise InvalidArgument("the window was profiled against another reference", field="window")
    results = [feature_drift(ref, window.features[name], policy) for name, ref in reference.features.items()]
    return dataset_drift(results, share)


def _numeric(ref: NumericReference, window: NumericWindow) -> dict[str, Any]:
    p, q = _shares(ref.counts), _shares(window.bins)
    reference_size, window_size = ref.present, window.present
    gap = float(np.abs(np.cumsum(p) - np.cumsum(q)).max())
    effective = max(1, round(reference_size * window_size / (reference_size + window_size)))
    return {
        "psi": _psi(p, q),
        "jensen_shannon": _jensen_shannon(p, q),
        "ks_statistic": gap,
        # The distribution's private _sf: the same computation as kstwo.sf without its per-call argument checks
        # (half the time of a report over many windows).
        "ks_p_value": float(np.clip(stats.kstwo._sf(gap, effective), 0.0, 1.0)),
        "wasserstein": _wasserstein(ref, window, p, q) / max(ref.std or 0.0, STD_FLOOR),
    }


def _categorical(ref: CategoricalReference, window: CategoricalWindow) -> dict[str, Any]:
    reference_cells, window_cells = list(ref.counts), list(window.counts)
    if ref.other or window.unseen_total:
        reference_cells.append(ref.other)
        window_cells.append(window.unseen_total)
    p, q = _shares(reference_cells), _shares(window_cells)
    reference_size, window_size = ref.present, window.present
    smoothed = np.array(reference_cells, dtype=np.float64) + CHI2_SMOOTHING
    expected = window_size * smoothed / smoothed.sum()
    observed = np.array(window_cells, dtype=np.float64)
    statistic = float(((observed - expected) ** 2 / expected).sum()) * reference_size / (reference_size + window_size)
    cells = len(reference_cells)
    return {
        "psi": _psi(p, q),
        "jensen_shannon": _jensen_shannon(p, q),
        "chi2_statistic": statistic,
        "chi2_p_value": float(special.chdtrc(cells - 1, statistic)) if cells > 1 else 1.0,
        "new_categories": tuple(sorted(window.unseen)),
        "vanished_categories": tuple(c for c, n in zip(ref.categories, window.counts, strict=True) if not n),
    }


def _shares(counts: Iterable[int]) -> Floats:
    array = np.array(list(counts), dtype=np.float64)
    shares: Floats = array / array.sum()
    return shares


def _psi(p: Floats, q: Floats) -> float:
    p, q = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def _jensen_shannon(p: Floats, q: Floats) -> float:
    middle = (p + q) / 2
    divergence = (special.rel_entr(p, middle).sum() + special.rel_entr(q, middle).sum()) / (2 * math.log(2))
    # Rounding can leave the divergence a hair below 0 or above 1; the square root of -1e-17 would be NaN.
    return math.sqrt(min(max(float(divergence), 0.0), 1.0))


def _wasserstein(ref: NumericReference, window: NumericWindow, p: Floats, q: Floats) -> float:
    """The raw (unnormalised) distance between the binned distributions; 0 with a single bin."""
    if ref.min is None or ref.max is None:
        return 0.0
    inner = np.array(ref.edges[1:-1])
    lowest = min(ref.min, window.min) if window.min is not None else ref.min
    highest = max(ref.max, window.max) if window.max is not None else ref.max
    # Halves before the sum: the midpoint of two values near the float maximum stays finite.
    points = np.concatenate([[lowest], inner[:-1] / 2 + inner[1:] / 2, [highest]])
    gaps = np.abs(np.cumsum(p - q))[:-1]
    # Points far apart (beyond ±1.8e308 in total) overflow to an infinite step: it counts only where mass moves,
    # and an infinite distance reads as drift.
    with np.errstate(over="ignore", invalid="ignore"):
        steps = np.where(gaps > 0, gaps * np.diff(points), 0.0)
    return float(steps.sum())
