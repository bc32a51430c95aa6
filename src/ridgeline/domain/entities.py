"""Entities: plain frozen records shared by every layer. No I/O, no framework imports."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


class RunStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    workspace_id: str
    name: str
    description: str
    created_at: int
    updated_at: int
    deleted_at: int | None = None
    run_count: int = 0
    last_activity: int | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True, slots=True)
class MetricValue:
    """The latest point of one metric of a run (highest step; the later timestamp breaks ties)."""

    key: str
    value: float
    step: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    project_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    user: str
    notes: str
    parent_run_id: str | None
    deleted_at: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    latest_metrics: dict[str, MetricValue] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, float]:
        """Latest value per metric key."""
        return {key: point.value for key, point in self.latest_metrics.items()}

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def duration_ms(self) -> int | None:
        return None if self.end_time is None else self.end_time - self.start_time


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """Points of one metric key, column by column (the shape the store keeps and the wire carries)."""

    key: str
    steps: Sequence[int]
    values: Sequence[float]
    timestamps: Sequence[int]

    def __len__(self) -> int:
        return len(self.steps)


@dataclass(frozen=True, slots=True)
class MetricPoint:
    step: int
    value: float
    timestamp: int


@dataclass(frozen=True, slots=True)
class MetricHistory:
    """A metric's history as columns; iterating yields :class:`MetricPoint` lazily.

    ``downsampled`` is true when the server picked a subset of ``total`` points that keeps the chart's shape.
    """

    run_id: str
    key: str
    steps: Sequence[int]
    values: Sequence[float]
    timestamps: Sequence[int]
    total: int
    downsampled: bool = False

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[MetricPoint]:
        for step, value, timestamp in zip(self.steps, self.values, self.timestamps, strict=True):
            yield MetricPoint(int(step), float(value), int(timestamp))


@dataclass(frozen=True, slots=True)
class LogBatch:
    """One unit of logging, applied exactly once per ``batch_id``."""

    batch_id: str
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[MetricSeries] = field(default_factory=list)

    @property
    def point_count(self) -> int:
        return sum(len(series) for series in self.metrics)


@dataclass(frozen=True, slots=True)
class RunPage:
    runs: list[RunRecord]
    next_cursor: str | None

    def __iter__(self) -> Iterator[RunRecord]:
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    def __getitem__(self, index: int) -> RunRecord:
        return self.runs[index]


@dataclass(frozen=True, slots=True)
class ArtifactFile:
    """One stored file of a run: its path inside the run's artifacts, size in bytes, sha256 (hex) and when
    it was stored (epoch ms)."""

    path: str
    size: int
    sha256: str
    created_at: int


@dataclass(frozen=True, slots=True)
class Dataset:
    id: str
    name: str
    created_at: int
    version_count: int = 0
    latest_version_at: int | None = None


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One content of a dataset: ``digest`` is its sha256, so equal content is always the same version."""

    id: str
    dataset_id: str
    dataset_name: str
    digest: str
    kind: str
    rows: int | None
    size_bytes: int | None
    schema: list[dict[str, str]]
    profile: dict[str, Any] | None
    source: str
    created_at: int
    created_by: str
    ready_at: int | None = None
    ready_by: str | None = None
    run_count: int = 0

    @property
    def ready(self) -> bool:
        return self.ready_at is not None


@dataclass(frozen=True, slots=True)
class RunInput:
    """A dataset version a run used, and for what (training, validation, test, …)."""

    run_id: str
    context: str
    version: DatasetVersion
