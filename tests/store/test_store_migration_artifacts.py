"""Migration 0002 (artifacts) on a database holding data at 0001: everything is kept, the table is added."""

from __future__ import annotations

from sqlalchemy import func, inspect, select

from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.ids import new_id
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store import migrate
from ridgeline.store.database import Database
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.schema import metric_blocks, params, runs


def test_upgrade_from_0001_keeps_every_row(backend_uri: str) -> None:
    database = Database(backend_uri)
    migrate.upgrade(database, "0001")
    store = MetadataStore(backend_uri, migrate=False)
    tracking = TrackingService(store)
    project = tracking.create_project("before-artifacts")
    run = tracking.create_run(RunSpec(project_id=project.id, name="old"), params={"lr": "0.1"})
    tracking.log_batch(run.id, LogBatch(new_id(), metrics=[MetricSeries("loss", [0, 1], [1.0, 0.5], [1, 2])]))
    with database.read() as conn:
        assert "artifacts" not in inspect(conn).get_table_names()

    assert migrate.upgrade(database) is True
    with database.read() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD_REVISION
        assert "artifacts" in inspect(conn).get_table_names()
        assert conn.execute(select(func.count()).select_from(runs)).scalar() == 1
        assert conn.execute(select(params.c.value)).scalar() == "0.1"
        assert conn.execute(select(func.count()).select_from(metric_blocks)).scalar() == 1
    upgraded = MetadataStore(backend_uri)
    assert upgraded.runs.get(run.id).name == "old"
    assert upgraded.artifacts.files(run.id) == []
    upgraded.close()
    store.close()
    database.dispose()
