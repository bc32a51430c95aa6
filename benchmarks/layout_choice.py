"""Why metric points live in columnar blocks: the same 1,000,000 points written and read back two ways in SQLite.

Run: .venv/bin/python benchmarks/layout_choice.py [--points N]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sized
from pathlib import Path

import numpy as np

from ridgeline.domain.entities import MetricSeries
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.metrics import SeriesArrays


def _median_seconds(read: Callable[[], Sized], expected: int, repeats: int = 5) -> float:
    """Median time of ``repeats`` reads, each checked to return every point."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        assert len(read()) == expected
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def rows_per_point(path: Path, steps: np.ndarray, values: np.ndarray, stamps: np.ndarray) -> tuple[float, float]:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE metrics (run_id TEXT, key TEXT, step INTEGER, value REAL, ts INTEGER)")
    db.execute("CREATE INDEX ix ON metrics (run_id, key, step)")
    rows = list(
        zip(["r"] * len(steps), ["loss"] * len(steps), steps.tolist(), values.tolist(), stamps.tolist(), strict=True)
    )
    started = time.perf_counter()
    with db:
        db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?)", rows)
    written = time.perf_counter() - started
    query = "SELECT step, value, ts FROM metrics WHERE run_id='r' AND key='loss' ORDER BY step"
    read = _median_seconds(lambda: db.execute(query).fetchall(), len(steps))
    db.close()
    return written, read


def blocks(path: Path, steps: np.ndarray, values: np.ndarray, stamps: np.ndarray) -> tuple[float, float]:
    from ridgeline.services.tracking import RunSpec, TrackingService

    store = MetadataStore(f"sqlite:///{path}")
    service = TrackingService(store)
    run = service.create_run(RunSpec(project_id=service.ensure_project("bench").id))
    started = time.perf_counter()
    with store.database.write() as conn:
        store.metrics.append(conn, run.id, "loss", SeriesArrays.of(MetricSeries("loss", steps, values, stamps)))
    written = time.perf_counter() - started
    read = _median_seconds(lambda: store.metrics.history(run.id, "loss"), len(steps))
    store.close()
    return written, read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    n = parser.parse_args().points
    steps = np.arange(n, dtype=np.int64)
    values = np.random.default_rng(0).random(n)
    stamps = 1_700_000_000_000 + steps
    with tempfile.TemporaryDirectory() as tmp:
        row_w, row_r = rows_per_point(Path(tmp) / "rows.db", steps, values, stamps)
        blk_w, blk_r = blocks(Path(tmp) / "blocks.db", steps, values, stamps)
    print(f"{n:,} points        write      read (median of 5)")
    print(f"row per point  {row_w * 1000:8.0f} ms {row_r * 1000:8.0f} ms  ({n / row_w:,.0f} points/s written)")
    print(f"columnar blocks{blk_w * 1000:8.0f} ms {blk_r * 1000:8.0f} ms  ({n / blk_w:,.0f} points/s written)")
    print(f"blocks faster  {row_w / blk_w:8.1f} x  {row_r / blk_r:8.1f} x")


if __name__ == "__main__":
    main()
