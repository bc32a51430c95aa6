"""How values read in the UI: numbers with sensible precision, times and durations. Used as Jinja filters."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from ridgeline.domain.values import numeric_value


def number(value: float | int | None) -> str:
    """Four significant digits, scientific notation only for very large or very small magnitudes."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) < 10**15 else f"{value:.4e}"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == int(value) and abs(value) < 10**15:
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 1e6 or magnitude < 1e-3:
        return f"{value:.4g}"
    return f"{value:,.4g}" if magnitude >= 1e4 else f"{value:.4g}"


def is_numeric(text: object) -> bool:
    """Whether a param or tag value reads as a number (then it is right-aligned like one)."""
    return isinstance(text, str) and numeric_value(text) is not None


def timestamp(ms: int | None) -> str:
    """An epoch-ms time as ISO 8601 UTC (the browser shows it in local time)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def clock(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(ms: int | None) -> str:
    if ms is None or ms < 0:
        return ""
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
