"""The embedded backend: the SDK writes straight into a data folder (or database) in-process.

``ridgeline server`` started on the same folder shows these runs; SQLite's WAL mode lets several training
processes and a server share the folder.
"""

from __future__ import annotations

import threading

from ridgeline.domain import columns
from ridgeline.domain.entities import LogBatch, MetricHistory, Project, RunPage, RunRecord
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store.metadata import MetadataStore

_stores: dict[str, MetadataStore] = {}
_stores_lock = threading.Lock()


def _shared_store(uri: str) -> MetadataStore:
    """One store (engine and pool) per database per process, however many runs and clients use it."""
    with _stores_lock:
        store = _stores.get(uri)
        if store is None:
            store = _stores[uri] = MetadataStore(uri)
        return store


class LocalBackend:
    def __init__(self, database_uri: str) -> None:
        self.uri = database_uri
        self.service = TrackingService(_shared_store(database_uri))

    def create_run(
        self,
        project: str,
        run_id: str,
        name: str | None,
        user: str,
        start_time: int,
        parent_run_id: str | None,
    ) -> RunRecord:
        spec = RunSpec(
            run_id=run_id,
            name=name,
            user=user,
            start_time=start_time,
            parent_run_id=parent_run_id,
        )
        return self.service.create_run(spec, project_name=project)

    def get_run(self, run_id: str) -> RunRecord:
        return self.service.get_run(run_id)

    def resume_run(self, run_id: str) -> RunRecord:
        return self.service.resume_run(run_id)

    def finish_run(self, run_id: str, status: str, end_time: int) -> RunRecord:
        return self.service.finish_run(run_id, status, end_time)

    def log_batch(self, run_id: str, batch: LogBatch) -> list[dict[str, str]]:
        return self.service.log_batch(run_id, batch).conflicts

    def get_project(self, name: str) -> Project:
        return self.service.get_project_by_name(name)

    def get_project_by_id(self, project_id: str) -> Project:
        return self.service.get_project(project_id)

    def list_projects(self) -> list[Project]:
        return self.service.list_projects()

    def search_runs(
        self,
        projects: list[str],
        filter: str | None,
        order_by: list[str] | None,
        limit: int,
        cursor: str | None,
    ) -> RunPage:
        ids = self.service.project_ids(projects)
        return self.service.search_runs(ids, filter=filter, order_by=order_by, limit=limit, cursor=cursor)

    def metric_history(
        self, run_id: str, key: str, min_step: int | None, max_step: int | None, points: int | None
    ) -> MetricHistory:
        history = self.service.metric_history(run_id, key, min_step=min_step, max_step=max_step, points=points)
        return columns.as_arrays(history)

    def close(self) -> None:
        """Stores are shared per process and closed at exit; nothing to release per client."""
