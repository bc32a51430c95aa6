"""Experiment tracking use cases: projects, runs, batched logging, metric history and search.

Transport-agnostic: the HTTP API and the SDK's embedded backend both call this service, so every rule
(validation, idempotency, defaults) holds the same whichever way the data arrives.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from ridgeline.domain import validation as v
from ridgeline.domain.entities import LogBatch, MetricHistory, Project, RunPage, RunRecord, RunStatus
from ridgeline.domain.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from ridgeline.domain.filters import Expr, Field, OrderKey, format_filter, parse_filter, parse_order_by
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.services.downsample import DownsampleMethod, downsample
from ridgeline.services.names import random_run_name
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.runs import BatchOutcome
from ridgeline.store.scope import current_workspace

MAX_PAGE = 1000
MAX_OFFSET = 10_000_000


@dataclass(frozen=True)
class RunSpec:
    """What a caller may choose when creating a run; everything else gets a default."""

    project_id: str | None = None
    run_id: str | None = None
    name: str | None = None
    user: str = ""
    start_time: int | None = None
    notes: str = ""
    parent_run_id: str | None = None


class TrackingService:
    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    # projects ---------------------------------------------------------------------------------------------

    def create_project(self, name: str, description: str = "") -> Project:
        v.check_name(name, "name")
        v.check_text(description, "description", v.MAX_NOTES_LENGTH)
        return self.store.projects.create(name, description)

    def get_project(self, project_id: str) -> Project:
        return self.store.projects.get(project_id)

    def get_project_by_name(self, name: str) -> Project:
        project = self.store.projects.find_by_name(name)
        if project is None:
            raise NotFound(f"project {name!r} does not exist", field="name")
        return project

    def project_ids(self, names: list[str]) -> list[str]:
        """Ids of the named projects (a cheap look-up, without run statistics)."""
        ids = []
        for name in names:
            project = self.store.projects.find_by_name(name, stats=False)
            if project is None:
                raise NotFound(f"project {name!r} does not exist", field="projects")
            ids.append(project.id)
        return ids

    def ensure_project(self, name: str) -> Project:
        """The live project of that name, created on first use (the SDK's ``start_run(project=...)``)."""
        v.check_name(name, "project")
        project = self.store.projects.find_by_name(name, stats=False)
        if project is None:
            try:
                return self.store.projects.create(name)
            except AlreadyExists:
                # Another process created it between our look-up and insert.
                project = self.store.projects.find_by_name(name, stats=False)
                if project is None:
                    raise
        if project.deleted:
            raise Conflict(f"project {name!r} is deleted; restore it to log to it again", field="project")
        return project

    def list_projects(self, *, deleted: bool = False, query: str | None = None) -> list[Project]:
        return self.store.projects.list_projects(deleted=deleted, query=query)

    def update_project(self, project_id: str, *, name: str | None = None, description: str | None = None) -> Project:
        values: dict[str, str] = {}
        if name is not None:
            values["name"] = v.check_name(name, "name")
        if description is not None:
            values["description"] = v.check_text(description, "description", v.MAX_NOTES_LENGTH)
        if not values:
            return self.get_project(project_id)
        return self.store.projects.update(project_id, **values)

    def delete_project(self, project_id: str) -> Project:
        self.get_project(project_id)
        return self.store.projects.update(project_id, deleted_at=now_ms())

    def restore_project(self, project_id: str) -> Project:
        self.get_project(project_id)
        return self.store.projects.update(project_id, deleted_at=None)

    def set_project_tag(self, project_id: str, key: str, value: str) -> None:
        self.store.projects.set_tag(
            project_id, v.check_key(key, "key"), v.check_text(value, "value", v.MAX_TAG_VALUE_LENGTH)
        )

    def delete_project_tag(self, project_id: str, key: str) -> None:
        self.store.projects.delete_tag(project_id, v.check_key(key, "key"))

    def project_tags(self, project_ids: list[str]) -> dict[str, dict[str, str]]:
        return self.store.projects.tags(project_ids)

    # runs ---------------------------------------------------------------------------------------------------

    def create_run(
        self,
        spec: RunSpec,
        *,
        project_name: str | None = None,
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> RunRecord:
        """Create a run; creating again with the same client-made id returns the existing run (safe retries).

        With ``project_name`` the project is found or created by name, once everything else has been checked,
        so a refused request never leaves a new project behind. ``params`` and ``tags`` (already checked) are
        written in the same transaction as the run.
        """
        run_id = v.check_id(spec.run_id, "run_id") if spec.run_id is not None else new_id()
        values = {
            "id": run_id,
            "name": v.check_name(spec.name, "name", v.MAX_KEY_LENGTH) if spec.name else random_run_name(),
            "status": RunStatus.RUNNING.value,
            "start_time": now_ms() if spec.start_time is None else v.check_timestamp(spec.start_time, "start_time"),
            "user_name": v.check_text(spec.user, "user", v.MAX_NAME_LENGTH),
            "notes": v.check_text(spec.notes, "notes", v.MAX_NOTES_LENGTH),
            "parent_run_id": spec.parent_run_id,
        }
        parent_workspace = None
        if spec.parent_run_id is not None:
            try:
                parent = self.get_run_header(v.check_id(spec.parent_run_id, "parent_run_id"))
            except NotFound:
                raise NotFound(f"parent run {spec.parent_run_id!r} does not exist", field="parent_run_id") from None
            parent_workspace = self.store.projects.get(parent.project_id, stats=False).workspace_id
        if project_name is not None:
            workspace = current_workspace()
        elif spec.project_id is not None:
            project = self.store.projects.get(spec.project_id, stats=False)
            workspace = project.workspace_id
        else:
            raise InvalidArgument("a run needs a project (a name or an id)", field="project")
        if parent_workspace not in (None, workspace):
            # A run of another workspace is no parent for this one (nor is its existence to be learnt here).
            raise NotFound(f"parent run {spec.parent_run_id!r} does not exist", field="parent_run_id")
        if project_name is not None:
            project = self.ensure_project(project_name)
        if project.deleted:
            raise Conflict(f"project {project.name!r} is deleted; restore it first", field="project_id")
        values["project_id"] = project.id
        self.store.runs.create(values, params or {}, tags or {})
        run = self.store.runs.get(run_id)
        if run.project_id != project.id:
            raise Conflict(f"run {run_id!r} already exists in another project", field="run_id")
        return run

    def get_run(self, run_id: str) -> RunRecord:
        return self.store.runs.get(v.check_id(run_id, "run_id"))

    def get_run_header(self, run_id: str) -> RunRecord:
        """The run without its params, tags and metrics (cheaper, for existence and location checks)."""
        return self.store.runs.get_header(v.check_id(run_id, "run_id"))

    def update_run(
        self,
        run_id: str,
        *,
        name: str | None = None,
        status: str | None = None,
        notes: str | None = None,
        end_time: int | None = None,
    ) -> RunRecord:
        self.get_run(run_id)
        values: dict[str, object] = {}
        if name is not None:
            values["name"] = v.check_name(name, "name", v.MAX_KEY_LENGTH)
        if notes is not None:
            values["notes"] = v.check_text(notes, "notes", v.MAX_NOTES_LENGTH)
        if status is not None:
            parsed = _status(status)
            values["status"] = parsed.value
            if parsed.is_terminal:
                values["end_time"] = now_ms() if end_time is None else v.check_timestamp(end_time, "end_time")
            else:
                values["end_time"] = None
        if values:
            self.store.runs.update([run_id], **values)
        return self.get_run(run_id)

    def finish_run(self, run_id: str, status: str = "FINISHED", end_time: int | None = None) -> RunRecord:
        if not _status(status).is_terminal:
            raise InvalidArgument("a run finishes as FINISHED, FAILED or KILLED", field="status")
        return self.update_run(run_id, status=status, end_time=end_time)

    def resume_run(self, run_id: str) -> RunRecord:
        run = self.get_run(run_id)
        if run.deleted:
            raise Conflict(f"run {run_id!r} is deleted; restore it before resuming it", field="run_id")
        return self.update_run(run_id, status=RunStatus.RUNNING.value)

    def delete_runs(self, run_ids: list[str]) -> int:
        return self._set_deleted(run_ids, now_ms())

    def restore_runs(self, run_ids: list[str]) -> int:
        return self._set_deleted(run_ids, None)

    def _set_deleted(self, run_ids: list[str], when: int | None) -> int:
        for run_id in run_ids:
            self.get_run(run_id)
        return self.store.runs.update(run_ids, deleted_at=when)

    def move_runs(self, run_ids: list[str], project_id: str) -> int:
        target = self.store.projects.get(project_id, stats=False)
        if target.deleted:
            raise Conflict(f"project {target.name!r} is deleted; restore it first", field="project_id")
        for run_id in run_ids:
            self.get_run(run_id)
        return self.store.runs.update(run_ids, project_id=target.id)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.get_run(run_id)
        self.store.runs.delete_tag(run_id, v.check_key(key, "key"))

    # logging ------------------------------------------------------------------------------------------------

    def log_batch(self, run_id: str, batch: LogBatch) -> BatchOutcome:
        """Apply a batch once. Its contents are already checked: by ``parse_batch`` for HTTP, by the SDK's
        logging calls for the embedded backend."""
        v.check_id(run_id, "run_id")
        v.check_batch_id(batch.batch_id)
        return self.store.runs.log_batch(run_id, batch)

    # reading ------------------------------------------------------------------------------------------------

    def metric_keys(self, run_id: str) -> list[str]:
        self.get_run(run_id)
        return self.store.metrics.keys(run_id)

    def metric_history(
        self,
        run_id: str,
        key: str,
        *,
        min_step: int | None = None,
        max_step: int | None = None,
        points: int | None = None,
        method: DownsampleMethod = "minmax",
    ) -> MetricHistory:
        v.check_id(run_id, "run_id")
        v.check_key(key, "key")
        if points is not None and not 3 <= points <= 1_000_000:
            raise InvalidArgument("points must be between 3 and 1000000", field="points")
        for name, step in (("min_step", min_step), ("max_step", max_step)):
            if step is not None:
                v.check_step(step, name)
        if min_step is not None and max_step is not None and min_step > max_step:
            raise InvalidArgument(f"min_step {min_step} is larger than max_step {max_step}", field="min_step")
        series = self.store.metrics.history(run_id, key, min_step, max_step)
        if len(series) == 0:
            self.get_run(run_id)
        total = len(series)
        downsampled = points is not None and total > points
        if downsampled and points is not None:
            series = series.take(downsample(series.steps, series.values, points, method))
        # numpy arrays stand in for the sequences: the HTTP layer serialises them without a Python loop.
        return MetricHistory(
            run_id,
            key,
            cast(Sequence[int], series.steps),
            cast(Sequence[float], series.values),
            cast(Sequence[int], series.timestamps),
            total,
            downsampled,
        )

    def search_runs(
        self,
        project_ids: list[str],
        *,
        filter: str | None = None,
        order_by: str | list[str] | None = None,
        limit: int = 100,
        cursor: str | None = None,
        deleted: bool | None = False,
        offset: int = 0,
    ) -> RunPage:
        """A page of runs; the next page follows ``cursor`` (keyset) or, for numbered pages, skips ``offset``.

        ``deleted``: live runs (False), deleted runs (True) or both (None)."""
        v.check_limit(limit, "limit", MAX_PAGE)
        if not 0 <= offset <= MAX_OFFSET:
            raise InvalidArgument(f"offset must be between 0 and {MAX_OFFSET}", field="offset")
        if offset and cursor:
            raise InvalidArgument("give a cursor or an offset, not both", field="offset")
        expr = self._scope(project_ids, filter)
        order = parse_order_by(order_by) or [OrderKey(Field("attribute", "start_time"), descending=True)]
        fingerprint = _fingerprint(project_ids, format_filter(expr) if expr else "", order, deleted)
        after = _decode_cursor(cursor, fingerprint) if cursor else None
        runs, position = self.store.runs.search(project_ids, expr, order, after, limit, deleted, offset)
        return RunPage(runs, None if position is None else _encode_cursor(position, fingerprint))

    def count_runs(self, project_ids: list[str], *, filter: str | None = None, deleted: bool = False) -> int:
        return self.store.aggregates.count(project_ids, self._scope(project_ids, filter), deleted)

    def run_keys(self, project_ids: list[str], *, deleted: bool = False) -> dict[str, list[str]]:
        """The param, metric and tag keys the projects' runs use (for column choosers and filter hints)."""
        self._scope(project_ids, None)
        return self.store.aggregates.keys(project_ids, deleted)

    def group_counts(
        self, project_ids: list[str], field: str, *, filter: str | None = None, deleted: bool = False
    ) -> list[tuple[str | None, int]]:
        """Matching runs per value of ``params.KEY`` or ``tags.KEY`` (None: runs without the key)."""
        expr = self._scope(project_ids, filter)
        kind, _, key = field.partition(".")
        if kind not in ("params", "tags") or not key:
            raise InvalidArgument(f"group by params.KEY or tags.KEY, got {field!r}", field="group_by")
        v.check_key(key, "group_by")
        return self.store.aggregates.value_counts(project_ids, expr, kind, key, deleted)

    def _scope(self, project_ids: list[str], filter: str | None) -> Expr | None:
        """Check that the projects exist and parse the filter (None when empty)."""
        if not project_ids:
            raise InvalidArgument("name at least one project to search", field="project_ids")
        for project_id in project_ids:
            self.store.projects.get(project_id, stats=False)
        return parse_filter(v.check_encodable(filter or "", "filter"))


def _status(status: str) -> RunStatus:
    try:
        return RunStatus(str(status).upper())
    except ValueError:
        allowed = ", ".join(s.value for s in RunStatus)
        raise InvalidArgument(f"status must be one of {allowed}, got {status!r}", field="status") from None


def _fingerprint(project_ids: list[str], filter_text: str, order: list[OrderKey], deleted: bool | None) -> str:
    parts = [",".join(sorted(project_ids)), filter_text, repr(order), str(deleted)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]


def _encode_cursor(position: list[Any], fingerprint: str) -> str:
    """An opaque cursor: the last run's sort values and id, bound to the query that produced them."""
    raw = json.dumps({"after": position, "q": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        position = data["after"]
        same_query = data["q"] == fingerprint
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("cursor is not one this server issued", field="cursor") from None
    if not same_query:
        raise InvalidArgument("cursor belongs to another query (project, filter or order changed)", field="cursor")
    well_formed = (
        isinstance(position, list)
        and position
        and isinstance(position[-1], str)
        and all(_cursor_scalar(value) for value in position)
    )
    if not well_formed:
        raise InvalidArgument("cursor is not one this server issued", field="cursor")
    v.check_id(position[-1], "cursor")
    return list(position)


def _cursor_scalar(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return v.INT64_MIN <= value <= v.INT64_MAX
    if isinstance(value, str):
        return len(value) <= v.MAX_TAG_VALUE_LENGTH and v.check_encodable(value, "cursor") is not None
    return value is None or isinstance(value, float)
