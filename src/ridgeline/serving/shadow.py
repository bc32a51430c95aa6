"""Shadow traffic: each request scored again by the shadow model on a thread of its own, after the response.

The outputs and latency go to the prediction log (role ``shadow``, same request id) for comparison and are never
returned. A shadow that fails, or falls behind (more than ``max_pending`` requests waiting), costs the request
nothing: the failure is logged with its error, a backlog is dropped and counted.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from ridgeline.serving.models import Slot
from ridgeline.serving.predlog import PredictionLog, Scored


class ShadowRunner:
    def __init__(
        self,
        slot: Slot,
        model_name: str,
        predictions: PredictionLog,
        outcome: Callable[[int, str], None],
        max_pending: int = 10_000,
    ) -> None:
        self.slot = slot
        self.model_name = model_name
        self.predictions = predictions
        self.outcome = outcome
        self._queue: queue.Queue[tuple[str, int, Any] | None] = queue.Queue(maxsize=max_pending)
        self._thread = threading.Thread(target=self._run, name="ridgeline-shadow", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, request_id: str, timestamp: int, data: Any) -> None:
        try:
            self._queue.put_nowait((request_id, timestamp, data))
        except queue.Full:
            served = self.slot.current
            self.outcome(0 if served is None or served.version is None else served.version, "dropped")

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            request_id, timestamp, data = item
            served = self.slot.current
            if served is None:
                continue
            started = time.perf_counter()
            outputs, error = None, None
            try:
                outputs = served.predict(served.prepare(data))
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
            version = 0 if served.version is None else served.version
            self.outcome(version, "ok" if error is None else "error")
            self.predictions.add(
                Scored(
                    request_id=request_id,
                    timestamp=timestamp,
                    model=self.model_name,
                    version=served.version,
                    role="shadow",
                    latency_ms=(time.perf_counter() - started) * 1000,
                    inputs=data,
                    outputs=outputs,
                    error=error,
                )
            )
