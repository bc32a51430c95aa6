"""What logging calls accept, what they refuse at the call, and what arrives."""

from __future__ import annotations

import time

import numpy as np
import pytest

import ridgeline
from ridgeline.domain.errors import InvalidArgument


def _history(tracking_uri: str, run_id: str, key: str) -> list[tuple[int, float, int]]:
    with ridgeline.Client(tracking_uri) as client:
        return [(p.step, p.value, p.timestamp) for p in client.get_metric_history(run_id, key)]


def _steps(tracking_uri: str, run_id: str, key: str) -> list[int]:
    return [step for step, _, _ in _history(tracking_uri, run_id, key)]


def test_default_steps_count_per_key_and_explicit_steps_move_them(tracking_uri: str) -> None:
    with ridgeline.start_run(project="steps", tracking_uri=tracking_uri) as run:
        run.log_metric("a", 1.0)
        run.log_metric("a", 2.0)
        run.log_metric("b", 10.0)
        run.log_metric("a", 3.0)
        run.log_metric("c", 1.0, step=10)
        run.log_metric("c", 2.0)  # 11: one past the last explicit step
        run.log_metric("c", 3.0, step=5)  # going back is allowed...
        run.log_metric("c", 4.0)  # ...and the next default step follows it: 6
        run.log_metric("neg", 0.0, step=-3)
        run.log_metric("neg", 0.0)
    assert _steps(tracking_uri, run.id, "a") == [0, 1, 2]
    assert _steps(tracking_uri, run.id, "b") == [0]
    assert sorted(_steps(tracking_uri, run.id, "c")) == [5, 6, 10, 11]
    assert _steps(tracking_uri, run.id, "neg") == [-3, -2]


def test_log_metrics_shares_a_step_or_uses_each_keys_own(tracking_uri: str) -> None:
    with ridgeline.start_run(project="steps", tracking_uri=tracking_uri) as run:
        run.log_metric("loss", 1.0)
        run.log_metrics({"loss": 0.5, "acc": 0.1})  # loss -> 1, acc -> 0
        run.log_metrics({"loss": 0.25, "acc": 0.2}, step=100)
        run.log_metrics({"loss": 0.125, "acc": 0.3})  # both continue at 101
    assert _history(tracking_uri, run.id, "loss")[-1][:2] == (101, 0.125)
    assert _steps(tracking_uri, run.id, "loss") == [0, 1, 100, 101]
    assert _steps(tracking_uri, run.id, "acc") == [0, 100, 101]
    # One log_metrics call stamps all its points with the same time.
    stamps = {t for s, _, t in _history(tracking_uri, run.id, "loss") if s == 100}
    assert stamps == {t for s, _, t in _history(tracking_uri, run.id, "acc") if s == 100}


def test_timestamps_default_to_now_and_explicit_ones_are_kept(tracking_uri: str) -> None:
    before = time.time_ns() // 1_000_000
    with ridgeline.start_run(project="time", tracking_uri=tracking_uri) as run:
        run.log_metric("auto", 1.0)
        run.log_metric("fixed", 1.0, timestamp=1_600_000_000_123)
        run.log_metrics({"fixed2": 2.0}, timestamp=1_500_000_000_000)
    after = time.time_ns() // 1_000_000
    [(_, _, stamp)] = _history(tracking_uri, run.id, "auto")
    assert before <= stamp <= after
    assert _history(tracking_uri, run.id, "fixed") == [(0, 1.0, 1_600_000_000_123)]
    assert _history(tracking_uri, run.id, "fixed2") == [(0, 2.0, 1_500_000_000_000)]


