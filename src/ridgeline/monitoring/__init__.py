"""Production monitoring.

The SDK functions (``ridgeline.monitoring.create_monitor``, ``log_predictions``, ``log_actuals``, ``report``,
``get_monitor``, ``list_monitors``, ``delete_monitor``, ``alerts``, ``evaluate_alerts``) live in
client/monitors.py and are loaded on first use, so that the statistics in this package's modules (reference and
window profiles, drift, data quality, performance, alert rules) stay pure numerics: no I/O, importable anywhere.
"""

from __future__ import annotations

from typing import Any

_SDK = (
    "create_monitor",
    "log_predictions",
    "log_actuals",
    "report",
    "get_monitor",
    "list_monitors",
    "delete_monitor",
    "alerts",
    "evaluate_alerts",
)
__all__ = list(_SDK)


def __getattr__(name: str) -> Any:
    if name in _SDK:
        from ridgeline.client import monitors

        return getattr(monitors, name)
    raise AttributeError(f"module 'ridgeline.monitoring' has no attribute {name!r}")
