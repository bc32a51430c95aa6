"""Migration 0004 (retention policies) on a database holding data at 0003: everything is kept, the table is added."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, inspect, select

from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.ids import new_id
from ridgeline.services.artifacts import ArtifactService
from ridgeline.services.retention import RetentionService
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store import migrate
from ridgeline.store.artifacts.storage import open_storage
from ridgeline.store.database import Database
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.schema import artifacts, metric_blocks, params, run_inputs, runs, tags


def test_upgrade_from_0003_keeps_every_row(backend_uri: str, tmp_path: Path) -> None:
    database = Database(backend_uri)
    migrate.upgrade(database, "0003")
    store = MetadataStore(backend_uri, migrate=False)
    tracking = TrackingService(store)
    project = tracking.create_project("before-retention")
    run = tracking.create_run(
        RunSpec(project_id=project.id, name="old"), params={"lr": "0.1"}, tags={"ridgeline.protected": "true"}
    )
    tracking.log_batch(run.id, LogBatch(new_id(), metrics=[MetricSeries("loss", [0, 1], [1.0, 0.5], [1, 2])]))
    ArtifactService(store, open_storage(str(tmp_path / "artifacts")), 1000).upload(run.id, "a.txt", [b"abc"])
    schema = {"name": "x", "type": "int"}
    store.datasets.record_input(
        run.id,
        "data",
        "training",
        {
            "digest": "a" * 64,
            "kind": "files",
            "rows": 1,
            "size_bytes": 3,
            "schema": [schema],
            "profile": None,
            "source": "",
        },
        "me",
    )
    with database.read() as conn:
        assert "retention_policies" not in inspect(conn).get_table_names()

    assert migrate.upgrade(database) is True
    with database.read() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD_REVISION
        assert "retention_policies" in inspect(conn).get_table_names()
        for table in (runs, artifacts, metric_blocks, run_inputs):
            assert conn.execute(select(func.count()).select_from(table)).scalar() == 1
        assert conn.execute(select(params.c.value)).scalar() == "0.1"
        assert conn.execute(select(tags.c.value)).scalar() == "true"
    upgraded = MetadataStore(backend_uri)
    assert upgraded.runs.get(run.id).name == "old"
    assert upgraded.artifacts.usage(run_id=run.id)[0].bytes == 3
    retention = RetentionService(upgraded)
    assert retention.set_policy(project.id, keep_last=1).keep_last == 1
    upgraded.close()
    store.close()
    database.dispose()
