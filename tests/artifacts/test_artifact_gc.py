"""gc on a local folder and on S3: deleted runs lose their files and rows for good; a restore before gc keeps
everything; --dry-run only reports."""

from __future__ import annotations

from ridgeline.services.artifacts import ArtifactService
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store.artifacts.storage import ArtifactStorage


def _run_with_files(tracking: TrackingService, artifacts: ArtifactService, files: dict[str, bytes]) -> str:
    project = tracking.ensure_project("gc")
    run = tracking.create_run(RunSpec(project_id=project.id))
    for path, data in files.items():
        artifacts.upload(run.id, path, [data])
    return run.id


def test_gc_removes_deleted_runs_and_keeps_restored_ones(
    services: tuple[TrackingService, ArtifactService], storage: ArtifactStorage
) -> None:
    tracking, artifacts = services
    doomed = _run_with_files(tracking, artifacts, {"a.bin": b"a" * 1000, "d/b.bin": b"b" * 500})
    restored = _run_with_files(tracking, artifacts, {"keep.bin": b"k" * 200})
    alive = _run_with_files(tracking, artifacts, {"live.bin": b"l" * 100})
    tracking.delete_runs([doomed, restored])
    tracking.restore_runs([restored])

    preview = artifacts.gc(dry_run=True)
    assert [usage.run_id for usage in preview.runs] == [doomed]
    assert (preview.bytes_freed, preview.files_freed) == (1500, 2)
    assert len(storage.find(doomed)) == 2, "a dry run removes nothing"

    report = artifacts.gc()
    assert [usage.run_id for usage in report.runs] == [doomed]
    assert (report.bytes_freed, report.files_freed, report.failures) == (1500, 2, [])
    assert storage.find(doomed) == []
    assert [item.key for item in storage.find(restored)] == [f"{restored}/keep.bin"]
    assert [item.key for item in storage.find(alive)] == [f"{alive}/live.bin"]
    assert {run.id for run in tracking.search_runs([tracking.ensure_project("gc").id], deleted=True).runs} == set()
    assert tracking.get_run(restored).id == restored
    assert artifacts.gc().runs == [], "a second gc finds nothing"


def test_gc_sweeps_files_of_runs_that_no_longer_exist(
    services: tuple[TrackingService, ArtifactService], storage: ArtifactStorage
) -> None:
    _, artifacts = services
    orphan = "e" * 32
    writer = storage.writer(f"{orphan}/left.bin")
    writer.write(b"x" * 64)
    writer.commit()
    report = artifacts.gc()
    assert report.orphans == [orphan]
    assert report.bytes_freed == 64
    assert storage.find(orphan) == []


def test_gc_and_retention_keep_deleted_runs_behind_registered_versions(
    services: tuple[TrackingService, ArtifactService], storage: ArtifactStorage
) -> None:
    from ridgeline.services.registry import RegistryService, VersionSpec
    from ridgeline.services.retention import RetentionService

    tracking, artifacts = services
    registered = _run_with_files(tracking, artifacts, {"model/model.skops": b"m" * 300})
    doomed = _run_with_files(tracking, artifacts, {"scratch.bin": b"s" * 10})
    for run_id in (registered, doomed):
        tracking.finish_run(run_id)
    registry = RegistryService(tracking.store)
    registry.create_model("kept")
    registry.create_version("kept", VersionSpec(source=f"runs:/{registered}/model"))
    retention = RetentionService(tracking.store)
    project_id = tracking.ensure_project("gc").id
    retention.set_policy(project_id, keep_last=1)
    plan = retention.plan(project_id)
    assert (plan.runs, plan.spared_protected) == ([], 1), "the older run stays: a version was registered from it"

    tracking.delete_runs([registered, doomed])
    report = artifacts.gc()
    assert [usage.run_id for usage in report.runs] == [doomed]
    assert [usage.run_id for usage in report.kept] == [registered]
    assert [item.key for item in storage.find(registered)] == [f"{registered}/model/model.skops"]
    assert registry.get_version("kept", 1).artifact_run_id == registered