def test_numbers_of_every_kind_are_accepted(tracking_uri: str) -> None:
    with ridgeline.start_run(project="numbers", tracking_uri=tracking_uri) as run:
        run.log_metric("int", 3)
        run.log_metric("np64", np.float64(0.5), step=np.int64(7))
        run.log_metric("np32", np.float32(0.25), step=np.int32(2))
        run.log_metric("big", 1e308)
        run.log_metric("extreme_steps", 1.0, step=2**63 - 1)
        run.log_metric("extreme_steps", 2.0, step=-(2**63))
    assert _history(tracking_uri, run.id, "int")[0][:2] == (0, 3.0)
    assert _history(tracking_uri, run.id, "np64")[0][:2] == (7, 0.5)
    assert _history(tracking_uri, run.id, "np32")[0][:2] == (2, 0.25)
    assert _history(tracking_uri, run.id, "big")[0][1] == 1e308
    assert sorted(_steps(tracking_uri, run.id, "extreme_steps")) == [-(2**63), 2**63 - 1]


def _refused(call: object, *args: object, **kwargs: object) -> InvalidArgument:
    assert callable(call)
    with pytest.raises(InvalidArgument) as caught:
        call(*args, **kwargs)
    assert isinstance(caught.value, ValueError)
    assert caught.value.field
    return caught.value


def test_bad_values_are_refused_at_the_call_and_the_rest_still_arrives(tracking_uri: str) -> None:
    run = ridgeline.start_run(project="validation", tracking_uri=tracking_uri)
    try:
        run.log_metric("good", 1.0)
        run.log_param("kept", "yes")

        err = _refused(run.log_metric, "bad key!", 1.0)
        assert "metric key" in err.field and "bad key!" in err.message
        assert "metric key" in _refused(run.log_metric, "", 1.0).field
        assert "metric key" in _refused(run.log_metric, " padded", 1.0).field
        assert "metric key" in _refused(run.log_metric, "k" * 251, 1.0).field
        assert "metric key" in _refused(run.log_metric, 5, 1.0).field
        assert "good" in _refused(run.log_metric, "good", "1.0").field
        assert "good" in _refused(run.log_metric, "good", True).field
        assert "good" in _refused(run.log_metric, "good", None).field
        assert "step" in _refused(run.log_metric, "good", 1.0, step=1.5).field
        assert "step" in _refused(run.log_metric, "good", 1.0, step=2**63).field
        assert "step" in _refused(run.log_metric, "good", 1.0, step=-(2**63) - 1).field
        assert "step" in _refused(run.log_metric, "good", 1.0, step=True).field
        assert "timestamp" in _refused(run.log_metric, "good", 1.0, timestamp=-1).field
        assert "timestamp" in _refused(run.log_metric, "good", 1.0, timestamp=1.5e12).field
        assert "timestamp" in _refused(run.log_metric, "good", 1.0, timestamp=time.time_ns()).field
        assert "metrics" in _refused(run.log_metrics, [("good", 1.0)]).field

        run.log_params({"max_depth": None})  # None is a real setting (sklearn's max_depth=None): kept as "None"
        assert "p" in _refused(run.log_param, "p", "x" * 6001).field
        assert "param key" in _refused(run.log_params, {"bad/key?": 1}).field
        assert "NUL" in _refused(run.log_param, "p", "a\x00b").message
        assert "t" in _refused(run.set_tag, "t", "x" * 8001).field
        assert "tags" in _refused(run.set_tags, ["t"]).field

        run.log_metric("good", 2.0)
        run.log_param("long_but_fine", "x" * 6000)
        run.set_tag("ok", "y" * 8000)
    finally:
        run.finish()

    with ridgeline.Client(tracking_uri) as client:
        record = client.get_run(run.id)
    assert record.status is ridgeline.RunStatus.FINISHED
    assert [(s, v) for s, v, _ in _history(tracking_uri, run.id, "good")] == [(0, 1.0), (1, 2.0)]
    assert record.params == {"kept": "yes", "max_depth": "None", "long_but_fine": "x" * 6000}
    assert record.tags == {"ok": "y" * 8000}
    assert set(record.metrics) == {"good"}


def test_bad_project_or_run_name_is_refused(tracking_uri: str) -> None:
    assert _refused(ridgeline.start_run, project="", tracking_uri=tracking_uri).field == "project"
    assert _refused(ridgeline.start_run, project=" x", tracking_uri=tracking_uri).field == "project"
    assert _refused(ridgeline.start_run, project="p", name="n\n", tracking_uri=tracking_uri).field == "name"
