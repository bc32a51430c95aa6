"""Helpers for the SDK tests: a server on a chosen port, and a backend whose transport can be made to fail.

``FlakyBackend`` wraps a real backend (HTTP or embedded) and only changes what the caller is told: with
``fail_after_apply`` it forwards a call and then raises ``Unavailable`` (the server applied the batch, the
answer was lost); with ``down`` set it raises ``Unavailable`` without forwarding (the server is unreachable).
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from pathlib import Path

from ridgeline.client.backend import TrackingBackend
from ridgeline.domain.entities import LogBatch, MetricHistory, Project, RunPage, RunRecord
from ridgeline.domain.errors import Unavailable
from support.servers import running_server


def server_on_port(home: Path, port: int, backend_uri: str | None = None) -> AbstractContextManager[str]:
    """The real server on ``port`` (which the caller picked, possibly already used as a dead address)."""
    return running_server(home, backend_uri, port)


class FlakyBackend:
    """A real backend behind a transport that can lose answers or be down."""

    def __init__(self, inner: TrackingBackend) -> None:
        self.inner = inner
        self.down = threading.Event()
        # How many of the next create_run / log_batch answers to lose after the call was applied.
        self.lost_creates = 0
        self.lost_batches = 0
        self.batch_ids: list[str] = []  # every log_batch attempt that reached the backend, retries included
        self.create_attempts = 0
        self._lock = threading.Lock()

    def _lose_answer(self, counter: str) -> bool:
        with self._lock:
            left: int = getattr(self, counter)
            if left > 0:
                setattr(self, counter, left - 1)
                return True
            return False

    def _check_up(self) -> None:
        if self.down.is_set():
            raise Unavailable("test transport is down")

    def create_run(
        self,
        project: str,
        run_id: str,
        name: str | None,
        user: str,
        start_time: int,
        parent_run_id: str | None,
    ) -> RunRecord:
        self._check_up()
        self.create_attempts += 1
        record = self.inner.create_run(project, run_id, name, user, start_time, parent_run_id)
        if self._lose_answer("lost_creates"):
            raise Unavailable("test transport lost the answer to create_run")
        return record

    def log_batch(self, run_id: str, batch: LogBatch) -> list[dict[str, str]]:
        self._check_up()
        self.batch_ids.append(batch.batch_id)
        conflicts = self.inner.log_batch(run_id, batch)
        if self._lose_answer("lost_batches"):
            raise Unavailable("test transport lost the answer to log_batch")
        return conflicts

    def get_run(self, run_id: str) -> RunRecord:
        self._check_up()
        return self.inner.get_run(run_id)

    def resume_run(self, run_id: str) -> RunRecord:
        self._check_up()
        return self.inner.resume_run(run_id)

    def finish_run(self, run_id: str, status: str, end_time: int) -> RunRecord:
        self._check_up()
        return self.inner.finish_run(run_id, status, end_time)

    def get_project(self, name: str) -> Project:
        return self.inner.get_project(name)

    def list_projects(self) -> list[Project]:
        return self.inner.list_projects()

    def search_runs(
        self,
        projects: list[str],
        filter: str | None,
        order_by: list[str] | None,
        limit: int,
        cursor: str | None,
    ) -> RunPage:
        return self.inner.search_runs(projects, filter, order_by, limit, cursor)

    def metric_history(
        self, run_id: str, key: str, min_step: int | None, max_step: int | None, points: int | None
    ) -> MetricHistory:
        return self.inner.metric_history(run_id, key, min_step, max_step, points)

    def close(self) -> None:
        self.inner.close()
