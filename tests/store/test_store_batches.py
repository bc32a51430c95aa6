"""Logging batches: applied exactly once, param conflicts reported while the rest lands, deleted runs refuse."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.errors import Conflict, InvalidArgument, NotFound
from ridgeline.domain.ids import new_id
from ridgeline.services.tracking import TrackingService
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.schema import applied_batches, params, tags

MakeRun = Callable[..., str]


def _batch(
    batch_id: str | None = None,
    *,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    steps: list[int] | None = None,
    key: str = "loss",
) -> LogBatch:
    steps = [0, 1, 2] if steps is None else steps
    series = [MetricSeries(key, steps, [float(s) / 2 for s in steps], [100 + s for s in steps])] if steps else []
    return LogBatch(batch_id or new_id(), params or {}, tags or {}, series)


def test_a_batch_id_is_applied_once(tracking: TrackingService, make_run: MakeRun) -> None:
    run_id = make_run()
    batch = _batch("batch-0001", params={"lr": "0.1"}, tags={"team": "a"}, steps=[0, 1, 2])
    first = tracking.log_batch(run_id, batch)
    assert first.applied and first.conflicts == []
    # A retry of the same batch, and another batch reusing its id, change nothing.
    assert not tracking.log_batch(run_id, batch).applied
    again = _batch("batch-0001", params={"lr": "0.5"}, tags={"team": "b"}, steps=[3, 4])
    outcome = tracking.log_batch(run_id, again)
    assert not outcome.applied and outcome.conflicts == []
    run = tracking.get_run(run_id)
    assert run.params == {"lr": "0.1"}
    assert run.tags == {"team": "a"}
    history = tracking.metric_history(run_id, "loss")
    assert list(history.steps) == [0, 1, 2]
    assert run.latest_metrics["loss"].step == 2
    # A fresh id is applied.
    assert tracking.log_batch(run_id, _batch(steps=[3])).applied
    assert list(tracking.metric_history(run_id, "loss").steps) == [0, 1, 2, 3]


def test_params_and_tags_only_batch(store: MetadataStore, tracking: TrackingService, make_run: MakeRun) -> None:
    run_id = make_run()
    outcome = tracking.log_batch(run_id, _batch(params={"n": "10", "opt": "sgd"}, tags={"x": "1e-3"}, steps=[]))
    assert outcome.applied
    assert tracking.get_run(run_id).params == {"n": "10", "opt": "sgd"}
    with store.database.read() as conn:
        numbers = dict(conn.execute(select(params.c.key, params.c.num_value).where(params.c.run_id == run_id)).all())
        tag_numbers = dict(conn.execute(select(tags.c.key, tags.c.num_value).where(tags.c.run_id == run_id)).all())
    assert numbers == {"n": 10.0, "opt": None}
    assert tag_numbers == {"x": 1e-3}
    assert tracking.metric_keys(run_id) == []


def test_a_param_conflict_is_reported_while_the_rest_lands(tracking: TrackingService, make_run: MakeRun) -> None:
    run_id = make_run()
    assert tracking.log_batch(run_id, _batch(params={"lr": "0.1", "bs": "32"}, steps=[0])).applied
    outcome = tracking.log_batch(
        run_id,
        _batch(params={"lr": "0.2", "bs": "32", "opt": "adam"}, tags={"team": "vision"}, steps=[1, 2]),
    )
    assert outcome.applied
    assert [conflict["field"] for conflict in outcome.conflicts] == ["params.lr"]
    assert "0.1" in outcome.conflicts[0]["message"] and "0.2" in outcome.conflicts[0]["message"]
    run = tracking.get_run(run_id)
    assert run.params == {"lr": "0.1", "bs": "32", "opt": "adam"}
    assert run.tags == {"team": "vision"}
    assert list(tracking.metric_history(run_id, "loss").steps) == [0, 1, 2]
    assert run.metrics == {"loss": 1.0}


def test_tags_take_the_last_value(tracking: TrackingService, make_run: MakeRun) -> None:
    run_id = make_run()
    tracking.log_batch(run_id, _batch(tags={"stage": "1", "keep": "k"}, steps=[]))
    tracking.log_batch(run_id, _batch(tags={"stage": "two"}, steps=[]))
    assert tracking.get_run(run_id).tags == {"stage": "two", "keep": "k"}
    tracking.delete_tag(run_id, "stage")
    assert tracking.get_run(run_id).tags == {"keep": "k"}
    with pytest.raises(NotFound):
        tracking.delete_tag(run_id, "stage")


def test_a_deleted_run_refuses_logging_until_restored(
    store: MetadataStore, tracking: TrackingService, make_run: MakeRun
) -> None:
    run_id = make_run()
    tracking.log_batch(run_id, _batch(steps=[0]))
    assert tracking.delete_runs([run_id]) == 1
    refused = _batch("after-delete-1", params={"p": "1"}, tags={"t": "1"}, steps=[1])
    with pytest.raises(Conflict, match="deleted"):
        tracking.log_batch(run_id, refused)
    # Nothing of the refused batch landed, its id included: once restored, the same batch is applied.
    with store.database.read() as conn:
        claimed = conn.execute(
            select(func.count()).select_from(applied_batches).where(applied_batches.c.batch_id == "after-delete-1")
        ).scalar_one()
    assert claimed == 0
    run = tracking.get_run(run_id)
    assert run.params == {} and run.tags == {}
    assert list(tracking.metric_history(run_id, "loss").steps) == [0]
    tracking.restore_runs([run_id])
    assert tracking.log_batch(run_id, refused).applied
    assert list(tracking.metric_history(run_id, "loss").steps) == [0, 1]


def test_logging_to_an_unknown_run_or_with_a_bad_batch_id(tracking: TrackingService) -> None:
    with pytest.raises(NotFound):
        tracking.log_batch(new_id(), _batch())
    with pytest.raises(InvalidArgument):
        tracking.log_batch("not-an-id", _batch())
    with pytest.raises(InvalidArgument):
        tracking.log_batch(new_id(), _batch("short"))
