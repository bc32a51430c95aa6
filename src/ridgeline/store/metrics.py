"""Metric points in columnar blocks, and the latest value per key.

A block holds up to ``BLOCK_MAX`` points of one (run, key) as three little-endian arrays. Every append
writes new blocks and never rewrites old ones; small blocks are then merged the way a log-structured merge
tree does it: once the newest ``FAN_IN`` blocks are all of one size class, they become one block of the next
class. Live logging of one point per batch thus rewrites each point about three times in all (instead of
once per batch), and a key never holds more than about a hundred blocks below ``BLOCK_MAX / 2``. Reading a
history is a handful of blob reads and ``np.frombuffer``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, bindparam, case, select

from ridgeline.domain.entities import MetricSeries
from ridgeline.store.database import Database
from ridgeline.store.schema import latest_metrics, metric_blocks
from ridgeline.store.sql import upsert

BLOCK_MAX = 65_536
FAN_IN = 32
# Size classes: 1-31 points, 32-1023, 1024-32767; blocks of 32768 points and more are left as they are.
_CLASS_BITS = 5
_LARGEST_CLASS = 3
# Chunk IN (...) lists well below SQLite's bound-parameter limit.
_IN_CHUNK = 500


def _size_class(points: int) -> int:
    return min((points.bit_length() - 1) // _CLASS_BITS, _LARGEST_CLASS)


INT64 = np.dtype("<i8")
FLOAT64 = np.dtype("<f8")


@dataclass(frozen=True)
class SeriesArrays:
    steps: NDArray[np.int64]
    values: NDArray[np.float64]
    timestamps: NDArray[np.int64]

    @classmethod
    def of(cls, series: MetricSeries) -> SeriesArrays:
        return cls(
            np.asarray(series.steps, dtype=INT64),
            np.asarray(series.values, dtype=FLOAT64),
            np.asarray(series.timestamps, dtype=INT64),
        )

    @classmethod
    def empty(cls) -> SeriesArrays:
        return cls(np.empty(0, INT64), np.empty(0, FLOAT64), np.empty(0, INT64))

    @classmethod
    def concat(cls, parts: list[SeriesArrays]) -> SeriesArrays:
        return cls(
            np.concatenate([p.steps for p in parts]),
            np.concatenate([p.values for p in parts]),
            np.concatenate([p.timestamps for p in parts]),
        )

    def __len__(self) -> int:
        return len(self.steps)

    def take(self, index: Any) -> SeriesArrays:
        return SeriesArrays(self.steps[index], self.values[index], self.timestamps[index])


def _is_sorted(steps: NDArray[np.int64]) -> bool:
    return bool(len(steps) < 2 or np.all(steps[1:] >= steps[:-1]))


_NEWEST_BLOCKS = (
    select(metric_blocks.c.id, metric_blocks.c.point_count)
    .where(metric_blocks.c.run_id == bindparam("run_id"), metric_blocks.c.key == bindparam("key"))
    .order_by(metric_blocks.c.id.desc())
    .limit(FAN_IN)
)


def _latest_upsert(database: Database) -> Any:
    """Insert a key's latest value, or fold it into the existing row: the newer point wins, counts add up."""
    stmt = upsert(database, latest_metrics)
    new = stmt.excluded
    newer = (new.step > latest_metrics.c.step) | (
        (new.step == latest_metrics.c.step) & (new.timestamp >= latest_metrics.c.timestamp)
    )
    return stmt.on_conflict_do_update(
        index_elements=[latest_metrics.c.run_id, latest_metrics.c.key],
        set_={
            "value": case((newer, new.value), else_=latest_metrics.c.value),
            "step": case((newer, new.step), else_=latest_metrics.c.step),
            "timestamp": case((newer, new.timestamp), else_=latest_metrics.c.timestamp),
            "point_count": latest_metrics.c.point_count + new.point_count,
        },
    )


