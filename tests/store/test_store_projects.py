"""Projects: unique names, soft delete and restore, listing with run counts."""

from __future__ import annotations

import pytest

from ridgeline.domain.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from ridgeline.domain.ids import new_id
from ridgeline.services.tracking import RunSpec, TrackingService


def _run(tracking: TrackingService, project_id: str) -> str:
    return tracking.create_run(RunSpec(project_id=project_id)).id


def _names(tracking: TrackingService, **kwargs: object) -> list[str]:
    return [project.name for project in tracking.list_projects(**kwargs)]  # type: ignore[arg-type]


def test_project_names_are_unique(tracking: TrackingService) -> None:
    first = tracking.create_project("vision", "classifiers")
    assert first.description == "classifiers" and not first.deleted
    with pytest.raises(AlreadyExists, match="vision"):
        tracking.create_project("vision")
    other = tracking.create_project("speech")
    with pytest.raises(AlreadyExists):
        tracking.update_project(other.id, name="vision")
    assert tracking.get_project(other.id).name == "speech"
    assert tracking.get_project_by_name("vision").id == first.id
    assert _names(tracking) == ["speech", "vision"]


def test_ensure_project_creates_once(tracking: TrackingService) -> None:
    first = tracking.ensure_project("auto")
    assert tracking.ensure_project("auto").id == first.id
    assert _names(tracking) == ["auto"]


def test_rename_and_describe(tracking: TrackingService) -> None:
    project = tracking.create_project("old")
    renamed = tracking.update_project(project.id, name="new", description="text")
    assert (renamed.name, renamed.description) == ("new", "text")
    assert renamed.updated_at >= project.updated_at
    assert tracking.create_project("old").name == "old"  # the old name is free again
    with pytest.raises(InvalidArgument):
        tracking.update_project(project.id, name=" padded ")
    with pytest.raises(NotFound):
        tracking.update_project(new_id(), name="x")


def test_soft_delete_and_restore(tracking: TrackingService) -> None:
    project = tracking.create_project("gone")
    keep = tracking.create_project("kept")
    run_id = _run(tracking, project.id)
    deleted = tracking.delete_project(project.id)
    assert deleted.deleted
    assert _names(tracking) == ["kept"]
    assert _names(tracking, deleted=True) == ["gone"]
    # Still readable, but its name stays taken and it takes no new runs.
    assert tracking.get_project(project.id).deleted
    assert tracking.get_run(run_id).project_id == project.id
    with pytest.raises(AlreadyExists, match="deleted"):
        tracking.create_project("gone")
    with pytest.raises(Conflict):
        tracking.ensure_project("gone")
    with pytest.raises(Conflict):
        tracking.create_run(RunSpec(project_id=project.id))
    with pytest.raises(Conflict):
        tracking.move_runs([run_id], project.id)
    restored = tracking.restore_project(project.id)
    assert not restored.deleted
    assert _names(tracking) == ["gone", "kept"]
    assert _names(tracking, deleted=True) == []
    assert tracking.ensure_project("gone").id == project.id
    assert tracking.create_run(RunSpec(project_id=project.id)).project_id == project.id
    assert keep.id != project.id


def test_list_counts_live_runs(tracking: TrackingService) -> None:
    busy = tracking.create_project("busy")
    empty = tracking.create_project("empty")
    runs = [_run(tracking, busy.id) for _ in range(4)]
    tracking.delete_runs(runs[:1])
    listed = {project.name: project for project in tracking.list_projects()}
    assert listed["busy"].run_count == 3
    assert listed["empty"].run_count == 0
    assert listed["empty"].last_activity == empty.updated_at
    last_run_update = max(tracking.get_run(run_id).start_time for run_id in runs)
    assert listed["busy"].last_activity is not None
    assert listed["busy"].last_activity >= max(busy.updated_at, last_run_update)
    tracking.move_runs(runs[1:2], empty.id)
    listed = {project.name: project for project in tracking.list_projects()}
    assert (listed["busy"].run_count, listed["empty"].run_count) == (2, 1)
    tracking.restore_runs(runs[:1])
    assert {p.name: p.run_count for p in tracking.list_projects()} == {"busy": 3, "empty": 1}


def test_list_query_matches_a_substring_literally_and_ignores_case(tracking: TrackingService) -> None:
    for name in ("ab_c", "abxc", "AB%D", "zzz"):
        tracking.create_project(name)
    assert _names(tracking, query="b_") == ["ab_c"]
    assert _names(tracking, query="B%") == ["AB%D"]
    assert _names(tracking, query="ab") == ["AB%D", "ab_c", "abxc"]
    assert _names(tracking, query="nothing") == []


def test_unknown_projects(tracking: TrackingService) -> None:
    with pytest.raises(NotFound):
        tracking.get_project(new_id())
    with pytest.raises(NotFound):
        tracking.get_project_by_name("nope")
    with pytest.raises(NotFound):
        tracking.delete_project(new_id())


def test_list_query_finds_a_name_containing_non_ascii_capitals(tracking: TrackingService) -> None:
    tracking.create_project("Ärger-Modelle")
    tracking.create_project("other")
    # The query is the name itself, or a piece of it as written: it must be found whatever case folding is used.
    assert _names(tracking, query="Ärger-Modelle") == ["Ärger-Modelle"]
    assert _names(tracking, query="Ärger") == ["Ärger-Modelle"]
    assert _names(tracking, query="modelle") == ["Ärger-Modelle"]
