"""Fault tests with real processes and real servers: a training script in a subprocess logs without pause while
the server restarts, the network misbehaves, or the script is SIGKILLed. Every test ends by counting the points
per key through ``ridgeline.Client``: none missing (beyond the documented SIGKILL bound), none duplicated."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sdk_testkit import FlakyBackend, server_on_port

import ridgeline
from ridgeline.client.resolve import backend_for
from ridgeline.client.run import Run
from ridgeline.config import Settings
from ridgeline.domain.entities import MetricHistory
from ridgeline.domain.ids import new_id, now_ms
from support.proxy import FaultyProxy
from support.servers import free_port

# Logs "loss" at steps 0, 1, 2, … (one point about every millisecond) until the stop file appears, then finishes.
_TRAIN = textwrap.dedent(
    """
    import os, sys, time
    import ridgeline

    uri, stop_file = sys.argv[1], sys.argv[2]
    run = ridgeline.start_run(project="faults", config={"lr": 0.1}, tracking_uri=uri or None)
    print("run", run.id, flush=True)
    step = 0
    while not os.path.exists(stop_file):
        run.log_metric("loss", float(step))
        step += 1
        if step % 50 == 0:
            print("step", step, flush=True)
        time.sleep(0.001)
    run.set_tag("end", "reached")
    run.finish()
    print("done", step, flush=True)
    """
)


class Trainer:
    """The training script in a subprocess; its progress read from its output."""

    def __init__(self, tmp_path: Path, uri: str, **env: str) -> None:
        script = tmp_path / "train.py"
        script.write_text(_TRAIN)
        self.stop_file = tmp_path / f"stop-{new_id()}"
        self.process = subprocess.Popen(
            [sys.executable, str(script), uri, str(self.stop_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        assert self.process.stdout is not None
        self._out = self.process.stdout
        first = self._out.readline().split()
        assert first and first[0] == "run", self._failure()
        self.run_id = first[1]
        self.logged = 0

    def _failure(self) -> str:
        self.process.kill()
        return self.process.communicate()[1]

    def wait_for_step(self, step: int) -> None:
        while self.logged < step:
            words = self._out.readline().split()
            assert words and words[0] == "step", self._failure()
            self.logged = int(words[1])

    def finish(self, timeout: float = 60) -> int:
        """Let the script end its run; returns how many points it logged."""
        self.stop_file.touch()
        out, err = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, err
        return int(out.split()[-1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"RIDGELINE_SPOOL_DIR": str(tmp_path / "spool"), "RIDGELINE_FLUSH_INTERVAL": "0.1", **extra}


def _exactly_once(url: str, run_id: str, count: int | None = None) -> MetricHistory:
    """Every step 0..n-1 of "loss" once (n = ``count`` when given): nothing missing, nothing duplicated."""
    with ridgeline.Client(url) as client:
        history = client.get_metric_history(run_id, "loss")
    steps = [int(step) for step in history.steps]
    assert len(steps) == len(set(steps)), f"{len(steps) - len(set(steps))} points duplicated"
    expected = len(steps) if count is None else count
    assert steps == list(range(expected)), f"{expected - len(steps)} points missing"
    assert [float(value) for value in history.values] == [float(step) for step in steps]
    return history


def _sync(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("ridgeline")), "sync", "--spool-dir", str(tmp_path / "spool")]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60, env=os.environ.copy())


def test_server_restart_mid_run_loses_and_duplicates_nothing(home: Path, tmp_path: Path) -> None:
    port = free_port()
    with server_on_port(home, port) as url:
        trainer = Trainer(tmp_path, url, **_env(tmp_path))
        trainer.wait_for_step(500)
    # The server is down (same folder, same port come back below); training goes on, the SDK spools.
    trainer.wait_for_step(trainer.logged + 800)
    assert (tmp_path / "spool" / trainer.run_id).is_dir(), "nothing was spooled during the outage"
    with server_on_port(home, port):
        trainer.wait_for_step(trainer.logged + 300)
        logged = trainer.finish()
        _exactly_once(url, trainer.run_id, logged)
        with ridgeline.Client(url) as client:
            record = client.get_run(trainer.run_id)
    assert record.status is ridgeline.RunStatus.FINISHED
    assert record.params == {"lr": "0.1"} and record.tags == {"end": "reached"}
    assert not (tmp_path / "spool" / trainer.run_id).exists(), "the spool is removed once delivered"


_FAULTS = ("503", "drop", "lose_answer", "502", "delay")


def _wait_until(condition: Callable[[], bool], message: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.02)


def test_faulty_network_loses_and_duplicates_nothing(home: Path, tmp_path: Path) -> None:
    with server_on_port(home, free_port()) as url, FaultyProxy(int(url.rsplit(":", 1)[1]), delay=1.5) as proxy:
        # A one-second client timeout, so the proxy's 1.5 s delay makes requests that time out and still arrive.
        trainer = Trainer(tmp_path, proxy.url, **_env(tmp_path, RIDGELINE_HTTP_TIMEOUT="1"))
        trainer.wait_for_step(200)
        spool = tmp_path / "spool" / trainer.run_id
        for mode in _FAULTS:
            proxy.mode = mode
            _wait_until(lambda: proxy.hits[mode] > 0, f"no request met {mode}")  # noqa: B023 (called at once)
            proxy.mode = "pass"
            _wait_until(lambda: not spool.exists(), f"the spool was not delivered after {mode}")
            trainer.wait_for_step(trainer.logged + 100)
        logged = trainer.finish()
        _exactly_once(url, trainer.run_id, logged)
        with ridgeline.Client(url) as client:
            assert client.get_run(trainer.run_id).status is ridgeline.RunStatus.FINISHED


# The bound documented in docs/sdk.md: data logged within about one flush interval (0.5 s) before a SIGKILL may be
# lost. The assertion leaves room for a loaded test machine; the figure measured is printed.
_FLUSH_INTERVAL_S = 0.5
_SIGKILL_ALLOWANCE_S = 1.0


@pytest.mark.parametrize("delivery", ["sync", "next-process", "server-up"])
def test_sigkill_loses_at_most_the_last_interval(home: Path, tmp_path: Path, delivery: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(tmp_path, RIDGELINE_FLUSH_INTERVAL=str(_FLUSH_INTERVAL_S))
    if delivery == "server-up":
        server = server_on_port(home, port)
        server.__enter__()
    trainer = Trainer(tmp_path, url, **env)
    trainer.wait_for_step(1500)
    killed_at = now_ms()
    trainer.process.send_signal(signal.SIGKILL)
    trainer.process.communicate(timeout=10)

    if delivery != "server-up":
        server = server_on_port(home, port)
        server.__enter__()
    try:
        if delivery == "sync":
            done = _sync(tmp_path)
            assert done.returncode == 0, done.stderr
            assert "1 of 1 runs synced" in done.stdout
        elif delivery == "next-process":
            # Any new run delivers what dead processes left in the spool, in the background, while it trains.
            newer = Trainer(tmp_path, url, **env)
            _wait_until(lambda: not (tmp_path / "spool" / trainer.run_id).exists(), "the next run did not deliver")
            newer.finish()
        history = _exactly_once(url, trainer.run_id)
        with ridgeline.Client(url) as client:
            status = client.get_run(trainer.run_id).status
    finally:
        server.__exit__(None, None, None)
    lost_s = (killed_at - int(history.timestamps[-1])) / 1000
    print(f"\nSIGKILL ({delivery}): {len(history)} points delivered, last one logged {lost_s:.3f} s before the kill")
    assert len(history) >= trainer.logged - 1500 * _SIGKILL_ALLOWANCE_S  # at least most of what was printed
    assert lost_s <= _FLUSH_INTERVAL_S + _SIGKILL_ALLOWANCE_S
    if delivery != "server-up":
        assert status is ridgeline.RunStatus.KILLED, "a spooled run whose process died ends as KILLED"
        assert not any((tmp_path / "spool").iterdir())


def test_offline_run_synced_twice_arrives_exactly_once(home: Path, tmp_path: Path) -> None:
    trainer = Trainer(tmp_path, "", **_env(tmp_path, RIDGELINE_MODE="offline"))
    trainer.wait_for_step(500)
    logged = trainer.finish()
    spool = tmp_path / "spool" / trainer.run_id
    assert spool.is_dir() and not (home / "ridgeline.db").exists(), "offline must not write anywhere else"
    shutil.copytree(spool, tmp_path / "copy")

    with server_on_port(home, free_port()) as url:
        first = _sync(tmp_path, "--tracking-uri", url)
        assert first.returncode == 0, first.stderr
        assert "1 of 1 runs synced" in first.stdout
        second = _sync(tmp_path, "--tracking-uri", url)
        assert second.returncode == 0 and "Nothing to sync" in second.stdout
        # As if the first sync had crashed after the server applied everything but before the spool was emptied.
        shutil.copytree(tmp_path / "copy", spool)
        again = _sync(tmp_path, "--tracking-uri", url)
        assert again.returncode == 0 and "1 of 1 runs synced" in again.stdout, again.stderr
        _exactly_once(url, trainer.run_id, logged)
        with ridgeline.Client(url) as client:
            record = client.get_run(trainer.run_id)
            assert [run.id for run in client.search_runs("faults")] == [trainer.run_id]
    assert record.status is ridgeline.RunStatus.FINISHED
    assert record.params == {"lr": "0.1"} and record.tags == {"end": "reached"}


def test_spooled_batches_whose_answers_are_lost_are_applied_once(home: Path, tmp_path: Path) -> None:
    """Batches wait in the spool during an outage; then the backend applies them but the answers are lost, so the
    spool sends them again under the same ids."""
    settings = Settings.load(spool_dir=tmp_path / "spool")
    flaky = FlakyBackend(backend_for(str(home), settings))
    run_id = new_id()
    create = {
        "project": "flaky",
        "run_id": run_id,
        "name": "lossy",
        "user": "",
        "start_time": now_ms(),
        "parent_run_id": None,
    }
    flaky.down.set()
    run = Run(flaky, run_id, "lossy", "flaky", settings, create_fields=create)
    for step in range(3000):
        run.log_metric("loss", float(step))
        if step % 1000 == 999:
            time.sleep(0.2)  # several intervals: several spooled batches
    assert not run.flush(timeout=0.5)
    assert (tmp_path / "spool" / run_id).is_dir()
    flaky.lost_creates = 1
    flaky.lost_batches = 3
    flaky.down.clear()
    run.finish()
    assert len(flaky.batch_ids) - len(set(flaky.batch_ids)) >= 3, "lost answers are retried under the same id"
    _exactly_once(str(home), run_id, 3000)
    with ridgeline.Client(str(home)) as client:
        assert client.get_run(run_id).status is ridgeline.RunStatus.FINISHED
