"""The prediction log's hand-off: nothing lost when its destination fails for a while, nothing blocking when it
falls behind, everything pending written at shutdown."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd

from ridgeline.serving.predlog import PredictionLog, Scored, rows_of
from serving.support import wait_for


def _scored(index: int, inputs: Any = None) -> Scored:
    frame = pd.DataFrame({"x1": [float(index)], "x2": [1.0]}) if inputs is None else inputs
    return Scored(f"r{index}", 1_700_000_000_000, "house", 1, "primary", 0.5, frame, np.array([index * 2.0]))


class FlakySink:
    """Fails its first ``failures`` calls, then keeps what it is given."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.rows: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, rows: list[dict[str, Any]]) -> None:
        with self.lock:
            if self.failures:
                self.failures -= 1
                raise OSError("disk full")
            self.rows.extend(rows)


def test_a_failing_destination_loses_nothing() -> None:
    sink = FlakySink(failures=3)
    log = PredictionLog(sink, interval=0.01)
    log.start()
    for index in range(100):
        log.add(_scored(index))
    wait_for(lambda: len(sink.rows) == 100)
    log.stop()
    assert [row["request_id"] for row in sink.rows] == [f"r{index}" for index in range(100)]
    assert [row["output"] for row in sink.rows] == [f"{index * 2.0}" for index in range(100)]


def test_falling_behind_drops_the_oldest_and_counts_them() -> None:
    dropped: list[int] = []
    sink = FlakySink(failures=0)
    log = PredictionLog(sink, interval=60, max_pending=5, on_drop=dropped.append)
    for index in range(8):  # not started: nothing is written meanwhile
        log.add(_scored(index))
    assert sum(dropped) == 3
    log.start()
    log.stop()  # writes what is pending before it ends
    assert [row["request_id"] for row in sink.rows] == ["r3", "r4", "r5", "r6", "r7"]


def test_a_destination_still_failing_at_shutdown_is_counted() -> None:
    dropped: list[int] = []
    log = PredictionLog(FlakySink(failures=1_000), interval=0.01, on_drop=dropped.append)
    log.start()
    log.add(_scored(1))
    log.add(_scored(2))
    log.stop()
    assert sum(dropped) == 2


def test_rows_of_every_input_shape() -> None:
    records = [{"x1": 1.0, "x2": "a"}, {"x1": 2.0, "x2": "b"}]
    columns = {"x1": [1.0, 2.0], "x2": ["a", "b"]}
    array = np.array([[1.0, 2.0], [3.0, 4.0]])
    rows = rows_of([_scored(0, records), _scored(1, columns), _scored(2, array), _scored(3), _scored(4)])
    assert [row["inputs"] for row in rows] == [
        '{"x1":1.0,"x2":"a"}',
        '{"x1":2.0,"x2":"b"}',
        '{"x1":1.0,"x2":"a"}',
        '{"x1":2.0,"x2":"b"}',
        "[1.0,2.0]",
        "[3.0,4.0]",
        '{"x1":3.0,"x2":1.0}',
        '{"x1":4.0,"x2":1.0}',
    ]
    # One prediction for a two-row request stays whole on its first row.
    assert [row["output"] for row in rows[:2]] == ["[0.0]", None]
    assert [(row["request_id"], row["row"]) for row in rows[4:6]] == [("r2", 0), ("r2", 1)]
