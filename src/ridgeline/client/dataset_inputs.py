"""Recording a run's dataset inputs without holding up training.

``run.log_dataset`` hashes and profiles the data in the caller's thread (it returns the version's digest), then a
background thread records the input once the run exists on the backend, retrying while the backend is
unavailable. ``finish()`` waits for those threads (bounded) and reports what could not be recorded.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ridgeline.client.backend import TrackingBackend
from ridgeline.client.datasets import DatasetDescription
from ridgeline.domain.errors import RidgelineError, Unavailable

log = logging.getLogger("ridgeline")

_RETRY_S = (0.5, 1.0, 2.0, 5.0)


class DatasetRecorder:
    def __init__(self, backend: TrackingBackend, run_id: str, wait_for_run: Callable[[float], bool]) -> None:
        self._backend = backend
        self._run_id = run_id
        # The run may still be on its way to the backend (created by the sender): wait for it first.
        self._wait_for_run = wait_for_run
        self._threads: list[threading.Thread] = []
        self.failures: list[str] = []

    def record(self, name: str, context: str, description: DatasetDescription, timeout: float) -> None:
        version = {key: value for key, value in dataclasses.asdict(description).items() if key != "files"}
        thread = threading.Thread(
            target=self._deliver,
            args=(name, context, version, time.monotonic() + timeout),
            name=f"ridgeline-dataset-{self._run_id[:8]}",
            daemon=True,
        )
        self._threads.append(thread)
        thread.start()

    def _deliver(self, name: str, context: str, version: dict[str, Any], deadline: float) -> None:
        self._wait_for_run(max(0.0, deadline - time.monotonic()))
        attempt = 0
        while True:
            try:
                self._backend.log_dataset_input(self._run_id, name, context, version)
                return
            except Unavailable as exc:
                pause = _RETRY_S[min(attempt, len(_RETRY_S) - 1)]
                if time.monotonic() + pause > deadline:
                    self._fail(name, f"backend unavailable: {exc}")
                    return
                attempt += 1
                time.sleep(pause)
            except RidgelineError as exc:
                self._fail(name, str(exc))
                return

    def _fail(self, name: str, reason: str) -> None:
        self.failures.append(f"{name}: {reason}")

    def close(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        pending = sum(thread.is_alive() for thread in self._threads)
        if pending:
            self.failures.append(f"{pending} dataset input(s) still being recorded when the run ended")
        if self.failures:
            log.error("ridgeline: run %s could not record dataset inputs: %s", self._run_id, "; ".join(self.failures))
