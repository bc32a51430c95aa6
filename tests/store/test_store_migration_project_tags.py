"""Migration 0005 (project tags) on a database holding data at 0004: everything is kept, the table is added."""

from __future__ import annotations

from sqlalchemy import func, inspect, select

from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.ids import new_id
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store import migrate
from ridgeline.store.database import Database
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.schema import metric_blocks, params, projects, runs, tags


def test_upgrade_from_0004_keeps_every_row(backend_uri: str) -> None:
    database = Database(backend_uri)
    migrate.upgrade(database, "0004")
    store = MetadataStore(backend_uri, migrate=False)
    tracking = TrackingService(store)
    project = tracking.create_project("before-tags", "kept")
    run = tracking.create_run(RunSpec(project_id=project.id, name="old"), params={"lr": "0.1"}, tags={"t": "v"})
    tracking.log_batch(run.id, LogBatch(new_id(), metrics=[MetricSeries("loss", [0, 1], [1.0, 0.5], [1, 2])]))
    with database.read() as conn:
        assert "project_tags" not in inspect(conn).get_table_names()

    assert migrate.upgrade(database, "0005") is True
    with database.read() as conn:
        assert migrate.current_revision(conn) == "0005"
        assert "project_tags" in inspect(conn).get_table_names()
        for table in (projects, runs, metric_blocks, params, tags):
            assert conn.execute(select(func.count()).select_from(table)).scalar() == 1
    upgraded = TrackingService(MetadataStore(backend_uri))
    assert upgraded.get_project(project.id).description == "kept"
    assert upgraded.get_run(run.id).params == {"lr": "0.1"}
    upgraded.set_project_tag(project.id, "owner", "ana")
    upgraded.set_project_tag(project.id, "owner", "bo")
    assert upgraded.project_tags([project.id]) == {project.id: {"owner": "bo"}}
    upgraded.delete_project_tag(project.id, "owner")
    assert upgraded.project_tags([project.id]) == {project.id: {}}
    upgraded.store.close()
    store.close()
    database.dispose()
