"""``ridgeline export`` and ``ridgeline import dir``: export → import into an empty data folder → export again
gives the same files; a changed folder or an unknown format version is refused; importing twice is harmless."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

import ridgeline
from ridgeline.cli.main import app
from ridgeline.client.local import LocalBackend
from ridgeline.config import sqlite_uri
from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.services.artifacts import ArtifactService
from ridgeline.store.artifacts.storage import open_storage
from ridgeline.store.metadata import MetadataStore

pytest.importorskip("pyarrow")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _without_exported_at(folder: Path) -> dict[str, object]:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("exported_at")
    return dict(manifest)


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    home = tmp_path / "source"
    home.mkdir()
    uri = str(home)
    with ridgeline.start_run("vision", tracking_uri=uri, capture=False, config={"lr": 0.1, "arch": "résnet"}) as parent:
        parent.set_tag("stage", "sweep")
        parent.log_metric("loss", float("nan"), step=0)
        parent.log_metric("loss", float("inf"), step=1)
        parent.log_metric("loss", 0.5, step=2)
        parent.log_text("hello artifact", "notes/readme.txt")
        parent.log_artifact(_binary(tmp_path), "model/weights.bin")
        parent.log_dataset(np.arange(100).reshape(20, 5), "train-split", context="training")
        with ridgeline.start_run("vision", tracking_uri=uri, capture=False, parent=parent, name="child") as child:
            child.log_param("fold", 1)
            child.log_dataset(np.arange(100).reshape(20, 5), "train-split", context="validation")
    with ridgeline.start_run("vision", tracking_uri=uri, capture=False) as doomed:
        doomed.log_metric("acc", 0.1)
        doomed.log_text("gone soon", "x.txt")
    failed = ridgeline.start_run("vision", tracking_uri=uri, capture=False, name="failed")
    failed.finish("FAILED")
    with ridgeline.start_run("other", tracking_uri=uri, capture=False) as elsewhere:
        elsewhere.log_metric("acc", 1.0)

    backend = LocalBackend(sqlite_uri(home))
    steps = list(range(10_000))
    values = [math.sin(step / 100) if step % 997 else float("nan") for step in steps]
    backend.log_batch(
        parent.id, LogBatch("long-history", metrics=[MetricSeries("wave", steps, values, [1_000 + s for s in steps])])
    )
    backend.service.delete_runs([doomed.id])
    vision = backend.service.get_project_by_name("vision")
    backend.service.set_project_tag(vision.id, "team", "perception")
    backend.service.set_project_tag(vision.id, "mlflow.note.content", "Ünïcode notes")
    backend.close()
    return home


def _binary(tmp_path: Path) -> Path:
    path = tmp_path / "weights.bin"
    path.write_bytes(bytes(range(256)) * 64)
    return path


def test_export_import_export_is_identical(source: Path, tmp_path: Path) -> None:
    first, second, target = tmp_path / "first", tmp_path / "second", tmp_path / "target"

    exported = invoke("export", "--project", "vision", "--to", str(first), "--home", str(source))
    assert exported.exit_code == 0, exported.output
    assert "exported vision" in exported.output and "4 run(s) (1 deleted)" in exported.output
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["format"] == "ridgeline-export" and manifest["format_version"] == 1
    assert manifest["counts"]["metric_points"] == 10_000 + 3 + 1
    assert set(manifest["files"]) == set(_files(first)) - {"manifest.json"}

    imported = invoke("import", "dir", str(first), "--home", str(target))
    assert imported.exit_code == 0, imported.output
    assert "4 run(s)" in imported.output and "(created)" in imported.output

    again = invoke("export", "--project", "vision", "--to", str(second), "--home", str(target))
    assert again.exit_code == 0, again.output
    first_files, second_files = _files(first), _files(second)
    first_files.pop("manifest.json")
    second_files.pop("manifest.json")
    assert first_files == second_files
    assert _without_exported_at(first) == _without_exported_at(second)

    # What a reader of the imported data sees: ids, statuses, times, NaN/inf points, the deleted run.
    store, original = MetadataStore(sqlite_uri(target)), MetadataStore(sqlite_uri(source))
    try:
        runs = {row["id"]: row for row in map(json.loads, (first / "runs.jsonl").read_text().splitlines())}
        for run_id in runs:
            assert store.runs.get(run_id) == original.runs.get(run_id)
        wave = next(run_id for run_id in runs if "wave" in store.metrics.keys(run_id))
        history = store.metrics.history(wave, "wave")
        assert len(history) == 10_000 and np.isnan(history.values[0])
        loss = store.metrics.history(wave, "loss")
        assert np.isnan(loss.values[0]) and np.isinf(loss.values[1])
        service = ArtifactService(store, open_storage(str(target / "artifacts")), 10**9)
        assert b"".join(service.read(wave, "notes/readme.txt")) == b"hello artifact"
        project = store.projects.find_by_name("vision", stats=False)
        assert project is not None
        assert store.projects.tags([project.id])[project.id] == {
            "team": "perception",
            "mlflow.note.content": "Ünïcode notes",
        }
        assert manifest["counts"]["project_tags"] == 2
    finally:
        store.close()
        original.close()


def test_import_twice_is_harmless(source: Path, tmp_path: Path) -> None:
    folder, target = tmp_path / "export", tmp_path / "target"
    assert invoke("export", "--project", "vision", "--to", str(folder), "--home", str(source)).exit_code == 0
    assert invoke("import", "dir", str(folder), "--home", str(target)).exit_code == 0
    twice = invoke("import", "dir", str(folder), "--home", str(target))
    assert twice.exit_code == 0, twice.output
    assert "0 run(s), 0 updated (0 metric point(s)), 4 already there" in twice.output
    assert "0 artifact(s) copied" in twice.output
    store = MetadataStore(sqlite_uri(target))
    try:
        project = store.projects.find_by_name("vision", stats=False)
        assert project is not None
        assert len(store.artifacts.usage(project_id=project.id)) == 4
        assert sum(len(store.metrics.history(u.run_id, "wave")) for u in store.artifacts.usage()) == 10_000
    finally:
        store.close()


def test_a_changed_file_is_refused(source: Path, tmp_path: Path) -> None:
    folder, target = tmp_path / "export", tmp_path / "target"
    assert invoke("export", "--project", "vision", "--to", str(folder), "--home", str(source)).exit_code == 0
    runs = folder / "runs.jsonl"
    runs.write_text(runs.read_text().replace("sweep", "swept"))
    refused = invoke("import", "dir", str(folder), "--home", str(target))
    assert refused.exit_code == 1
    assert "runs.jsonl has sha256" in refused.output and "nothing was imported" in refused.output
    store = MetadataStore(sqlite_uri(target))
    try:
        assert store.projects.find_by_name("vision") is None
    finally:
        store.close()


def test_an_unknown_format_version_is_refused(source: Path, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    assert invoke("export", "--project", "vision", "--to", str(folder), "--home", str(source)).exit_code == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format_version"] = 99
    (folder / "manifest.json").write_text(json.dumps(manifest))
    refused = invoke("import", "dir", str(folder), "--home", str(tmp_path / "target"))
    assert refused.exit_code == 1
    assert "export format version 99 is not supported" in refused.output


def test_export_refuses_a_missing_project_and_a_full_folder(source: Path, tmp_path: Path) -> None:
    missing = invoke("export", "--project", "nope", "--to", str(tmp_path / "x"), "--home", str(source))
    assert missing.exit_code == 1 and "does not exist" in missing.output
    full = tmp_path / "full"
    full.mkdir()
    (full / "file").write_text("x")
    refused = invoke("export", "--project", "vision", "--to", str(full), "--home", str(source))
    assert refused.exit_code == 1 and "not an empty folder" in refused.output


def test_a_second_import_brings_new_data_of_existing_runs(source: Path, tmp_path: Path) -> None:
    """Points, tags and artifacts added to a run after a first import arrive with the next import; the rest of the
    run is not duplicated, and the target then exports exactly what the source does."""
    first, second, again, target = (tmp_path / name for name in ("first", "second", "again", "target"))
    assert invoke("export", "--project", "vision", "--to", str(first), "--home", str(source)).exit_code == 0
    assert invoke("import", "dir", str(first), "--home", str(target)).exit_code == 0

    backend = LocalBackend(sqlite_uri(source))
    run = next(r for r in backend.service.search_runs([backend.service.get_project_by_name("vision").id]))
    backend.log_batch(
        run.id,
        LogBatch("late-points", tags={"late": "yes"}, metrics=[MetricSeries("late", [0, 1], [1.0, 2.0], [5, 6])]),
    )
    backend.close()
    with ridgeline.start_run("vision", tracking_uri=str(source), capture=False, run_id=run.id) as live:
        live.log_text("later", "late.txt")
    assert invoke("export", "--project", "vision", "--to", str(second), "--home", str(source)).exit_code == 0

    updated = invoke("import", "dir", str(second), "--home", str(target))
    assert updated.exit_code == 0, updated.output
    assert "0 run(s), 1 updated (2 metric point(s)), 3 already there" in updated.output
    assert "1 artifact(s) copied" in updated.output
    assert invoke("export", "--project", "vision", "--to", str(again), "--home", str(target)).exit_code == 0
    expected, actual = _files(second), _files(again)
    expected.pop("manifest.json")
    actual.pop("manifest.json")
    assert actual == expected
