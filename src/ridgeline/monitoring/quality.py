"""Data quality of a window: per feature, the rates of missing values, values outside the reference's range and
type violations, and a verdict against thresholds.

``feature_quality(ref_feature, window_feature, thresholds)`` judges one feature of a
:class:`~ridgeline.monitoring.window.WindowProfile`; ``window_quality(reference, window, thresholds, overrides)``
every feature of it. Rates:

- ``missing_rate`` and ``invalid_rate`` (type violations): shares of every value seen (``count``). A feature the
  window's batches did not carry is missing in every row.
- ``out_of_range_rate``: the share of present values outside the reference's range: below its min or above its
  max (±inf included) for a numeric feature, outside its categories for a categorical one.

Each rate is None when its denominator is zero (an empty window, an all-missing column); a None rate never
fails. A check fails when the window's rate exceeds the reference's own by more than the allowance in
:class:`QualityThresholds`, so a column that was 30% missing in training is not flagged for staying so. Defaults:
``missing`` 0.05 (five points more missing values), ``out_of_range`` 0.05, ``invalid`` 0.0 (any type violation
beyond the reference's fails: it means the producer sends values of the wrong type). For a categorical reference
that lumped rare categories into ``other``, that bucket's share is its own out-of-range rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.reference import CategoricalReference, Kind, NumericReference, Reference
from ridgeline.monitoring.window import CategoricalWindow, NumericWindow, WindowProfile

CHECKS = ("missing", "out_of_range", "invalid")


@dataclass(frozen=True)
class QualityThresholds:
    """How far each rate may exceed the reference's before the feature fails."""

    missing: float = 0.05
    out_of_range: float = 0.05
    invalid: float = 0.0

    def __post_init__(self) -> None:
        for check in CHECKS:
            value = getattr(self, check)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise InvalidArgument(f"quality threshold {check} must be from 0 to 1, got {value!r}", field=check)


@dataclass(frozen=True)
class FeatureQuality:
    feature: str
    kind: Kind
    count: int
    missing_rate: float | None
    out_of_range_rate: float | None
    invalid_rate: float | None
    reference_missing_rate: float
    reference_out_of_range_rate: float
    reference_invalid_rate: float
    failed: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "kind": self.kind.value, "failed": list(self.failed), "ok": self.ok}


@dataclass(frozen=True)
class WindowQuality:
    features: tuple[FeatureQuality, ...]

    @property
    def ok(self) -> bool:
        return all(feature.ok for feature in self.features)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "features": [feature.to_json() for feature in self.features]}


def feature_quality(
    ref_feature: NumericReference | CategoricalReference,
    window_feature: NumericWindow | CategoricalWindow,
    thresholds: QualityThresholds | None = None,
) -> FeatureQuality:
    allowed = thresholds or QualityThresholds()
    if isinstance(ref_feature, NumericReference) and isinstance(window_feature, NumericWindow):
        kind, outside, reference_outside = Kind.NUMERIC, window_feature.out_of_range, 0
    elif isinstance(ref_feature, CategoricalReference) and isinstance(window_feature, CategoricalWindow):
        kind, outside, reference_outside = Kind.CATEGORICAL, window_feature.unseen_total, ref_feature.other
    else:
        raise InvalidArgument(f"feature {ref_feature.name!r} has different kinds in reference and window")
    rates = {
        "missing": _rate(window_feature.missing, window_feature.count),
        "out_of_range": _rate(outside, window_feature.present),
        "invalid": _rate(window_feature.invalid, window_feature.count),
    }
    reference_rates = {
        "missing": _rate(ref_feature.missing, ref_feature.count) or 0.0,
        "out_of_range": _rate(reference_outside, ref_feature.present) or 0.0,
        "invalid": _rate(ref_feature.invalid, ref_feature.count) or 0.0,
    }
    failed = tuple(
        check
        for check in CHECKS
        if (rate := rates[check]) is not None and rate - reference_rates[check] > getattr(allowed, check)
    )
    return FeatureQuality(
        feature=ref_feature.name,
        kind=kind,
        count=window_feature.count,
        missing_rate=rates["missing"],
        out_of_range_rate=rates["out_of_range"],
        invalid_rate=rates["invalid"],
        reference_missing_rate=reference_rates["missing"],
        reference_out_of_range_rate=reference_rates["out_of_range"],
        reference_invalid_rate=reference_rates["invalid"],
        failed=failed,
    )


def window_quality(
    reference: Reference,
    window: WindowProfile,
    thresholds: QualityThresholds | None = None,
    overrides: Mapping[str, QualityThresholds] | None = None,
) -> WindowQuality:
    """Every feature's quality; ``overrides`` gives named features their own thresholds."""
    if window.reference != reference.fingerprint:
        raise InvalidArgument("the window was profiled against another reference", field="window")
    chosen = overrides or {}
    return WindowQuality(
        tuple(
            feature_quality(ref, window.features[name], chosen.get(name, thresholds))
            for name, ref in reference.features.items()
        )
    )


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None
