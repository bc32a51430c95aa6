"""Fixtures for the store tests: a project and a way to make runs and log batches in it, on both backends."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import pytest

from ridgeline.domain.entities import LogBatch, MetricSeries, Project
from ridgeline.domain.ids import new_id
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store.runs import BatchOutcome

MakeRun = Callable[..., str]
LogPoints = Callable[..., BatchOutcome]

_clock = itertools.count(1_700_000_000_000)


@pytest.fixture
def project(tracking: TrackingService) -> Project:
    return tracking.create_project("store-tests")


@pytest.fixture
def make_run(tracking: TrackingService, project: Project) -> MakeRun:
    """Create a run in ``project`` (distinct, increasing start times) and return its id."""

    def make(name: str | None = None, *, project_id: str | None = None, start_time: int | None = None) -> str:
        spec = RunSpec(
            project_id=project_id or project.id,
            name=name,
            start_time=start_time if start_time is not None else next(_clock),
        )
        return tracking.create_run(spec).id

    return make


@pytest.fixture
def log_points(tracking: TrackingService) -> LogPoints:
    """Log one batch of points for one key; timestamps default to 1000 + step."""

    def log(
        run_id: str,
        key: str,
        steps: Sequence[int],
        values: Sequence[float] | None = None,
        timestamps: Sequence[int] | None = None,
        *,
        batch_id: str | None = None,
    ) -> BatchOutcome:
        steps = list(steps)
        values = [float(step) for step in steps] if values is None else list(values)
        timestamps = [1000 + abs(step) for step in steps] if timestamps is None else list(timestamps)
        batch = LogBatch(batch_id or new_id(), metrics=[MetricSeries(key, steps, values, timestamps)])
        return tracking.log_batch(run_id, batch)

    return log
