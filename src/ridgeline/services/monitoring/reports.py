"""Report rows from stored window profiles (no raw event is read): one row per period x window x segment x
feature with every statistic, the test that decided, its threshold and the verdict, plus one dataset row per
period x window x segment (``feature`` ``"*"``) with the dataset verdict, data quality and performance.

The model's output is the feature ``prediction``: its drift is reported like a feature's but does not count
towards the dataset verdict, which is about the inputs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.monitors import PREDICTION, WHOLE, Monitor
from ridgeline.monitoring.drift import DriftPolicy, FeatureDrift, dataset_drift, feature_drift
from ridgeline.monitoring.performance import CLASSIFICATION_METRICS, REGRESSION_METRICS
from ridgeline.monitoring.quality import QualityThresholds, feature_quality
from ridgeline.monitoring.reference import NumericReference, Reference
from ridgeline.monitoring.window import NumericWindow, WindowProfile
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.monitors import WindowRow

DATASET = "*"
# The dataset drifts when at least this share of its features drift (Evidently's default too).
DATASET_DRIFT_SHARE = 0.5
PERFORMANCE_METRICS = (*CLASSIFICATION_METRICS, *REGRESSION_METRICS)
_DRIFT_KEYS = (
    "kind",
    "test",
    "threshold",
    "score",
    "drift",
    "psi",
    "ks_statistic",
    "ks_p_value",
    "wasserstein",
    "jensen_shannon",
    "chi2_statistic",
    "chi2_p_value",
    "new_categories",
    "vanished_categories",
    "skipped",
)


def segment_filter(segment: str | None) -> tuple[str | None, str | None]:
    """(exact segment, segment name): None (or "") is the whole population; ``"country"`` every value of that name;
    ``"country=IT"`` that value; ``"*"`` every segment."""
    if segment is None or segment == WHOLE:
        return WHOLE, None
    if segment == "*":
        return None, None
    if "=" in segment:
        return segment, None
    return None, segment


class WindowCache:
    """Report rows of stored windows, keyed by the window and the time its profile last changed: a window's rows
    are a pure function of its profile, its period's reference and the monitor's policy (none of which change
    under a key), so a dashboard computes each window's statistics once, not on every view."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._rows: OrderedDict[tuple[Any, ...], list[dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> list[dict[str, Any]] | None:
        with self._lock:
            found = self._rows.get(key)
            if found is not None:
                self._rows.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: list[dict[str, Any]]) -> None:
        with self._lock:
            self._rows[key] = value
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)


def rows(
    store: MetadataStore,
    monitor: Monitor,
    *,
    start: int | None,
    end: int | None,
    segment: str | None,
    period: int | None,
    cache: WindowCache | None = None,
) -> list[dict[str, Any]]:
    exact, name = segment_filter(segment)
    periods = {item.number: item for item in store.monitors.periods(monitor.id)}
    references: dict[int, Reference] = {}
    policy = DriftPolicy.from_json(monitor.policy)
    thresholds = QualityThresholds(**monitor.quality)
    found = store.monitors.windows(monitor.id, start=start, end=end, segment=exact, period=period)
    out: list[dict[str, Any]] = []
    for window in found:
        if name is not None and not window.segment.startswith(f"{name}="):
            continue
        # updated_at has millisecond resolution; rows and the performance tell two changes in one millisecond apart.
        key = (
            monitor.id,
            monitor.updated_at,
            window.period,
            window.window_start,
            window.segment,
            window.updated_at,
            window.rows,
            str(window.performance),
        )
        cached = None if cache is None else cache.get(key)
        if cached is not None:
            out += [dict(row) for row in cached]
            continue
        reference = references.get(window.period)
        if reference is None:
            reference = references[window.period] = Reference.from_json(periods[window.period].reference)
        base = {
            "period": window.period,
            "model_version": periods[window.period].model_version,
            "window_start": window.window_start,
            "window_end": window.window_start + monitor.window_ms,
            "segment": window.segment,
            "rows": window.rows,
        }
        computed = _window_rows(base, reference, window, policy, thresholds)
        if cache is not None:
            cache.put(key, computed)
        out += [dict(row) for row in computed]
    return out


def _window_rows(
    base: dict[str, Any],
    reference: Reference,
    window: WindowRow,
    policy: DriftPolicy,
    thresholds: QualityThresholds,
) -> list[dict[str, Any]]:
    profile = WindowProfile.from_json(window.profile)
    out = []
    drifts: list[FeatureDrift] = []
    quality_ok = True
    for feature, ref in reference.features.items():
        observed = profile.features[feature]
        drift = feature_drift(ref, observed, policy)
        quality = feature_quality(ref, observed, thresholds)
        if feature != PREDICTION:
            drifts.append(drift)
            quality_ok = quality_ok and quality.ok
        body = drift.to_json()
        out.append(
            {
                **base,
                "feature": feature,
                **{key: body[key] for key in _DRIFT_KEYS},
                "missing_rate": quality.missing_rate,
                "out_of_range_rate": quality.out_of_range_rate,
                "invalid_rate": quality.invalid_rate,
                "quality_failed": list(quality.failed),
                "quality_ok": quality.ok,
            }
        )
    verdict = dataset_drift(drifts, DATASET_DRIFT_SHARE)
    performance = window.performance or {}
    out.append(
        {
            **base,
            "feature": DATASET,
            "drifted_features": verdict.drifted,
            "evaluated_features": verdict.evaluated,
            "drift_share": verdict.share,
            "threshold": verdict.threshold,
            "drift": verdict.drift,
            "quality_ok": quality_ok,
            "labelled_rows": window.labelled,
            "task": performance.get("task"),
            "performance_error": performance.get("error"),
            **{metric: performance.get(metric) for metric in PERFORMANCE_METRICS},
        }
    )
    return out


def distribution(
    store: MetadataStore,
    monitor: Monitor,
    feature: str,
    window_start: int,
    segment: str,
    period: int | None,
) -> dict[str, Any]:
    """Reference and window side by side for one feature: bin edges and counts, or categories and counts."""
    found = store.monitors.windows(monitor.id, start=window_start, end=window_start + 1, segment=segment, period=period)
    if not found:
        raise InvalidArgument(f"no window starting at {window_start} in segment {segment!r}", field="window_start")
    window = found[-1]
    periods = {item.number: item for item in store.monitors.periods(monitor.id)}
    reference = Reference.from_json(periods[window.period].reference)
    if feature not in reference.features:
        known = ", ".join(reference.features)
        raise InvalidArgument(f"the monitor has no feature {feature!r} (it has {known})", field="feature")
    ref = reference.features[feature]
    observed = WindowProfile.from_json(window.profile).features[feature]
    if isinstance(ref, NumericReference) and isinstance(observed, NumericWindow):
        return {
            "feature": feature,
            "kind": "numeric",
            "period": window.period,
            "edges": [edge if abs(edge) != float("inf") else None for edge in ref.edges],
            "reference": list(ref.counts),
            "window": list(observed.bins),
        }
    assert not isinstance(ref, NumericReference) and not isinstance(observed, NumericWindow)
    categories = list(ref.categories)
    window_counts = list(observed.counts)
    reference_counts = list(ref.counts)
    for category, count in sorted(observed.unseen.items()):
        categories.append(category)
        window_counts.append(count)
        reference_counts.append(0)
    return {
        "feature": feature,
        "kind": "categorical",
        "period": window.period,
        "categories": categories,
        "reference": reference_counts,
        "window": window_counts,
    }
