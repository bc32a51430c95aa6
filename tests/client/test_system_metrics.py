"""The system-metrics sampler on real runs: system/* metrics at the configured interval, stopped at finish."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

import pytest

import ridgeline
from ridgeline.client.system_metrics import SystemSampler

CORE_KEYS = {
    "system/cpu_percent",
    "system/memory_percent",
    "system/memory_used_mib",
    "system/process_cpu_percent",
    "system/process_memory_rss_mib",
    "system/process_memory_percent",
}


def _metrics(home: Path, run_id: str) -> dict[str, list[int]]:
    """Steps of every system/* metric of a run."""
    with ridgeline.Client(str(home)) as client:
        run = client.get_run(run_id)
        return {
            key: [int(step) for step in client.get_metric_history(run_id, key).steps]
            for key in run.metrics
            if key.startswith("system/")
        }


def _wait_for_samples(home: Path, run: ridgeline.Run, count: int) -> None:
    """Wait until ``count`` samples of the run are delivered (within a generous bound)."""
    deadline = time.monotonic() + 30
    with ridgeline.Client(str(home)) as client:
        while time.monotonic() < deadline:
            latest = client.get_run(run.id).latest_metrics.get("system/cpu_percent")
            if latest is not None and latest.step >= count - 1:
                return
            time.sleep(0.05)
    raise AssertionError(f"fewer than {count} samples delivered in 30 s")


def test_samples_are_logged_at_the_interval_and_stop_at_finish(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIDGELINE_SYSTEM_METRICS_INTERVAL", "0.05")
    run = ridgeline.start_run(project="sys", capture="system", tracking_uri=str(home))
    _wait_for_samples(home, run, 4)
    run.finish()
    history = _metrics(home, run.id)
    assert set(history) >= CORE_KEYS
    steps = history["system/cpu_percent"]
    assert steps == list(range(len(steps)))  # step = sample number, none missing
    assert all(history[key] == steps for key in CORE_KEYS)  # one sample: every key at the same step
    time.sleep(0.3)
    assert _metrics(home, run.id)["system/cpu_percent"] == steps  # nothing after finish
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("ridgeline-system")]

    with ridgeline.Client(str(home)) as client:
        record = client.get_run(run.id)
    assert 0 <= record.metrics["system/memory_percent"] <= 100
    assert record.metrics["system/process_memory_rss_mib"] > 1


def test_resumed_run_continues_the_sample_numbers(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIDGELINE_SYSTEM_METRICS_INTERVAL", "0.05")
    run = ridgeline.start_run(project="sys", capture="system", tracking_uri=str(home))
    _wait_for_samples(home, run, 2)
    run.finish()
    before = _metrics(home, run.id)["system/cpu_percent"]
    again = ridgeline.start_run(run_id=run.id, capture="system", tracking_uri=str(home))
    _wait_for_samples(home, again, len(before) + 2)
    again.finish()
    steps = _metrics(home, run.id)["system/cpu_percent"]
    assert steps == list(range(len(steps))) and len(steps) >= len(before) + 2


def test_interval_zero_turns_sampling_off(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIDGELINE_SYSTEM_METRICS_INTERVAL", "0")
    with ridgeline.start_run(project="sys", capture="system", tracking_uri=str(home)) as run:
        time.sleep(0.2)
    assert _metrics(home, run.id) == {}


def test_without_psutil_the_run_goes_on(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("RIDGELINE_SYSTEM_METRICS_INTERVAL", "0.05")
    monkeypatch.setitem(sys.modules, "psutil", None)  # as if it were not installed: importing it fails
    with (
        caplog.at_level(logging.WARNING, logger="ridgeline"),
        ridgeline.start_run(project="sys", capture="system,python", tracking_uri=str(home)) as run,
    ):
        run.log_metric("loss", 1.0)
        time.sleep(0.15)
    assert _metrics(home, run.id) == {}
    assert any("system metrics skipped" in record.getMessage() for record in caplog.records)
    with ridgeline.Client(str(home)) as client:
        record = client.get_run(run.id)
    assert record.status is ridgeline.RunStatus.FINISHED
    assert record.metrics == {"loss": 1.0}


def test_one_sample_measures_io_rates() -> None:
    sampler = SystemSampler()
    try:
        time.sleep(0.05)
        values = sampler.sample()
    finally:
        sampler.close()
    assert set(values) >= CORE_KEYS
    rates = [key for key in values if key.endswith("_per_s")]
    assert all(values[key] >= 0 for key in rates)
    assert all(isinstance(value, float) for value in values.values())