class MetricStore:
    def __init__(self, database: Database) -> None:
        self.db = database
        self._latest_upsert = _latest_upsert(database)

    def append(self, conn: Connection, run_id: str, key: str, points: SeriesArrays) -> None:
        self.append_many(conn, run_id, {key: points})

    def append_many(self, conn: Connection, run_id: str, series: dict[str, SeriesArrays]) -> None:
        """Add points to the blocks of each key and fold them into the latest values, in ``conn``'s transaction.

        Callers serialise writers of one run (SQLite's write lock, the run row lock on PostgreSQL), so the
        merges below never race another append to the same key. Statements are built once and run with many
        parameter sets: a batch of a hundred one-point metrics costs a few statements, not hundreds.
        """
        series = {key: points for key, points in series.items() if len(points)}
        if not series:
            return
        conn.execute(
            metric_blocks.insert(),
            [row for key, points in series.items() for row in self._block_rows(run_id, key, points)],
        )
        for key in series:
            while self._merge_newest(conn, run_id, key):
                pass
        conn.execute(self._latest_upsert, [self._latest_row(run_id, key, points) for key, points in series.items()])

    def _block_rows(self, run_id: str, key: str, points: SeriesArrays) -> list[dict[str, Any]]:
        return [
            self._block_row(run_id, key, points.take(slice(offset, offset + BLOCK_MAX)))
            for offset in range(0, len(points), BLOCK_MAX)
        ]

    def _merge_newest(self, conn: Connection, run_id: str, key: str) -> bool:
        """Merge the newest FAN_IN blocks when they share a mergeable size class; True when it merged."""
        newest = conn.execute(_NEWEST_BLOCKS, {"run_id": run_id, "key": key}).all()
        classes = {_size_class(int(block.point_count)) for block in newest}
        if len(newest) < FAN_IN or len(classes) != 1 or classes.pop() >= _LARGEST_CLASS:
            return False
        ids = [block.id for block in newest]
        blocks = conn.execute(
            select(metric_blocks.c.steps, metric_blocks.c["values"], metric_blocks.c.timestamps)
            .where(metric_blocks.c.id.in_(ids))
            .order_by(metric_blocks.c.id)
        ).all()
        merged = SeriesArrays(
            np.concatenate([np.frombuffer(b.steps, INT64) for b in blocks]),
            np.concatenate([np.frombuffer(b.values, FLOAT64) for b in blocks]),
            np.concatenate([np.frombuffer(b.timestamps, INT64) for b in blocks]),
        )
        conn.execute(metric_blocks.delete().where(metric_blocks.c.id.in_(ids)))
        conn.execute(metric_blocks.insert(), self._block_rows(run_id, key, merged))
        return True

    @staticmethod
    def _block_row(run_id: str, key: str, chunk: SeriesArrays) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "key": key,
            "point_count": len(chunk),
            "step_min": int(chunk.steps.min()),
            "step_max": int(chunk.steps.max()),
            "sorted": _is_sorted(chunk.steps),
            "steps": chunk.steps.tobytes(),
            "values": chunk.values.tobytes(),
            "timestamps": chunk.timestamps.tobytes(),
        }

    @staticmethod
    def _latest_row(run_id: str, key: str, points: SeriesArrays) -> dict[str, Any]:
        # lexsort is stable, so among equal (step, timestamp) the last point logged wins.
        last = int(np.lexsort((points.timestamps, points.steps))[-1])
        value = float(points.values[last])
        return {
            "run_id": run_id,
            "key": key,
            "value": None if math.isnan(value) else value,
            "step": int(points.steps[last]),
            "timestamp": int(points.timestamps[last]),
            "point_count": len(points),
        }

    def history(self, run_id: str, key: str, min_step: int | None = None, max_step: int | None = None) -> SeriesArrays:
        """Every point of (run, key) within the step range, ordered by step (ties keep logging order)."""
        stmt = (
            select(
                metric_blocks.c.step_min,
                metric_blocks.c.step_max,
                metric_blocks.c.sorted,
                metric_blocks.c.steps,
                metric_blocks.c["values"],
                metric_blocks.c.timestamps,
            )
            .where(metric_blocks.c.run_id == run_id, metric_blocks.c.key == key)
            .order_by(metric_blocks.c.id)
        )
        if min_step is not None:
            stmt = stmt.where(metric_blocks.c.step_max >= min_step)
        if max_step is not None:
            stmt = stmt.where(metric_blocks.c.step_min <= max_step)
        with self.db.read() as conn:
            blocks = conn.execute(stmt).all()
        if not blocks:
            return SeriesArrays.empty()
        points = SeriesArrays(
            np.concatenate([np.frombuffer(b.steps, INT64) for b in blocks]),
            np.concatenate([np.frombuffer(b.values, FLOAT64) for b in blocks]),
            np.concatenate([np.frombuffer(b.timestamps, INT64) for b in blocks]),
        )
        in_order = all(b.sorted for b in blocks) and all(
            later.step_min >= earlier.step_max for earlier, later in itertools.pairwise(blocks)
        )
        if not in_order:
            points = points.take(np.argsort(points.steps, kind="stable"))
        if min_step is not None or max_step is not None:
            lo = 0 if min_step is None else int(np.searchsorted(points.steps, min_step, side="left"))
            hi = len(points) if max_step is None else int(np.searchsorted(points.steps, max_step, side="right"))
            points = points.take(slice(lo, hi))
        return points

    def keys(self, run_id: str) -> list[str]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(latest_metrics.c.key).where(latest_metrics.c.run_id == run_id).order_by(latest_metrics.c.key)
            ).all()
        return [row.key for row in rows]

    def point_counts(self, run_ids: list[str]) -> dict[str, dict[str, int]]:
        """How many points each key of each run holds (runs without metrics are absent)."""
        counts: dict[str, dict[str, int]] = {}
        with self.db.read() as conn:
            for start in range(0, len(run_ids), _IN_CHUNK):
                query = select(latest_metrics.c.run_id, latest_metrics.c.key, latest_metrics.c.point_count).where(
                    latest_metrics.c.run_id.in_(run_ids[start : start + _IN_CHUNK])
                )
                for run_id, key, count in conn.execute(query).all():
                    counts.setdefault(run_id, {})[key] = int(count)
        return counts
