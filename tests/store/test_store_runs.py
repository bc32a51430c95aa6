"""Runs: idempotent creation by id, updates and lifecycle, search pages with cursors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ridgeline.domain.entities import LogBatch, MetricSeries, Project, RunStatus
from ridgeline.domain.errors import Conflict, InvalidArgument, NotFound
from ridgeline.domain.ids import new_id
from ridgeline.services.tracking import RunSpec, TrackingService

MakeRun = Callable[..., str]


def _log(tracking: TrackingService, run_id: str, metrics: dict[str, float], params: dict[str, str]) -> None:
    series = [MetricSeries(key, [0], [value], [1]) for key, value in metrics.items()]
    tracking.log_batch(run_id, LogBatch(new_id(), params, {}, series))


def test_create_is_idempotent_by_id(tracking: TrackingService, project: Project) -> None:
    run_id = new_id()
    spec = RunSpec(project_id=project.id, run_id=run_id, name="first", user="ann", start_time=1_700_000_000_000)
    created = tracking.create_run(spec)
    assert (created.id, created.name, created.user, created.status) == (run_id, "first", "ann", RunStatus.RUNNING)
    assert created.start_time == 1_700_000_000_000 and created.end_time is None
    # A retry (even with other fields) returns the run as it was first created.
    again = tracking.create_run(RunSpec(project_id=project.id, run_id=run_id, name="second"))
    assert again == created
    page = tracking.search_runs([project.id])
    assert [run.id for run in page] == [run_id]
    # The same id in another project is a conflict, not a second run.
    other = tracking.create_project("other")
    with pytest.raises(Conflict):
        tracking.create_run(RunSpec(project_id=other.id, run_id=run_id))
    assert len(tracking.search_runs([other.id])) == 0


def test_create_defaults_and_checks(tracking: TrackingService, project: Project) -> None:
    run = tracking.create_run(RunSpec(project_id=project.id))
    assert len(run.id) == 32 and run.name and run.start_time > 0
    child = tracking.create_run(RunSpec(project_id=project.id, parent_run_id=run.id))
    assert child.parent_run_id == run.id
    with pytest.raises(NotFound):
        tracking.create_run(RunSpec(project_id=project.id, parent_run_id=new_id()))
    with pytest.raises(NotFound):
        tracking.create_run(RunSpec(project_id=new_id()))
    with pytest.raises(InvalidArgument):
        tracking.create_run(RunSpec(project_id=project.id, run_id="NOT-HEX"))


def test_update_finish_and_resume(tracking: TrackingService, make_run: MakeRun) -> None:
    run_id = make_run("before")
    updated = tracking.update_run(run_id, name="after", notes="some notes")
    assert (updated.name, updated.notes, updated.status) == ("after", "some notes", RunStatus.RUNNING)
    finished = tracking.finish_run(run_id, "FAILED", end_time=1_800_000_000_000)
    assert finished.status == RunStatus.FAILED and finished.end_time == 1_800_000_000_000
    assert finished.duration_ms == 1_800_000_000_000 - finished.start_time
    resumed = tracking.resume_run(run_id)
    assert resumed.status == RunStatus.RUNNING and resumed.end_time is None
    assert tracking.update_run(run_id, status="killed").status == RunStatus.KILLED
    with pytest.raises(InvalidArgument):
        tracking.update_run(run_id, status="PAUSED")
    with pytest.raises(InvalidArgument):
        tracking.finish_run(run_id, "RUNNING")
    with pytest.raises(NotFound):
        tracking.update_run(new_id(), name="x")
    tracking.delete_runs([run_id])
    with pytest.raises(Conflict):
        tracking.resume_run(run_id)
    assert tracking.get_run(run_id).deleted


def test_search_pages_through_every_run_once_with_a_cursor(tracking: TrackingService, make_run: MakeRun) -> None:
    run_ids = [make_run(f"run-{i:02}", start_time=1_700_000_000_000 + i) for i in range(23)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = tracking.search_runs([tracking.get_run(run_ids[0]).project_id], limit=5, cursor=cursor)
        seen += [run.id for run in page]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 5
    assert seen == run_ids[::-1]  # newest first by default


def test_search_with_filter_order_and_cursor(tracking: TrackingService, project: Project, make_run: MakeRun) -> None:
    run_ids = [make_run(f"r{i}") for i in range(12)]
    for i, run_id in enumerate(run_ids):
        _log(tracking, run_id, {"acc": (i * 7) % 12 / 12}, {"model": "rf" if i % 3 else "svm"})
    expected = sorted(
        (run_id for i, run_id in enumerate(run_ids) if i % 3),
        key=lambda run_id: -tracking.get_run(run_id).metrics["acc"],
    )
    seen: list[str] = []
    cursor = None
    while True:
        page = tracking.search_runs(
            [project.id], filter="params.model = 'rf'", order_by="metrics.acc desc", limit=3, cursor=cursor
        )
        seen += [run.id for run in page]
        assert all(run.params["model"] == "rf" for run in page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    # A cursor only continues the query it came from.
    first = tracking.search_runs([project.id], filter="params.model = 'rf'", order_by="metrics.acc desc", limit=3)
    assert first.next_cursor is not None
    with pytest.raises(InvalidArgument, match="cursor"):
        tracking.search_runs([project.id], filter="params.model = 'svm'", limit=3, cursor=first.next_cursor)
    with pytest.raises(InvalidArgument, match="cursor"):
        tracking.search_runs([project.id], limit=3, cursor="garbage!")


def test_search_hides_deleted_runs_and_spans_projects(
    tracking: TrackingService, project: Project, make_run: MakeRun
) -> None:
    other = tracking.create_project("second")
    here = [make_run() for _ in range(3)]
    there = make_run(project_id=other.id)
    tracking.delete_runs([here[0]])
    assert {run.id for run in tracking.search_runs([project.id])} == set(here[1:])
    assert {run.id for run in tracking.search_runs([project.id], deleted=True)} == {here[0]}
    assert {run.id for run in tracking.search_runs([project.id, other.id])} == {*here[1:], there}
    tracking.move_runs([there], project.id)
    assert {run.id for run in tracking.search_runs([project.id])} == {*here[1:], there}
    with pytest.raises(InvalidArgument):
        tracking.search_runs([])
    with pytest.raises(NotFound):
        tracking.search_runs([new_id()])
    with pytest.raises(InvalidArgument):
        tracking.search_runs([project.id], limit=0)


def test_search_returns_params_tags_and_latest_metrics(tracking: TrackingService, project: Project) -> None:
    run = tracking.create_run(RunSpec(project_id=project.id, name="full"))
    tracking.log_batch(
        run.id,
        LogBatch(
            new_id(),
            {"lr": "0.1"},
            {"team": "x"},
            [MetricSeries("acc", [0, 1], [0.5, 0.75], [1, 2]), MetricSeries("loss", [3], [0.25], [4])],
        ),
    )
    (found,) = tracking.search_runs([project.id]).runs
    assert found.params == {"lr": "0.1"} and found.tags == {"team": "x"}
    assert found.metrics == {"acc": 0.75, "loss": 0.25}
    assert found.latest_metrics["acc"].step == 1 and found.latest_metrics["loss"].timestamp == 4
    assert found == tracking.get_run(run.id)


def test_epoch_zero_times_are_kept(tracking: TrackingService, project: Project) -> None:
    """0 ms (1970-01-01) is a valid time (check_timestamp accepts it), not "no time given"."""
    run = tracking.create_run(RunSpec(project_id=project.id, start_time=0))
    assert run.start_time == 0
    assert tracking.finish_run(run.id, end_time=0).end_time == 0


def test_cursor_pages_neither_skip_nor_repeat_when_runs_change_between_pages(
    tracking: TrackingService, project: Project, make_run: MakeRun
) -> None:
    ids = [make_run(f"run-{i}") for i in range(6)]
    for position, run_id in enumerate(ids):
        _log(tracking, run_id, {"acc": position / 10}, {"lr": str(position % 3)})
    order = ["params.lr", "metrics.acc desc"]
    first = tracking.search_runs([project.id], order_by=order, limit=3)
    assert first.next_cursor is not None
    # Runs arrive (sorting before and after the cursor) between the two requests.
    newcomer_early = make_run("early")
    _log(tracking, newcomer_early, {"acc": 0.99}, {"lr": "0"})
    newcomer_late = make_run("late")
    _log(tracking, newcomer_late, {"acc": 0.01}, {"lr": "2"})
    second = tracking.search_runs([project.id], order_by=order, limit=10, cursor=first.next_cursor)
    seen = [run.id for run in first] + [run.id for run in second]
    assert len(seen) == len(set(seen)), "a run was repeated"
    assert set(ids) <= set(seen), "a run was skipped"
    assert newcomer_late in seen and newcomer_early not in seen
    assert second.next_cursor is None


def test_a_forged_cursor_is_refused_cleanly(tracking: TrackingService, project: Project, make_run: MakeRun) -> None:
    import base64
    import json

    for _ in range(3):
        make_run()
    page = tracking.search_runs([project.id], limit=1)
    assert page.next_cursor is not None
    data = json.loads(base64.urlsafe_b64decode(page.next_cursor + "=" * (-len(page.next_cursor) % 4)))
    for forged in ([10**30, data["after"][-1]], [True, data["after"][-1]], [1, "not-an-id"], [], "x"):
        raw = json.dumps({"after": forged, "q": data["q"]}).encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        with pytest.raises(InvalidArgument) as refused:
            tracking.search_runs([project.id], limit=1, cursor=token)
        assert refused.value.field == "cursor"
