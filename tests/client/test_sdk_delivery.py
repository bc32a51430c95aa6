"""Delivery guarantees of the SDK: a dead server never hurts training, data arrives exactly once, memory is
bounded, and runs left open are closed when the interpreter exits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from sdk_testkit import FlakyBackend, server_on_port

import ridgeline
from ridgeline.client.resolve import backend_for
from ridgeline.client.run import Run
from ridgeline.config import Settings
from ridgeline.domain.ids import new_id, now_ms
from support.servers import free_port


def _logging_thread(target: object, *args: object) -> threading.Thread:
    assert callable(target)
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def test_dead_server_never_blocks_and_everything_arrives_once_it_is_up(home: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"  # nothing listens here yet
    run = ridgeline.start_run(
        project="offline", name="no-server", config={"lr": 0.1}, tags={"where": "plane"}, tracking_uri=url
    )

    def train() -> None:
        for step in range(2000):
            run.log_metric("loss", float(step))
        run.log_metrics({"acc": 0.5, "f1": 0.25})
        run.set_tag("phase", "done")

    trainer = _logging_thread(train)
    trainer.join(timeout=10)
    assert not trainer.is_alive(), "logging blocked while the server was down"

    with server_on_port(home, port) as served:
        assert served == url
        run.finish()
        with ridgeline.Client(url) as client:
            record = client.get_run(run.id)
            history = client.get_metric_history(run.id, "loss")
            assert [r.id for r in client.search_runs("offline")] == [run.id]

    assert record.name == "no-server"
    assert record.status is ridgeline.RunStatus.FINISHED
    assert record.params == {"lr": "0.1"}
    assert record.tags == {"where": "plane", "phase": "done"}
    assert record.metrics == {"loss": 1999.0, "acc": 0.5, "f1": 0.25}
    assert len(history) == 2000 and history.total == 2000
    assert [int(s) for s in history.steps] == list(range(2000))


def test_server_outage_mid_run_loses_and_duplicates_nothing(home: Path) -> None:
    port = free_port()
    with server_on_port(home, port) as url:
        run = ridgeline.start_run(project="outage", tracking_uri=url)
        for _ in range(300):
            run.log_metric("loss", 1.0)
        assert run.flush(timeout=10)
    for _ in range(300):  # the server is gone
        run.log_metric("loss", 2.0)
    run.log_param("during", "outage")
    with server_on_port(home, port):
        for _ in range(300):
            run.log_metric("loss", 3.0)
        run.finish()
        with ridgeline.Client(url) as client:
            record = client.get_run(run.id)
            history = client.get_metric_history(run.id, "loss")
    assert record.status is ridgeline.RunStatus.FINISHED
    assert record.params == {"during": "outage"}
    assert [int(s) for s in history.steps] == list(range(900))
    assert [float(v) for v in history.values] == [1.0] * 300 + [2.0] * 300 + [3.0] * 300


def test_lost_answers_are_retried_without_applying_anything_twice(tracking_uri: str) -> None:
    """The backend applies a call, then the answer is lost; the retry carries the same ids and changes nothing."""
    settings = Settings.load()
    flaky = FlakyBackend(backend_for(tracking_uri, settings))
    run_id, project, name = new_id(), "flaky", "lossy-link"
    create = {
        "project": project,
        "run_id": run_id,
        "name": name,
        "user": "tester",
        "start_time": now_ms(),
        "parent_run_id": None,
    }
    flaky.lost_creates = 1  # the deferred create_run is applied, its answer lost
    flaky.lost_batches = 1  # and so is the first batch's
    run = Run(flaky, run_id, name, project, settings, create_fields=create)
    run.log_params({"lr": 0.1})
    run.set_tags({"t": "1"})
    for step in range(500):
        run.log_metric("loss", float(step))
    assert run.flush(timeout=15)
    flaky.lost_batches = 1  # once more, for a batch of metric points alone
    for step in range(500, 700):
        run.log_metric("loss", float(step))
    run.finish()

    assert flaky.create_attempts == 2
    assert len(flaky.batch_ids) - len(set(flaky.batch_ids)) == 2, "each lost batch is retried, under the same id"
    with ridgeline.Client(tracking_uri) as client:
        record = client.get_run(run_id)
        history = client.get_metric_history(run_id, "loss")
    assert record.status is ridgeline.RunStatus.FINISHED
    assert record.name == name
    assert record.params == {"lr": "0.1"} and record.tags == {"t": "1"}
    assert len(history) == 700, "a retried batch was applied twice"
    assert [int(s) for s in history.steps] == list(range(700))


def test_memory_is_bounded_while_neither_backend_nor_spool_takes_data(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the backend down the sender moves data to the disk spool; when the disk refuses too (here the spool
    folder would be inside a plain file), data stays in memory, up to the bound."""
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("RIDGELINE_SPOOL_DIR", str(tmp_path / "not-a-folder" / "spool"))
    monkeypatch.setenv("RIDGELINE_MAX_BUFFERED_POINTS", "1000")
    settings = Settings.load()
    assert settings.max_buffered_points == 1000
    flaky = FlakyBackend(backend_for(str(home), settings))
    run_id = new_id()
    flaky.create_run("bounded", run_id, "bounded", "", now_ms(), None)
    flaky.down.set()
    run = Run(flaky, run_id, "bounded", "bounded", settings)
    try:
        first = _logging_thread(lambda: [run.log_metric("x", float(i)) for i in range(1000)])
        first.join(timeout=10)
        assert not first.is_alive(), "the first max_buffered_points points must be accepted at once"

        extra = _logging_thread(run.log_metric, "x", 1000.0)
        extra.join(timeout=0.5)
        assert extra.is_alive(), "point 1001 was accepted while 1000 points wait undelivered"

        flaky.down.clear()
        extra.join(timeout=15)
        assert not extra.is_alive(), "logging stayed blocked after the backend came back"
    finally:
        flaky.down.clear()
        run.finish()
    with ridgeline.Client(str(home)) as client:
        history = client.get_metric_history(run_id, "x")
    assert [int(s) for s in history.steps] == list(range(1001))


_SCRIPT = textwrap.dedent(
    """
    import sys
    import ridgeline

    run = ridgeline.start_run(project="exit", config={"lr": 0.1}, tracking_uri=sys.argv[1])
    for step in range(5000):
        run.log_metric("loss", float(step))
    run.set_tag("last", "tag")
    print(run.id, flush=True)
    if sys.argv[2] == "crash":
        raise RuntimeError("boom")
    """
)


@pytest.mark.parametrize(
    ("ending", "status"), [("normal", ridgeline.RunStatus.FINISHED), ("crash", ridgeline.RunStatus.FAILED)]
)
def test_interpreter_exit_closes_the_open_run(
    tracking_uri: str, tmp_path: Path, ending: str, status: ridgeline.RunStatus
) -> None:
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT)
    # A long interval: nothing is sent before exit, so exit itself must deliver everything.
    env = {**os.environ, "RIDGELINE_FLUSH_INTERVAL": "60"}
    done = subprocess.run(
        [sys.executable, str(script), tracking_uri, ending], capture_output=True, text=True, env=env, timeout=60
    )
    if ending == "crash":
        assert done.returncode == 1
        assert "RuntimeError: boom" in done.stderr
    else:
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    run_id = done.stdout.strip()
    with ridgeline.Client(tracking_uri) as client:
        record = client.get_run(run_id)
        history = client.get_metric_history(run_id, "loss")
    assert record.status is status
    assert record.end_time is not None
    assert record.params == {"lr": "0.1"} and record.tags == {"last": "tag"}
    assert len(history) == 5000
