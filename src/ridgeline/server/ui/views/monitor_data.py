"""What the monitor dashboard shows, worked out from the monitoring service's report rows: the dataset verdict of
each window, and the JSON the page script draws from (the drift heatmap's cells, data-quality rates and
performance metrics per window). No statistic is computed here; the report rows carry them all."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.monitors import PREDICTION, Monitor, format_duration
from ridgeline.monitoring.drift import P_VALUE_TESTS
from ridgeline.services.monitoring.reports import DATASET, PERFORMANCE_METRICS
from ridgeline.services.monitoring.service import MonitoringService

# The heatmap and charts show at most this many windows (the latest); a longer range is narrowed with From/To.
MAX_WINDOWS = 240
# A severity beyond this draws as this: past three times the threshold the colour says all there is to say.
SEVERITY_CAP = 3.0
STATISTICS = ("psi", "ks_statistic", "ks_p_value", "wasserstein", "jensen_shannon", "chi2_statistic", "chi2_p_value")
QUALITY_RATES = ("missing_rate", "out_of_range_rate", "invalid_rate")


@dataclass(frozen=True)
class WindowVerdict:
    """One window's dataset row: the verdict over its input features, quality, and how many rows have actuals."""

    period: int
    model_version: int | None
    start: int
    rows: int
    drift: bool
    drifted: int
    evaluated: int
    quality_ok: bool
    labelled: int
    performance_error: str | None


@dataclass(frozen=True)
class Dashboard:
    windows: list[WindowVerdict]  # oldest first
    hidden: int  # windows in range left out (older than the MAX_WINDOWS shown)
    chart: dict[str, Any]  # for static/js/monitor-page.js
    metrics: list[str]  # performance metrics some window has


def window_text(monitor: Monitor) -> str:
    return format_duration(monitor.window_s)


def parse_time(text: str, field: str) -> int | None:
    """An ISO date or date-time as epoch ms, UTC unless it names its zone (what the page's inputs send);
    "" is no bound."""
    value = text.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(
            f"{field} is a date or date-time like 2024-05-01T14:00, not {text!r}", field=field
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def time_input(ms: int | None) -> str:
    """The value a datetime-local input shows for ``ms`` (UTC, to the minute)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M")


def check_segment(segment: str, known: Sequence[str]) -> str | None:
    """The report's segment argument for the picker's value: None for the whole population (""), else one
    value the monitor has seen (``country=IT``); a name alone would mix every value's rows in one chart."""
    if not segment:
        return None
    if segment not in known or "=" not in segment:
        raise InvalidArgument(f"this monitor has no segment {segment!r}", field="segment")
    return segment


def segment_groups(segments: Sequence[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The picker's choices grouped by segment name: [(name, [(key, value), …]), …]."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for key in segments:
        name, sep, value = key.partition("=")
        if sep:
            groups.setdefault(name, []).append((key, value))
    return sorted(groups.items())


def severity(row: dict[str, Any]) -> float | None:
    """The deciding test's score measured against its threshold: 0 is no change, 1 the threshold, above it drift.

    Distances grow with drift, so they are divided by the threshold. A p-value shrinks with drift over orders of
    magnitude, so the ratio of logarithms puts it on the same scale (p = threshold gives 1, p = 1 gives 0).
    """
    if row.get("skipped"):
        return None
    score, threshold = row.get("score"), row.get("threshold")
    if score is None or not threshold:
        # A statistic that overflowed is reported as null with the verdict still given.
        return SEVERITY_CAP if row.get("drift") else None
    if row.get("test") in P_VALUE_TESTS:
        value = SEVERITY_CAP if score <= 0 else math.log(score) / math.log(threshold)
    else:
        value = score / threshold
    return round(min(max(value, 0.0), SEVERITY_CAP), 4)


def _cell(row: dict[str, Any]) -> dict[str, Any]:
    """What the heatmap's hover and the quality charts need of one feature row; absent statistics left out."""
    cell = {
        "severity": severity(row),
        "drift": bool(row.get("drift")),
        "test": row.get("test"),
        "threshold": row.get("threshold"),
        "score": row.get("score"),
    }
    if row.get("skipped"):
        cell["skipped"] = row["skipped"]
    for key in (*STATISTICS, *QUALITY_RATES):
        if row.get(key) is not None:
            cell[key] = row[key]
    if row.get("quality_failed"):
        cell["quality_failed"] = row["quality_failed"]
    return cell


def _verdict(row: dict[str, Any]) -> WindowVerdict:
    return WindowVerdict(
        period=row["period"],
        model_version=row["model_version"],
        start=row["window_start"],
        rows=row["rows"],
        drift=bool(row["drift"]),
        drifted=row["drifted_features"],
        evaluated=row["evaluated_features"],
        quality_ok=bool(row["quality_ok"]),
        labelled=row["labelled_rows"],
        performance_error=row.get("performance_error"),
    )


def dashboard(monitor: Monitor, rows: Sequence[dict[str, Any]], segment: str) -> Dashboard:
    """The report rows of one segment (or the whole population) as windows, heatmap cells and series."""
    datasets = {(row["period"], row["window_start"]): row for row in rows if row["feature"] == DATASET}
    keys = sorted(datasets, key=lambda key: (key[1], key[0]))
    shown = keys[-MAX_WINDOWS:]
    column = {key: index for index, key in enumerate(shown)}
    features: dict[str, str] = {}
    for row in rows:
        if row["feature"] != DATASET and row["feature"] not in features:
            features[row["feature"]] = row["kind"]
    # The model's output last: it is not an input, and does not count towards the dataset verdict.
    names = sorted(features, key=lambda name: name == PREDICTION)
    position = {name: index for index, name in enumerate(names)}
    cells: list[list[dict[str, Any] | None]] = [[None] * len(shown) for _ in names]
    for row in rows:
        index = column.get((row["period"], row["window_start"]))
        if row["feature"] != DATASET and index is not None:
            cells[position[row["feature"]]][index] = _cell(row)
    windows = [_verdict(datasets[key]) for key in shown]
    performance = {
        metric: [datasets[key].get(metric) for key in shown]
        for metric in PERFORMANCE_METRICS
        if any(datasets[key].get(metric) is not None for key in shown)
    }
    chart = {
        "monitor": monitor.name,
        "segment": segment,
        "windowMs": monitor.window_ms,
        "windows": [
            {
                "period": window.period,
                "version": window.model_version,
                "start": window.start,
                "rows": window.rows,
                "drift": window.drift,
                "labelled": window.labelled,
            }
            for window in windows
        ],
        "features": [{"name": name, "kind": features[name], "output": name == PREDICTION} for name in names],
        "cells": cells,
        "performance": performance,
        "severityCap": SEVERITY_CAP,
    }
    return Dashboard(windows, len(keys) - len(shown), chart, list(performance))


def recent_rows(
    monitoring: MonitoringService, monitor: Monitor, segment: str | None, windows: int
) -> list[dict[str, Any]]:
    """The report of the monitor's last ``windows`` windows (a window's first report computes its statistics, so
    a long history is not read for the default view)."""
    latest = monitoring.latest_window(monitor.name)
    if latest is None:
        return []
    return monitoring.report(monitor.name, start=latest - (windows - 1) * monitor.window_ms, segment=segment)


def latest_verdict(rows: Sequence[dict[str, Any]]) -> WindowVerdict | None:
    """The newest window's dataset verdict of the whole population, None before the first event."""
    datasets = [row for row in rows if row["feature"] == DATASET]
    if not datasets:
        return None
    return _verdict(max(datasets, key=lambda row: (row["window_start"], row["period"])))
