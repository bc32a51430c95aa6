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
    "artifacts",
    "datasets",
    "load_model",
    "start_run",
]

if TYPE_CHECKING:
    from ridgeline import artifacts, datasets
    from ridgeline.client.models import load_model
    from ridgeline.client.reader import Client
    from ridgeline.client.run import Run, start_run
    from ridgeline.domain.entities import MetricHistory, RunPage, RunRecord, RunStatus

_LAZY = {
    "Client": "ridgeline.client.reader",
    "load_model": "ridgeline.client.models",
    "Run": "ridgeline.client.run",
    "start_run": "ridgeline.client.run",
    "MetricHistory": "ridgeline.domain.entities",
    "RunPage": "ridgeline.domain.entities",
    "RunRecord": "ridgeline.domain.entities",
    "RunStatus": "ridgeline.domain.entities",
}


# Submodules reachable as ``ridgeline.artifacts.download(...)`` after a plain ``import ridgeline``.
_SUBMODULES = ("artifacts", "datasets")


def __getattr__(name: str) -> Any:
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"ridgeline.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ridgeline' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
