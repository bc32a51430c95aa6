"""Every prediction handed to a background thread that writes it in batches, off the response path.

The request path only appends a tuple to a deque (no copy, no serialisation). The thread turns each request into
one row per input row (store/prediction_log.py has the columns) and hands a batch to the sink every
``interval`` seconds or ``batch_rows`` rows: the local Parquet log, or the tracking server. A sink that fails keeps
the batch for the next try; past ``max_pending`` requests the oldest are dropped and counted (logging must never
slow or break serving).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from ridgeline.serving.protocol import jsonable

log = logging.getLogger("ridgeline.serving")

Sink = Callable[[list[dict[str, Any]]], None]


@dataclass(frozen=True, slots=True)
class Scored:
    request_id: str
    timestamp: int  # epoch ms
    model: str
    version: int | None
    role: str
    latency_ms: float
    inputs: Any  # the DataFrame or array the model was given
    outputs: Any
    error: str | None = None


def _input_rows(inputs: Any) -> list[str]:
    if hasattr(inputs, "columns"):
        return [
            orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode()
            for record in inputs.to_dict(orient="records")
        ]
    return [orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode() for row in jsonable(inputs)]


def rows_of(scored: Scored) -> list[dict[str, Any]]:
    inputs = _input_rows(scored.inputs)
    if scored.error is not None or scored.outputs is None:
        outputs: list[str | None] = [None] * len(inputs)
    else:
        values = jsonable(scored.outputs)
        values = values.tolist() if hasattr(values, "tolist") else values
        outputs = [orjson.dumps(value, default=str).decode() for value in values]
        if len(outputs) != len(inputs):
            # A model answering one value for many rows: keep the whole answer on the first row.
            outputs = [orjson.dumps(values, default=str).decode()] + [None] * (len(inputs) - 1)
    return [
        {
            "request_id": scored.request_id,
            "row": index,
            "timestamp": scored.timestamp,
            "model": scored.model,
            "version": scored.version,
            "role": scored.role,
            "latency_ms": scored.latency_ms,
            "inputs": row_inputs,
            "output": output,
            "error": scored.error,
        }
        for index, (row_inputs, output) in enumerate(zip(inputs, outputs, strict=True))
    ]


class PredictionLog:
    def __init__(
        self,
        sink: Sink,
        *,
        interval: float = 1.0,
        batch_rows: int = 10_000,
        max_pending: int = 100_000,
        on_drop: Callable[[int], None] = lambda count: None,
    ) -> None:
        self.sink = sink
        self.interval = interval
        self.batch_rows = batch_rows
        self.max_pending = max_pending
        self.on_drop = on_drop
        self._pending: deque[Scored] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="ridgeline-prediction-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def add(self, scored: Scored) -> None:
        """Called on the request path: O(1), never blocks."""
        self._pending.append(scored)
        if len(self._pending) > self.max_pending:
            self._pending.popleft()
            self.on_drop(1)

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is pending, then end the thread."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        rows: list[dict[str, Any]] = []
        while True:
            self._wake.wait(self.interval)
            stopping = self._stopping
            while self._pending and len(rows) < self.batch_rows:
                rows.extend(rows_of(self._pending.popleft()))
            if rows:
                rows = self._deliver(rows, final=stopping)
            if stopping and not self._pending:
                return

    def _deliver(self, rows: list[dict[str, Any]], *, final: bool) -> list[dict[str, Any]]:
        try:
            self.sink(rows)
        except Exception:
            log.exception("writing %d prediction log rows failed; %s", len(rows), "dropped" if final else "will retry")
            if final:
                self.on_drop(len(rows))
                return []
            time.sleep(self.interval)
            return rows
        return []
