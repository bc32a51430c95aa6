"""Recording a run's dataset inputs without holding up training.

``run.log_dataset`` hashes and profiles the data in the caller's thread (it returns the version's digest), then a
background thread records the input once the run exists on the backend. When the backend is unavailable (offline,
or down) the input becomes a record in the run's disk spool, delivered later like the run's metrics: recording it
again is harmless (the same content is the same version, and the run's link to it is kept once).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Any

from ridgeline.client.backend import TrackingBackend
from ridgeline.client.sender import Sender
from ridgeline.domain.errors import RidgelineError, Unavailable
from ridgeline.services.dataset_description import DatasetDescription

log = logging.getLogger("ridgeline")


class DatasetRecorder:
    def __init__(self, backend: TrackingBackend, run_id: str, sender: Sender) -> None:
        self._backend = backend
        self._run_id = run_id
        self._sender = sender
        # Each input with the thread recording it, so that close() can spool the ones still under way.
        self._inputs: list[tuple[threading.Thread, str, str, dict[str, Any]]] = []
        self.failures: list[str] = []

    def record(self, name: str, context: str, description: DatasetDescription, timeout: float) -> None:
        version = {key: value for key, value in dataclasses.asdict(description).items() if key != "files"}
        thread = threading.Thread(
            target=self._deliver,
            args=(name, context, version, time.monotonic() + timeout),
            name=f"ridgeline-dataset-{self._run_id[:8]}",
            daemon=True,
        )
        self._inputs.append((thread, name, context, version))
        thread.start()

    def _deliver(self, name: str, context: str, version: dict[str, Any], deadline: float) -> None:
        # The run may still be on its way to the backend (created by the sender): it must get there first.
        self._sender.wait_created(max(0.0, deadline - time.monotonic()))
        if not self._sender.spooling():
            try:
                self._backend.log_dataset_input(self._run_id, name, context, version)
                return
            except Unavailable as exc:
                log.warning("ridgeline: run %s: dataset input %s kept in the spool: %s", self._run_id, name, exc)
            except RidgelineError as exc:
                self.failures.append(f"{name}: {exc}")
                return
        self._spool(name, context, version)

    def _spool(self, name: str, context: str, version: dict[str, Any]) -> None:
        try:
            self._sender.spool_record(lambda spool: spool.append_dataset(name, context, version))
        except OSError as exc:
            self.failures.append(f"{name}: backend unavailable and the spool cannot be written: {exc}")

    def close(self, timeout: float) -> None:
        """Wait for the inputs (at most ``timeout``); those still under way then are spooled (recording one twice
        is harmless), and failures are logged."""
        deadline = time.monotonic() + timeout
        for thread, *_ in self._inputs:
            thread.join(max(0.0, deadline - time.monotonic()))
        for thread, name, context, version in self._inputs:
            if thread.is_alive():
                self._spool(name, context, version)
        if self.failures:
            log.error("ridgeline: run %s could not record dataset inputs: %s", self._run_id, "; ".join(self.failures))
