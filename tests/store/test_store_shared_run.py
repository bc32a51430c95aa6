"""Several writers logging to the same run and keys at once (threads sharing one store, as a server's do)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.ids import new_id
from ridgeline.services.tracking import TrackingService

MakeRun = Callable[..., str]

WRITERS = 6
BATCHES = 25
SIZE = 40
KEYS = ("a", "b", "c")


def test_concurrent_batches_to_one_run_all_land_once(tracking: TrackingService, make_run: MakeRun) -> None:
    run_id = make_run()
    # A first small block per key, so that every writer competes to top up the same tails.
    tracking.log_batch(run_id, LogBatch(new_id(), metrics=[MetricSeries(key, [-1], [0.0], [1]) for key in KEYS]))
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(writer: int) -> None:
        try:
            start.wait()
            for batch in range(BATCHES):
                first = (writer * BATCHES + batch) * SIZE
                steps = list(range(first, first + SIZE))
                # Each writer names the keys in its own order.
                keys = KEYS[writer % len(KEYS) :] + KEYS[: writer % len(KEYS)]
                series = [MetricSeries(key, steps, [float(s) for s in steps], [2] * SIZE) for key in keys]
                outcome = tracking.log_batch(run_id, LogBatch(new_id(), metrics=series))
                assert outcome.applied
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    total = WRITERS * BATCHES * SIZE
    expected = [-1, *range(total)]
    for key in KEYS:
        history = tracking.metric_history(run_id, key)
        assert history.total == total + 1
        assert [int(step) for step in history.steps] == expected
        latest = tracking.get_run(run_id).latest_metrics[key]
        assert (latest.step, latest.value) == (total - 1, float(total - 1))
