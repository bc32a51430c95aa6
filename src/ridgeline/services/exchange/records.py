"""What an importer hands the sink (services/exchange/sink.py): projects, runs, dataset versions and artifact files
as another system holds them, and what the sink reports back per run."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ridgeline.domain.entities import RunRecord
from ridgeline.store.metrics import SeriesArrays


@dataclass(frozen=True)
class ProjectData:
    name: str
    description: str
    created_at: int
    updated_at: int
    deleted_at: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # Kept when no other project holds it.
    id: str | None = None
    # ``{max_age_days, keep_last, updated_at, updated_by}`` (services/retention.py), or None.
    retention: dict[str, Any] | None = None


@dataclass(frozen=True)
class VersionData:
    """A dataset version, with what is needed to create its dataset."""

    dataset_name: str
    dataset_created_at: int
    digest: str
    kind: str
    rows: int | None
    size_bytes: int | None
    schema: list[dict[str, Any]]
    profile: dict[str, Any] | None
    source: str
    created_at: int
    created_by: str
    ready_at: int | None = None
    ready_by: str | None = None
    # Kept when no other row holds them.
    id: str | None = None
    dataset_id: str | None = None

    def columns(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "digest": self.digest,
            "kind": self.kind,
            "rows": self.rows,
            "size_bytes": self.size_bytes,
            "schema": self.schema,
            "profile": self.profile,
            "source": self.source,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "ready_at": self.ready_at,
            "ready_by": self.ready_by,
        }


@dataclass(frozen=True)
class InputData:
    version: VersionData
    context: str
    created_at: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.version.dataset_name, self.version.digest, self.context)


@dataclass(frozen=True)
class RunData:
    id: str
    name: str
    status: str
    start_time: int
    end_time: int | None
    user: str
    notes: str
    parent_run_id: str | None
    updated_at: int
    deleted_at: int | None
    params: dict[str, str]
    tags: dict[str, str]
    # Every point of every key: the sink adds those the run lacks.
    metrics: dict[str, SeriesArrays]
    inputs: list[InputData]

    def row(self, project_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "project_id": project_id,
            "name": self.name,
            "status": self.status,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "user_name": self.user,
            "notes": self.notes,
            "parent_run_id": self.parent_run_id,
            "updated_at": self.updated_at,
            "deleted_at": self.deleted_at,
        }

    def same_row(self, record: RunRecord) -> bool:
        return (
            record.name,
            record.status.value,
            record.start_time,
            record.end_time,
            record.user,
            record.notes,
            record.parent_run_id,
            record.deleted_at,
        ) == (
            self.name,
            self.status,
            self.start_time,
            self.end_time,
            self.user,
            self.notes,
            self.parent_run_id,
            self.deleted_at,
        )


@dataclass(frozen=True)
class ArtifactData:
    """A file to import: ``read`` yields its bytes, or raises NotFound when the source cannot provide them."""

    path: str
    size: int
    read: Callable[[], Iterator[bytes]]
    sha256: str | None = None
    created_at: int | None = None


@dataclass(frozen=True)
class StoredRun:
    """What Ridgeline holds of a run, enough to tell whether a source has something new for it."""

    record: RunRecord
    point_counts: dict[str, int]
    inputs: set[tuple[str, str, str]]


class RunState(enum.StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # The id belongs to a run of another project: left alone.
    ELSEWHERE = "elsewhere"


@dataclass
class RunOutcome:
    state: RunState
    points: int = 0
    artifacts_copied: int = 0
    artifacts_present: int = 0
    artifact_bytes: int = 0
    datasets_created: int = 0
    versions_created: int = 0
    problems: list[str] = field(default_factory=list)
