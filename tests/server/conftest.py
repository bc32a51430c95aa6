"""Fixtures of the HTTP tests: a checked client for the native API of the real server (both backends), and
MLflow's official client pointed at it (for every tests/server/test_mlflow_*.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from api_helpers import api

if TYPE_CHECKING:
    from mlflow import MlflowClient


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with api(server) as http:
        yield http


@pytest.fixture
def mlflow_sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """MLflow's client set up for tests: no retries, no active experiment, and its HTTP sessions closed
    afterwards.

    A server error must fail the test at once, not after minutes of the client's retries. ``set_experiment``
    remembers the experiment for the process (a global and MLFLOW_EXPERIMENT_ID), and an earlier test's
    experiment lives on another server. MLflow caches its HTTP sessions for the life of the process; the ones
    made meanwhile are kept and closed, so no test leaks sockets (pytest turns the ResourceWarning into an
    error). Active runs are ended too.
    """
    mlflow = pytest.importorskip("mlflow")
    from mlflow.tracking import fluent
    from mlflow.utils import request_utils

    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    # Set before deleting, so that monkeypatch also removes the value set_experiment writes during the test.
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", "")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID")

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    sessions: list[Any] = []
    make_session = request_utils._cached_get_request_session.__wrapped__

    def tracked_session(*args: Any, **kwargs: Any) -> Any:
        sessions.append(make_session(*args, **kwargs))
        return sessions[-1]

    monkeypatch.setattr(request_utils, "_cached_get_request_session", tracked_session)
    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()
    for session in sessions:
        session.close()


@pytest.fixture
def mlflow_client(server: str, mlflow_sessions: None, monkeypatch: pytest.MonkeyPatch) -> MlflowClient:
    """MlflowClient, and the fluent API (``mlflow.*``), on the real server."""
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    mlflow.set_tracking_uri(server)
    client: MlflowClient = mlflow.MlflowClient(tracking_uri=server)
    return client
