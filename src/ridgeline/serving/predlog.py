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
_SLICE = 32  # requests serialised between two yields of the GIL


@dataclass(frozen=True, slots=True)
class Scored:
    request_id: str
    timestamp: int  # epoch ms
    model: str
    version: int | None
    role: str
    latency_ms: float
    # The request's rows as parsed, with their column names: records or columns from JSON (no pandas needed to
    # serialise them), a DataFrame from CSV; for arrays, the array the model was given.
    inputs: Any
    outputs: Any
    error: str | None = None


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode()


def _frame_key(inputs: Any) -> tuple[str, ...] | None:
    return tuple(map(str, inputs.columns)) if hasattr(inputs, "columns") and hasattr(inputs, "iloc") else None


def _row_count(inputs: Any) -> int:
    return len(next(iter(inputs.values()))) if isinstance(inputs, dict) else len(inputs)


def _input_json(group: list[Scored]) -> list[str]:
    """Each input row of the group as a JSON text. DataFrames with the same columns are converted together
    (pandas' per-call overhead is most of the cost for one-row requests)."""
    first = group[0].inputs
    if _frame_key(first) is not None:
        import pandas as pd

        frame = first if len(group) == 1 else pd.concat([item.inputs for item in group], ignore_index=True)
        return [_dumps(record) for record in frame.to_dict(orient="records")]
    texts: list[str] = []
    for item in group:
        inputs = item.inputs
        if isinstance(inputs, dict):
            names = list(inputs)
            texts += [_dumps(dict(zip(names, values, strict=True))) for values in zip(*inputs.values(), strict=True)]
        else:
            texts += [_dumps(row) for row in (inputs if isinstance(inputs, list) else jsonable(inputs))]
    return texts


def _output_json(scored: Scored, rows: int) -> list[str | None]:
    if scored.error is not None or scored.outputs is None:
        return [None] * rows
    values = jsonable(scored.outputs)
    values = values.tolist() if hasattr(values, "tolist") else values
    if len(values) != rows:
        # A model answering one value for many rows: keep the whole answer on the first row.
        return [_dumps(values)] + [None] * (rows - 1)
    return [_dumps(value) for value in values]


def _rows_of_group(group: list[Scored]) -> list[dict[str, Any]]:
    inputs = iter(_input_json(group))
    rows = []
    for scored in group:
        count = _row_count(scored.inputs)
        for index, output in enumerate(_output_json(scored, count)):
            rows.append(
                {
                    "request_id": scored.request_id,
                    "row": index,
                    "timestamp": scored.timestamp,
                    "model": scored.model,
                    "version": scored.version,
                    "role": scored.role,
                    "latency_ms": scored.latency_ms,
                    "inputs": next(inputs),
                    "output": output,
                    "error": scored.error,
                }
            )
    return rows


def rows_of(items: list[Scored]) -> list[dict[str, Any]]:
    """The log rows of ``items`` (one per input row), in order; consecutive DataFrames with the same columns are
    serialised together."""
    rows: list[dict[str, Any]] = []
    group: list[Scored] = []
    for scored in items:
        key = _frame_key(scored.inputs)
        if group and (key is None or key != _frame_key(group[0].inputs)):
            rows.extend(_rows_of_group(group))
            group = []
        group.append(scored)
    if group:
        rows.extend(_rows_of_group(group))
    return rows


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
                taken = [self._pending.popleft() for _ in range(min(_SLICE, len(self._pending)))]
                rows.extend(rows_of(taken))
                # Hand the GIL back between slices: a request arriving meanwhile waits for one slice (well under
                # a millisecond), not for the interpreter's 5 ms switch interval.
                time.sleep(0)
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
