"""Datasets from the SDK: ``ridgeline.datasets.mark_ready("churn")`` declares a version ready for modelling.

Versions are recorded by ``run.log_dataset(data, name=..., context=...)``; a version is its content's sha256,
so the same data logged from any run is the same version. Readiness is recorded with who and when (the value
metrics of a later release measure the time from a dataset's first version to its first ready one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ridgeline.domain.entities import DatasetVersion

__all__ = ["mark_ready"]


def mark_ready(
    name: str, version: str | None = None, *, ready: bool = True, tracking_uri: str | None = None
) -> DatasetVersion:
    """Mark a version of dataset ``name`` ready for modelling (``ready=False`` withdraws it).

    ``version`` is a version id or its digest (a prefix of at least 4 hex digits will do); None: the newest.
    """
    from ridgeline.client.resolve import backend_for
    from ridgeline.config import Settings

    backend = backend_for(tracking_uri, Settings.load())
    try:
        return backend.mark_dataset_ready(name, version, ready)
    finally:
        backend.close()
