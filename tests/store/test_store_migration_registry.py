"""Migration 0006 (model registry) on a database holding data at 0005, the previous release: every row is kept,
the registry tables are added and work."""

from __future__ import annotations

from sqlalchemy import func, inspect, select

from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.ids import new_id
from ridgeline.services.registry import RegistryService, VersionSpec
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store import migrate
from ridgeline.store.database import Database
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.schema import metric_blocks, params, project_tags, projects, runs, tags

REGISTRY_TABLES = {
    "registered_models",
    "registered_model_tags",
    "model_versions",
    "model_version_tags",
    "model_aliases",
    "alias_events",
    "logged_models",
    "logged_model_tags",
}


def test_upgrade_from_0005_keeps_every_row(backend_uri: str) -> None:
    database = Database(backend_uri)
    migrate.upgrade(database, "0005")
    old = MetadataStore(backend_uri, migrate=False)
    tracking = TrackingService(old)
    project = tracking.create_project("before-registry", "kept")
    tracking.set_project_tag(project.id, "team", "growth")
    run = tracking.create_run(RunSpec(project_id=project.id, name="old"), params={"lr": "0.1"}, tags={"t": "v"})
    tracking.log_batch(run.id, LogBatch(new_id(), metrics=[MetricSeries("acc", [0, 1], [0.5, 0.9], [1, 2])]))
    with database.read() as conn:
        assert not REGISTRY_TABLES & set(inspect(conn).get_table_names())

    assert migrate.upgrade(database, "0006") is True
    with database.read() as conn:
        assert migrate.current_revision(conn) == "0006"
        assert set(inspect(conn).get_table_names()) >= REGISTRY_TABLES
        for table in (projects, project_tags, runs, metric_blocks, params, tags):
            assert conn.execute(select(func.count()).select_from(table)).scalar() == 1
    store = MetadataStore(backend_uri)
    upgraded = TrackingService(store)
    assert upgraded.get_project(project.id).description == "kept"
    assert upgraded.project_tags([project.id]) == {project.id: {"team": "growth"}}
    assert upgraded.get_run(run.id).latest_metrics["acc"].value == 0.9
    registry = RegistryService(store)
    registry.create_model("after")
    version = registry.create_version("after", VersionSpec(source=f"runs:/{run.id}/model"))
    assert (version.version, version.run_id, version.metrics) == (1, run.id, {"acc": 0.9})
    for opened in (old, store):
        opened.close()
    database.dispose()
