"""``ridgeline.Client``: reading runs back, from a server or the local data folder."""

from __future__ import annotations

from types import TracebackType

from ridgeline.client.resolve import backend_for
from ridgeline.config import Settings
from ridgeline.domain.entities import MetricHistory, Project, RunPage, RunRecord


class Client:
    """Read access to projects, runs and metric histories.

    ``tracking_uri``: argument > ``RIDGELINE_TRACKING_URI`` > the local data folder.
    """

    def __init__(self, tracking_uri: str | None = None) -> None:
        self._backend = backend_for(tracking_uri, Settings.load())

    def get_run(self, run_id: str) -> RunRecord:
        return self._backend.get_run(run_id)

    def search_runs(
        self,
        project: str | list[str],
        filter: str | None = None,
        order_by: str | list[str] | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunPage:
        """One page of runs matching ``filter`` (see docs/search.md); pass ``page.next_cursor`` for the next."""
        projects = [project] if isinstance(project, str) else list(project)
        order = [order_by] if isinstance(order_by, str) else order_by
        return self._backend.search_runs(projects, filter, order, limit, cursor)

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        min_step: int | None = None,
        max_step: int | None = None,
        points: int | None = None,
    ) -> MetricHistory:
        """Every point of a metric (or of a step range); with ``points``, a shape-keeping downsampled view."""
        return self._backend.metric_history(run_id, key, min_step, max_step, points)

    def get_project(self, name: str) -> Project:
        return self._backend.get_project(name)

    def list_projects(self) -> list[Project]:
        return self._backend.list_projects()

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
