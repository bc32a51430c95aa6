"""A run's life through the public SDK: start, log, finish (or fail, or be killed), read back, resume."""

from __future__ import annotations

import gc
import math
import warnings

import pytest

import ridgeline
from ridgeline.domain.errors import Conflict, InvalidArgument, NotFound


def _read(tracking_uri: str, run_id: str) -> ridgeline.RunRecord:
    with ridgeline.Client(tracking_uri) as client:
        return client.get_run(run_id)


def _steps(history: ridgeline.MetricHistory) -> list[int]:
    return [int(step) for step in history.steps]


def test_context_manager_run_is_read_back_complete(tracking_uri: str) -> None:
    config = {"model": "rf", "optimizer": {"lr": 0.1, "betas": {"b1": 0.9}}, "epochs": 3, "flag": True}
    with ridgeline.start_run(
        project="vision", name="baseline", config=config, tags={"team": "cv"}, tracking_uri=tracking_uri
    ) as run:
        assert isinstance(run, ridgeline.Run)
        for epoch in range(10):
            run.log_metric("loss", 1.0 / (epoch + 1))
        run.log_metrics({"acc": 0.9, "f1": 0.8}, step=7)
        run.set_tag("stage", "final")

    record = _read(tracking_uri, run.id)
    assert isinstance(record, ridgeline.RunRecord)
    assert record.id == run.id
    assert record.name == "baseline"
    assert record.status is ridgeline.RunStatus.FINISHED
    assert record.end_time is not None and record.end_time >= record.start_time
    assert record.params == {
        "model": "rf",
        "optimizer.lr": "0.1",
        "optimizer.betas.b1": "0.9",
        "epochs": "3",
        "flag": "True",
    }
    assert record.tags == {"team": "cv", "stage": "final"}
    assert record.metrics == {"loss": pytest.approx(0.1), "acc": 0.9, "f1": 0.8}
    assert record.latest_metrics["loss"].step == 9
    assert record.latest_metrics["acc"].step == 7


def test_search_runs_and_metric_history(tracking_uri: str) -> None:
    ids = {}
    for model, acc in (("rf", 0.7), ("gbm", 0.95), ("lr", 0.85)):
        with ridgeline.start_run(project="search", config={"model": model}, tracking_uri=tracking_uri) as run:
            run.log_metric("acc", acc)
            for step in range(100):
                run.log_metric("loss", 100.0 - step)
        ids[model] = run.id
    with ridgeline.start_run(project="elsewhere", tracking_uri=tracking_uri) as other:
        other.log_metric("acc", 0.99)

    with ridgeline.Client(tracking_uri) as client:
        page = client.search_runs("search")
        assert isinstance(page, ridgeline.RunPage)
        assert {r.id for r in page} == set(ids.values())
        assert page.next_cursor is None

        good = client.search_runs("search", filter="metrics.acc > 0.8", order_by="metrics.acc desc")
        assert [r.id for r in good] == [ids["gbm"], ids["lr"]]
        assert [r.id for r in client.search_runs("search", filter="params.model = 'rf'")] == [ids["rf"]]

        first = client.search_runs("search", order_by=["metrics.acc"], limit=2)
        assert [r.id for r in first] == [ids["rf"], ids["lr"]]
        assert first.next_cursor is not None
        rest = client.search_runs("search", order_by=["metrics.acc"], limit=2, cursor=first.next_cursor)
        assert [r.id for r in rest] == [ids["gbm"]]

        history = client.get_metric_history(ids["rf"], "loss")
        assert isinstance(history, ridgeline.MetricHistory)
        assert len(history) == 100 and history.total == 100 and not history.downsampled
        assert _steps(history) == list(range(100))
        assert [float(x) for x in history.values] == [100.0 - s for s in range(100)]
        points = list(history)
        assert points[3].step == 3 and points[3].value == 97.0 and points[3].timestamp > 0

        window = client.get_metric_history(ids["rf"], "loss", min_step=10, max_step=19)
        assert _steps(window) == list(range(10, 20))
        assert client.get_metric_history(ids["rf"], "loss", min_step=95).total == 5
        assert _steps(client.get_metric_history(ids["rf"], "loss", max_step=2)) == [0, 1, 2]

        small = client.get_metric_history(ids["rf"], "loss", points=10)
        assert small.downsampled and small.total == 100
        assert 3 <= len(small) <= 10
        steps = _steps(small)
        assert steps == sorted(set(steps)) and steps[0] == 0 and steps[-1] == 99

        assert len(client.get_metric_history(ids["rf"], "never-logged")) == 0
        with pytest.raises(NotFound):
            client.search_runs("no-such-project")
        with pytest.raises(NotFound):
            client.get_run("0" * 32)


def test_plain_call_finish_killed_twice_then_logging_conflicts(tracking_uri: str) -> None:
    run = ridgeline.start_run(project="plain", tracking_uri=tracking_uri)
    run.log_metric("x", 1.0)
    run.finish(status="KILLED")
    assert run.finished
    run.finish(status="KILLED")
    run.finish()  # a second finish, even with another status, changes nothing
    record = _read(tracking_uri, run.id)
    assert record.status is ridgeline.RunStatus.KILLED
    assert record.metrics == {"x": 1.0}

    with pytest.raises(Conflict):
        run.log_metric("x", 2.0)
    with pytest.raises(Conflict):
        run.log_metrics({"y": 2.0})
    assert _read(tracking_uri, run.id).metrics == {"x": 1.0}


