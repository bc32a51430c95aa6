"""Ridgeline: experiment tracking, model management and monitoring you can host yourself.

``import ridgeline`` stays light: the SDK's heavy parts (HTTP client, database engine) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Client",
    "MetricHistory",
    "Run",
    "RunPage",
    "RunRecord",
    "RunStatus",
    "__version__",
    "start_run",
]

if TYPE_CHECKING:
    from ridgeline.client.reader import Client
    from ridgeline.client.run import Run, start_run
    from ridgeline.domain.entities import MetricHistory, RunPage, RunRecord, RunStatus

_LAZY = {
    "Client": "ridgeline.client.reader",
    "Run": "ridgeline.client.run",
    "start_run": "ridgeline.client.run",
    "MetricHistory": "ridgeline.domain.entities",
    "RunPage": "ridgeline.domain.entities",
    "RunRecord": "ridgeline.domain.entities",
    "RunStatus": "ridgeline.domain.entities",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ridgeline' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
