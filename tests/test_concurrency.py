"""Several training processes logging at the same time, to one server or to one local data folder.

Each process is a real Python interpreter running the SDK (``ridgeline.start_run``); they start logging
together (a file barrier) and flush often, so their batches interleave. Afterwards every point must be there
exactly once: the exact steps and values of each history, point counts and the latest values.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

import ridgeline
from ridgeline.config import sqlite_uri
from ridgeline.domain.entities import MetricHistory, RunRecord, RunStatus
from ridgeline.services.tracking import TrackingService
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.schema import applied_batches

PROCESSES = 8
POINTS = 5_000
KEYS = ("loss", "acc", "lr")
PROJECT = "conc"

CHILD = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path

    import ridgeline

    uri, index, barrier, points = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
    processes = int(sys.argv[5])
    run = ridgeline.start_run(
        project="conc",
        name=f"proc-{index}",
        tracking_uri=uri,
        config={"index": index, "optimizer": {"lr": 0.5 * index}},
        tags={"worker": f"w{index}"},
    )
    (barrier / f"ready-{index}").write_text(run.id)
    deadline = time.monotonic() + 60
    while not (barrier / "go").exists():
        if time.monotonic() > deadline:
            sys.exit("no go signal")
        time.sleep(0.005)
    for step in range(points):
        run.log_metric("loss", index * 100_000 + step, step=step)
        run.log_metric("acc", step / points, step=step)
        run.log_metric("lr", index + 0.5)  # automatic steps
        if step % 250 == 249:
            run.flush()
        if step == 249:
            # Everyone's first batch is in before anyone goes on: the runs' batches overlap in time by design,
            # not by luck of the scheduler on a busy machine.
            (barrier / f"first-{index}").touch()
            while len(list(barrier.glob("first-*"))) < processes:
                if time.monotonic() > deadline:
                    sys.exit("the other workers never logged")
                time.sleep(0.005)
    run.log_params({"points": points})
    run.set_tags({"done": "yes"})
    run.finish()
    print(run.id)
    """
)


def _expected_values(index: int, key: str) -> list[float]:
    if key == "loss":
        return [float(index * 100_000 + step) for step in range(POINTS)]
    if key == "acc":
        return [step / POINTS for step in range(POINTS)]
    return [index + 0.5] * POINTS


def _run_workers(uri: str, tmp_path: Path) -> dict[int, str]:
    """Start the workers, release them together, and return each one's run id."""
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    env = {**os.environ, "RIDGELINE_FLUSH_INTERVAL": "0.05"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, uri, str(index), str(barrier), str(POINTS), str(PROCESSES)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for index in range(PROCESSES)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(list(barrier.glob("ready-*"))) < PROCESSES:
            failed = [worker for worker in workers if worker.poll() not in (None, 0)]
            assert not failed, failed[0].communicate()[1]
            assert time.monotonic() < deadline, "the workers did not all start"
            time.sleep(0.01)
        (barrier / "go").touch()
        run_ids: dict[int, str] = {}
        for index, worker in enumerate(workers):
            out, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err
            # The SDK reports refused or undelivered batches on the "ridgeline" logger (stderr here).
            assert "ridgeline" not in err, err
            run_ids[index] = out.strip()
            assert run_ids[index] == (barrier / f"ready-{index}").read_text()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    return run_ids


def _check(
    run_ids: dict[int, str],
    get_run: Callable[[str], RunRecord],
    history: Callable[[str, str], MetricHistory],
    project_run_ids: set[str],
) -> None:
    assert project_run_ids == set(run_ids.values())
    for index, run_id in run_ids.items():
        run = get_run(run_id)
        assert run.name == f"proc-{index}"
        assert run.status == RunStatus.FINISHED
        assert run.params == {"index": str(index), "optimizer.lr": str(0.5 * index), "points": str(POINTS)}
        assert run.tags == {"worker": f"w{index}", "done": "yes"}
        for key in KEYS:
            points = history(run_id, key)
            expected = _expected_values(index, key)
            assert points.total == POINTS, (index, key)
            assert [int(step) for step in points.steps] == list(range(POINTS)), (index, key)
            assert [float(value) for value in points.values] == expected, (index, key)
            latest = run.latest_metrics[key]
            assert (latest.step, latest.value) == (POINTS - 1, expected[-1]), (index, key)


def _assert_batches_interleaved(store: MetadataStore, run_ids: dict[int, str]) -> None:
    """The workers really logged at the same time: every run's batches span a shared moment."""
    with store.database.read() as conn:
        rows = conn.execute(
            select(
                applied_batches.c.run_id,
                func.count(),
                func.min(applied_batches.c.applied_at),
                func.max(applied_batches.c.applied_at),
            ).group_by(applied_batches.c.run_id)
        ).all()
    spans = {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in rows}
    assert set(spans) == set(run_ids.values())
    assert all(count >= POINTS // 250 for count, _, _ in spans.values()), spans
    assert max(first for _, first, _ in spans.values()) <= min(last for _, _, last in spans.values()), spans


def test_processes_logging_to_one_server(server: str, backend_uri: str, tmp_path: Path) -> None:
    run_ids = _run_workers(server, tmp_path)
    store = MetadataStore(backend_uri)
    try:
        _assert_batches_interleaved(store, run_ids)
    finally:
        store.close()
    with ridgeline.Client(tracking_uri=server) as client:
        page = client.search_runs(PROJECT, limit=100)
        assert page.next_cursor is None
        _check(
            run_ids,
            client.get_run,
            lambda run_id, key: client.get_metric_history(run_id, key),
            {run.id for run in page},
        )
        assert [project.name for project in client.list_projects()] == [PROJECT]


def test_processes_logging_to_one_local_folder(home: Path, tmp_path: Path) -> None:
    run_ids = _run_workers(str(home), tmp_path)
    store = MetadataStore(sqlite_uri(home))
    try:
        _assert_batches_interleaved(store, run_ids)
        tracking = TrackingService(store)
        (project,) = tracking.list_projects()
        assert project.name == PROJECT and project.run_count == PROCESSES
        page = tracking.search_runs([project.id], limit=100)
        _check(
            run_ids,
            tracking.get_run,
            lambda run_id, key: tracking.metric_history(run_id, key),
            {run.id for run in page},
        )
    finally:
        store.close()