def test_finish_rejects_a_non_terminal_status(tracking_uri: str) -> None:
    run = ridgeline.start_run(project="plain", tracking_uri=tracking_uri)
    with pytest.raises(InvalidArgument):
        run.finish(status="RUNNING")
    run.finish(status=ridgeline.RunStatus.FAILED)
    assert _read(tracking_uri, run.id).status is ridgeline.RunStatus.FAILED


def test_exception_inside_with_fails_the_run_and_propagates(tracking_uri: str) -> None:
    with pytest.raises(ZeroDivisionError), ridgeline.start_run(project="crash", tracking_uri=tracking_uri) as run:
        run.log_metric("loss", 0.5)
        _ = 1 / 0
    record = _read(tracking_uri, run.id)
    assert record.status is ridgeline.RunStatus.FAILED
    assert record.metrics == {"loss": 0.5}
    assert record.end_time is not None


def test_keyboard_interrupt_inside_with_kills_the_run(tracking_uri: str) -> None:
    with pytest.raises(KeyboardInterrupt), ridgeline.start_run(project="crash", tracking_uri=tracking_uri) as run:
        run.log_metric("loss", 0.25)
        raise KeyboardInterrupt
    record = _read(tracking_uri, run.id)
    assert record.status is ridgeline.RunStatus.KILLED
    assert record.metrics == {"loss": 0.25}


def test_changing_a_param_conflicts_at_once(tracking_uri: str) -> None:
    with ridgeline.start_run(project="params", config={"lr": 0.1}, tracking_uri=tracking_uri) as run:
        run.log_params({"lr": 0.1, "batch": 32})  # the same value again is fine
        run.log_param("batch", "32")  # its text is what counts
        with pytest.raises(Conflict) as caught:
            run.log_param("lr", 0.2)
        assert caught.value.field == "params.lr"
        with pytest.raises(Conflict):
            run.log_params({"new": 1, "batch": 64})
        run.log_metric("after", 1.0)
    record = _read(tracking_uri, run.id)
    assert record.params == {"lr": "0.1", "batch": "32"}
    assert record.metrics == {"after": 1.0}
    assert record.status is ridgeline.RunStatus.FINISHED


def test_resume_continues_steps_and_keeps_params(tracking_uri: str) -> None:
    with ridgeline.start_run(project="resume", config={"lr": 0.1}, tracking_uri=tracking_uri) as first:
        for _ in range(5):
            first.log_metric("loss", 1.0)
        first.log_metric("acc", 0.5, step=41)
    assert _read(tracking_uri, first.id).status is ridgeline.RunStatus.FINISHED

    again = ridgeline.start_run(run_id=first.id, tracking_uri=tracking_uri)
    try:
        assert again.id == first.id and again.name == first.name
        running = _read(tracking_uri, first.id)
        assert running.status is ridgeline.RunStatus.RUNNING
        assert running.end_time is None
        again.log_param("lr", 0.1)
        with pytest.raises(Conflict):
            again.log_param("lr", 0.5)
        for _ in range(3):
            again.log_metric("loss", 2.0)
        again.log_metric("acc", 0.6)
        again.log_metric("fresh", 3.0)
    finally:
        again.finish()

    with ridgeline.Client(tracking_uri) as client:
        record = client.get_run(first.id)
        assert record.status is ridgeline.RunStatus.FINISHED
        assert _steps(client.get_metric_history(first.id, "loss")) == list(range(8))
        assert _steps(client.get_metric_history(first.id, "acc")) == [41, 42]
        assert _steps(client.get_metric_history(first.id, "fresh")) == [0]
    assert record.params == {"lr": "0.1"}


def test_resumed_run_reports_its_own_project(tracking_uri: str) -> None:
    with ridgeline.start_run(project="resume-project", tracking_uri=tracking_uri) as first:
        first.log_metric("x", 1.0)
    again = ridgeline.start_run(run_id=first.id, tracking_uri=tracking_uri)
    again.finish()
    assert again.project == "resume-project"


def test_resume_of_unknown_run_fails_cleanly(tracking_uri: str) -> None:
    """The error names the problem, and the connection opened to look the run up is not left behind."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(NotFound):
            ridgeline.start_run(run_id="f" * 32, tracking_uri=tracking_uri)
        with pytest.raises(InvalidArgument):
            ridgeline.start_run(run_id="not-an-id", tracking_uri=tracking_uri)
        gc.collect()
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaked == []


def test_non_finite_values_survive_the_round_trip(tracking_uri: str) -> None:
    with ridgeline.start_run(project="nan", tracking_uri=tracking_uri) as run:
        run.log_metric("weird", math.nan)
        run.log_metric("weird", math.inf)
        run.log_metric("weird", -math.inf)
        run.log_metric("weird", -0.0)
        run.log_metric("last_nan", math.nan)
    with ridgeline.Client(tracking_uri) as client:
        values = [float(x) for x in client.get_metric_history(run.id, "weird").values]
        record = client.get_run(run.id)
    assert math.isnan(values[0])
    assert values[1:3] == [math.inf, -math.inf]
    assert values[3] == 0.0
    assert record.metrics["weird"] == 0.0
    assert math.isnan(record.metrics["last_nan"])
