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
