"""Retention policies on SQLite and PostgreSQL: validation, what a plan names (age, keep-last, both; never
RUNNING, protected or already-deleted runs), dry runs that change nothing, and apply followed by gc."""

from __future__ import annotations

from pathlib import Path

import pytest

from ridgeline.domain.entities import Project
from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.domain.ids import now_ms
from ridgeline.services.artifacts import ArtifactService
from ridgeline.services.retention import DAY_MS, RetentionService
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store.artifacts.storage import open_storage


@pytest.fixture
def retention(tracking: TrackingService) -> RetentionService:
    return RetentionService(tracking.store)


@pytest.fixture
def artifacts(tracking: TrackingService, tmp_path: Path) -> ArtifactService:
    return ArtifactService(tracking.store, open_storage(str(tmp_path / "artifacts")), 10_000_000)


@pytest.fixture
def project(tracking: TrackingService) -> Project:
    return tracking.create_project("retained")


def make_run(
    tracking: TrackingService,
    project: Project,
    name: str,
    days_ago: float,
    *,
    status: str = "FINISHED",
    tags: dict[str, str] | None = None,
) -> str:
    start = now_ms() - int(days_ago * DAY_MS)
    run = tracking.create_run(RunSpec(project_id=project.id, name=name, start_time=start), tags=tags)
    if status != "RUNNING":
        tracking.finish_run(run.id, status)
    return run.id


def planned(retention: RetentionService, project: Project) -> list[str]:
    return [run.name for run in retention.plan(project.id).runs]


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"max_age_days": 0}, "max_age_days"),
        ({"max_age_days": -3}, "max_age_days"),
        ({"max_age_days": 36_501}, "max_age_days"),
        ({"keep_last": 0}, "keep_last"),
        ({"keep_last": True}, "keep_last"),
        ({"max_age_days": 30, "keep_last": -1}, "keep_last"),
        ({}, "max_age_days"),
    ],
)
def test_a_policy_with_a_bad_rule_is_refused_naming_it(
    retention: RetentionService, project: Project, rules: dict[str, int], field: str
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        retention.set_policy(project.id, **rules)
    assert refused.value.field == field
    with pytest.raises(NotFound):
        retention.get_policy(project.id)


def test_set_replace_get_and_clear_a_policy(retention: RetentionService, project: Project) -> None:
    with pytest.raises(NotFound) as missing:
        retention.get_policy(project.id)
    assert missing.value.field == "retention"
    retention.set_policy(project.id, max_age_days=30, by="ana")
    replaced = retention.set_policy(project.id, keep_last=5, by="bo")
    assert retention.get_policy(project.id) == replaced
    assert (replaced.max_age_days, replaced.keep_last, replaced.updated_by) == (None, 5, "bo")
    assert [item.name for item, _ in retention.policies()] == ["retained"]
    assert retention.clear_policy(project.id) is True
    assert retention.clear_policy(project.id) is False
    with pytest.raises(NotFound):
        retention.set_policy("0" * 31 + "1", keep_last=1)


def test_plan_by_age_by_keep_last_and_by_both(
    retention: RetentionService, tracking: TrackingService, project: Project
) -> None:
    for name, days in (("d1", 1), ("d10", 10), ("d40", 40), ("d50", 50), ("d100", 100)):
        make_run(tracking, project, name, days)

    retention.set_policy(project.id, max_age_days=30)
    assert planned(retention, project) == ["d40", "d50", "d100"]

    retention.set_policy(project.id, keep_last=2)
    assert planned(retention, project) == ["d40", "d50", "d100"]
    retention.set_policy(project.id, keep_last=4)
    assert planned(retention, project) == ["d100"]

    # Both: a run goes only when it is old and beyond the newest N.
    retention.set_policy(project.id, max_age_days=30, keep_last=4)
    assert planned(retention, project) == ["d100"]
    retention.set_policy(project.id, max_age_days=45, keep_last=1)
    assert planned(retention, project) == ["d50", "d100"]
    retention.set_policy(project.id, max_age_days=365, keep_last=1)
    assert planned(retention, project) == []


def test_running_protected_and_deleted_runs_are_never_planned(
    retention: RetentionService, tracking: TrackingService, project: Project
) -> None:
    make_run(tracking, project, "newest", 1)
    deleted = make_run(tracking, project, "deleted", 90)
    tracking.delete_runs([deleted])
    make_run(tracking, project, "running", 80, status="RUNNING")
    make_run(tracking, project, "protected", 70, tags={"ridgeline.protected": "TRUE"})
    make_run(tracking, project, "not-protected", 60, tags={"ridgeline.protected": "false"})
    make_run(tracking, project, "failed", 50, status="FAILED")

    retention.set_policy(project.id, keep_last=1)
    plan = retention.plan(project.id)
    assert [run.name for run in plan.runs] == ["failed", "not-protected"]
    assert (plan.spared_running, plan.spared_protected, plan.kept) == (1, 1, 3)


def test_dry_run_changes_nothing_and_apply_deletes_exactly_the_plan_then_gc_frees_it(
    retention: RetentionService, tracking: TrackingService, artifacts: ArtifactService, project: Project
) -> None:
    kept = make_run(tracking, project, "kept", 1)
    old = make_run(tracking, project, "old", 40)
    older = make_run(tracking, project, "older", 50)
    for run_id, sizes in ((kept, [7]), (old, [100, 20]), (older, [250])):
        for index, size in enumerate(sizes):
            artifacts.upload(run_id, f"f{index}.bin", [b"x" * size])
    retention.set_policy(project.id, max_age_days=30)

    preview = retention.apply(project.id, dry_run=True)
    assert [run.run_id for run in preview.runs] == [old, older]
    assert [run.bytes for run in preview.runs] == [120, 250]
    assert (preview.bytes, preview.files, preview.deleted, preview.dry_run) == (370, 3, 0, True)
    assert not any(tracking.get_run(run_id).deleted for run_id in (kept, old, older))
    assert artifacts.gc(dry_run=True).runs == []

    done = retention.apply(project.id)
    assert (done.deleted, done.bytes) == (2, 370)
    assert [tracking.get_run(run_id).deleted for run_id in (kept, old, older)] == [False, True, True]
    assert retention.plan(project.id).runs == []

    report = artifacts.gc()
    assert sorted(usage.run_id for usage in report.runs) == sorted([old, older])
    assert (report.bytes_freed, report.files_freed) == (370, 3)
    assert [item.path for item in artifacts.list_files(kept)] == ["f0.bin"]
    with pytest.raises(NotFound):
        tracking.get_run(old)


def test_apply_all_covers_every_project_with_a_policy(
    retention: RetentionService, tracking: TrackingService, project: Project
) -> None:
    other = tracking.create_project("also-retained")
    untouched = tracking.create_project("no-policy")
    for item in (project, other, untouched):
        make_run(tracking, item, "new", 1)
        make_run(tracking, item, "old", 100)
    retention.set_policy(project.id, max_age_days=30)
    retention.set_policy(other.id, keep_last=1)

    preview = retention.apply_all(dry_run=True)
    assert [(plan.project.name, len(plan.runs), plan.deleted) for plan in preview] == [
        ("also-retained", 1, 0),
        ("retained", 1, 0),
    ]
    done = retention.apply_all()
    assert [plan.deleted for plan in done] == [1, 1]
    assert tracking.count_runs([untouched.id]) == 2
    assert tracking.count_runs([project.id]) == tracking.count_runs([other.id]) == 1
