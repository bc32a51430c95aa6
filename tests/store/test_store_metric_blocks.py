"""Metric points in columnar blocks: order, block sizes, step ranges, non-finite values, latest value."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.ids import new_id
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.metrics import BLOCK_MAX, FAN_IN, SeriesArrays
from ridgeline.store.runs import BatchOutcome
from ridgeline.store.schema import latest_metrics, metric_blocks

MakeRun = Callable[..., str]
LogPoints = Callable[..., BatchOutcome]


def _block_sizes(store: MetadataStore, run_id: str, key: str) -> list[int]:
    with store.database.read() as conn:
        rows = conn.execute(
            select(metric_blocks.c.point_count)
            .where(metric_blocks.c.run_id == run_id, metric_blocks.c.key == key)
            .order_by(metric_blocks.c.id)
        ).all()
    return [int(row.point_count) for row in rows]


def _latest_row(store: MetadataStore, run_id: str, key: str) -> tuple[float | None, int, int, int]:
    with store.database.read() as conn:
        row = conn.execute(
            select(latest_metrics).where(latest_metrics.c.run_id == run_id, latest_metrics.c.key == key)
        ).one()
    return row.value, int(row.step), int(row.timestamp), int(row.point_count)


def _history(tracking: TrackingService, run_id: str, key: str, **kwargs: int | None) -> tuple[list[int], list[float]]:
    history = tracking.metric_history(run_id, key, **kwargs)  # type: ignore[arg-type]
    return [int(step) for step in history.steps], [float(value) for value in history.values]


def test_many_small_batches_read_back_in_order(
    tracking: TrackingService, make_run: MakeRun, log_points: LogPoints
) -> None:
    run_id = make_run()
    rng = random.Random(7)
    step = 0
    for _ in range(150):
        size = rng.randint(1, 40)
        log_points(run_id, "loss", range(step, step + size), [step * 0.5 + i for i in range(size)])
        step += size
    history = tracking.metric_history(run_id, "loss")
    assert history.total == step
    assert list(history.steps) == list(range(step))
    # Every point kept its value and timestamp.
    expected_values: list[float] = []
    position = 0
    rng = random.Random(7)
    while position < step:
        size = rng.randint(1, 40)
        expected_values += [position * 0.5 + i for i in range(size)]
        position += size
    assert list(history.values) == expected_values
    assert list(history.timestamps) == [1000 + s for s in range(step)]


def test_out_of_order_steps_across_batches_sort_stably(
    tracking: TrackingService, make_run: MakeRun, log_points: LogPoints
) -> None:
    run_id = make_run()
    # (step, value) in logging order; the value records the logging position.
    logged: list[tuple[int, float]] = []
    batches = [[10, 11, 12, 5], [0, 1, 5, 12], [5, 3, 20], [-4, 5]]
    for steps in batches:
        values = [float(len(logged) + i) for i in range(len(steps))]
        log_points(run_id, "acc", steps, values, timestamps=[7] * len(steps))
        logged += list(zip(steps, values, strict=True))
    expected = sorted(logged, key=lambda point: point[0])  # Python's sort is stable: ties keep logging order
    steps, values = _history(tracking, run_id, "acc")
    assert list(zip(steps, values, strict=True)) == expected
    # A range read sorts the same way.
    steps, values = _history(tracking, run_id, "acc", min_step=5, max_step=11)
    assert list(zip(steps, values, strict=True)) == [p for p in expected if 5 <= p[0] <= 11]


def _append_one_at_a_time(store: MetadataStore, run_id: str, key: str, steps: range) -> None:
    with store.database.write() as conn:
        for step in steps:
            point = SeriesArrays(
                np.array([step], dtype=np.int64),
                np.array([step / 10], dtype=np.float64),
                np.array([5000 + step], dtype=np.int64),
            )
            store.metrics.append(conn, run_id, key, point)


def test_ten_thousand_single_point_appends_leave_few_blocks(tmp_path: Path) -> None:
    """10,000 appends of one point each (SQLite only: the same on PostgreSQL costs about a minute)."""
    store = MetadataStore(f"sqlite:///{tmp_path / 'blocks.db'}")
    try:
        project = store.projects.create("p")
        run_id = TrackingService(store).create_run(RunSpec(project_id=project.id)).id
        count = 10_000
        _append_one_at_a_time(store, run_id, "live", range(count))
        # 10,000 = 9 x 1024 + 24 x 32 + 16: every full group of FAN_IN blocks of a size class was merged.
        assert _block_sizes(store, run_id, "live") == [1024] * 9 + [32] * 24 + [1] * 16
        history = store.metrics.history(run_id, "live")
        assert history.steps.tolist() == list(range(count))
        assert history.values.tolist() == [step / 10 for step in range(count)]
        assert history.timestamps.tolist() == [5000 + step for step in range(count)]
        assert _latest_row(store, run_id, "live") == ((count - 1) / 10, count - 1, 5000 + count - 1, count)
    finally:
        store.close()


def test_small_blocks_merge_in_groups_of_one_size_class(store: MetadataStore, make_run: MakeRun) -> None:
    run_id = make_run()
    with store.database.write() as conn:
        steps = np.arange(5000, dtype=np.int64)
        store.metrics.append(conn, run_id, "live", SeriesArrays(steps, steps / 10, steps + 5000))
    # A large block is never merged; single points gather beside it and merge FAN_IN at a time.
    _append_one_at_a_time(store, run_id, "live", range(5000, 5000 + FAN_IN + 3))
    assert _block_sizes(store, run_id, "live") == [5000, FAN_IN, 1, 1, 1]
    history = store.metrics.history(run_id, "live")
    count = 5000 + FAN_IN + 3
    assert history.steps.tolist() == list(range(count))
    assert history.values.tolist() == [step / 10 for step in range(count)]
    assert _latest_row(store, run_id, "live") == ((count - 1) / 10, count - 1, 5000 + count - 1, count)


def test_single_point_batches_keep_few_blocks(
    store: MetadataStore, tracking: TrackingService, make_run: MakeRun, log_points: LogPoints
) -> None:
    """The same through the service, one transaction per point as a live run sends them (fewer points)."""
    run_id = make_run()
    for step in range(300):
        log_points(run_id, "live", [step])
    assert _block_sizes(store, run_id, "live") == [32] * 9 + [1] * 12
    assert _history(tracking, run_id, "live")[0] == list(range(300))


def test_large_append_is_split_at_block_max(store: MetadataStore, make_run: MakeRun, log_points: LogPoints) -> None:
    run_id = make_run()
    count = 2 * BLOCK_MAX + 123
    steps = np.arange(count, dtype=np.int64)
    log_points(run_id, "big", steps.tolist(), (steps * 2.0).tolist(), (steps + 1).tolist())
    assert _block_sizes(store, run_id, "big") == [BLOCK_MAX, BLOCK_MAX, 123]
    history = store.metrics.history(run_id, "big")
    np.testing.assert_array_equal(history.steps, steps)
    np.testing.assert_array_equal(history.values, steps * 2.0)
    np.testing.assert_array_equal(history.timestamps, steps + 1)


def test_appends_never_rewrite_existing_blocks(store: MetadataStore, make_run: MakeRun, log_points: LogPoints) -> None:
    run_id = make_run()
    log_points(run_id, "big", range(10))
    log_points(run_id, "big", range(10, 10 + BLOCK_MAX + 5))
    assert _block_sizes(store, run_id, "big") == [10, BLOCK_MAX, 5]
    history = store.metrics.history(run_id, "big")
    np.testing.assert_array_equal(history.steps, np.arange(BLOCK_MAX + 15))
    log_points(run_id, "big", [BLOCK_MAX + 15])
    assert _block_sizes(store, run_id, "big") == [10, BLOCK_MAX, 5, 1]


def _edge_ranges(edges: list[int]) -> list[tuple[int | None, int | None]]:
    bounds: list[int | None] = [None]
    for edge in edges:
        bounds += [edge - 1, edge, edge + 1]
    return [(lo, hi) for lo in bounds for hi in bounds if lo is None or hi is None or lo <= hi]


@pytest.mark.parametrize("shuffled", [False, True], ids=["sorted", "unsorted"])
def test_step_ranges_are_exact_at_block_edges(
    store: MetadataStore, tracking: TrackingService, make_run: MakeRun, log_points: LogPoints, shuffled: bool
) -> None:
    run_id = make_run()
    size = 1000  # each batch is its own block
    chunks = [list(range(start, start + size)) for start in range(0, 3 * size, size)]
    if shuffled:
        # Blocks that overlap and are unsorted inside, with a duplicate step on an edge.
        chunks = [chunks[1][::-1], chunks[0] + [size], chunks[2]]
        random.Random(3).shuffle(chunks[2])
    logged: list[tuple[int, float]] = []
    for chunk in chunks:
        values = [float(len(logged) + i) for i in range(len(chunk))]
        log_points(run_id, "m", chunk, values)
        logged += list(zip(chunk, values, strict=True))
    assert len(_block_sizes(store, run_id, "m")) == 3
    everything = sorted(logged, key=lambda point: point[0])
    edges = [0, size - 1, size, 2 * size - 1, 2 * size, 3 * size - 1]
    for lo, hi in _edge_ranges(edges):
        expected = [p for p in everything if (lo is None or p[0] >= lo) and (hi is None or p[0] <= hi)]
        steps, values = _history(tracking, run_id, "m", min_step=lo, max_step=hi)
        assert list(zip(steps, values, strict=True)) == expected, (lo, hi)


def test_non_finite_values_are_stored_faithfully(
    store: MetadataStore, tracking: TrackingService, make_run: MakeRun, log_points: LogPoints
) -> None:
    run_id = make_run()
    values = [math.nan, math.inf, -math.inf, 1.5, -0.0, 0.0, 1e308, -5e-324]
    log_points(run_id, "weird", range(len(values)), values)
    log_points(run_id, "weird", [len(values)], [math.nan])
    history = tracking.metric_history(run_id, "weird")
    got = np.asarray(history.values, dtype=np.float64)
    expected = np.array([*values, math.nan], dtype=np.float64)
    np.testing.assert_array_equal(got, expected)  # NaN equals NaN here
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
    # NaN as the latest value reads back as NaN.
    assert math.isnan(tracking.get_run(run_id).metrics["weird"])
    assert _latest_row(store, run_id, "weird")[0] is None


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinite_latest_value(
    tracking: TrackingService, make_run: MakeRun, log_points: LogPoints, value: float
) -> None:
    run_id = make_run()
    log_points(run_id, "k", [0, 1], [3.0, value])
    latest = tracking.get_run(run_id).metrics["k"]
    assert latest == value


def test_latest_is_the_highest_step_with_the_later_timestamp_breaking_ties(
    tracking: TrackingService, make_run: MakeRun, log_points: LogPoints
) -> None:
    run_id = make_run()

    def latest() -> tuple[float, int, int]:
        point = tracking.get_run(run_id).latest_metrics["k"]
        return point.value, point.step, point.timestamp

    log_points(run_id, "k", [5], [1.0], [100])
    assert latest() == (1.0, 5, 100)
    log_points(run_id, "k", [5], [2.0], [200])  # same step, later timestamp: wins
    assert latest() == (2.0, 5, 200)
    log_points(run_id, "k", [5], [3.0], [150])  # same step, earlier timestamp: loses
    assert latest() == (2.0, 5, 200)
    log_points(run_id, "k", [3], [4.0], [999])  # lower step, however late: loses
    assert latest() == (2.0, 5, 200)
    log_points(run_id, "k", [5], [5.0], [200])  # an exact tie: the later logged wins
    assert latest() == (5.0, 5, 200)
    log_points(run_id, "k", [6], [6.0], [1])  # higher step, however early: wins
    assert latest() == (6.0, 6, 1)
    # Inside one batch: highest step, then the later timestamp, then the later position.
    log_points(run_id, "k", [9, 7, 9, 9, 8], [7.0, 8.0, 9.0, 10.0, 11.0], [50, 60, 70, 70, 80])
    assert latest() == (10.0, 9, 70)
    log_points(run_id, "k", [9, 9], [12.0, 13.0], [71, 69])
    assert latest() == (12.0, 9, 71)


def test_nan_latest_value_replaces_a_number_and_is_replaced(
    tracking: TrackingService, make_run: MakeRun, log_points: LogPoints
) -> None:
    run_id = make_run()
    log_points(run_id, "k", [0], [1.0])
    log_points(run_id, "k", [1], [math.nan])
    assert math.isnan(tracking.get_run(run_id).metrics["k"])
    log_points(run_id, "k", [0], [7.0])  # an older step does not replace the NaN
    assert math.isnan(tracking.get_run(run_id).metrics["k"])
    log_points(run_id, "k", [2], [2.0])
    assert tracking.get_run(run_id).metrics["k"] == 2.0


def test_point_count_accumulates_over_batches(
    store: MetadataStore, tracking: TrackingService, make_run: MakeRun, log_points: LogPoints
) -> None:
    run_id = make_run()
    total = 0
    for size in (1, 10, 3, 250, 1):
        log_points(run_id, "k", range(total, total + size))
        total += size
        assert _latest_row(store, run_id, "k")[3] == total
    log_points(run_id, "k", [0, 0])  # repeats of old steps count too
    assert _latest_row(store, run_id, "k")[3] == total + 2
    assert tracking.metric_history(run_id, "k").total == total + 2


def test_several_keys_in_one_batch_stay_apart(
    store: MetadataStore, tracking: TrackingService, make_run: MakeRun
) -> None:
    run_id = make_run()
    batch = LogBatch(
        new_id(),
        metrics=[
            MetricSeries("a", [0, 1, 2], [1.0, 2.0, 3.0], [10, 11, 12]),
            MetricSeries("b", [5], [-1.0], [20]),
            MetricSeries("a/b:c d.e-f", [1], [0.5], [30]),
        ],
    )
    assert tracking.log_batch(run_id, batch).applied
    assert tracking.metric_keys(run_id) == ["a", "a/b:c d.e-f", "b"]
    assert _history(tracking, run_id, "a") == ([0, 1, 2], [1.0, 2.0, 3.0])
    assert _history(tracking, run_id, "b") == ([5], [-1.0])
    assert _history(tracking, run_id, "missing") == ([], [])
    assert tracking.get_run(run_id).metrics == {"a": 3.0, "b": -1.0, "a/b:c d.e-f": 0.5}
    other = store.metrics.history(run_id, "a", min_step=3)
    assert len(other) == 0
