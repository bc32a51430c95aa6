"""Migration 0007 (model evaluations, model servers) on a database holding tracking and registry data at 0006, the
previous release: every row is kept as it was, and the new tables work."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pandas as pd
from sqlalchemy import inspect, select

from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.domain.promotion import EvaluationSpec
from ridgeline.services.dataset_description import describe
from ridgeline.services.datasets import DatasetService
from ridgeline.services.logged_models import LoggedModelService
from ridgeline.services.model_servers import ModelServerService, ServerReport
from ridgeline.services.registry import RegistryService, VersionSpec
from ridgeline.services.registry_gate import RegistryGate
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store import migrate
from ridgeline.store.database import Database
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.schema import metadata

NEW_TABLES = {"model_evaluations", "model_servers"}


def _fill(store: MetadataStore) -> str:
    """Tracking data, a dataset input and every kind of registry row; returns the run's id."""
    tracking = TrackingService(store)
    project = tracking.create_project("before-gate", "kept")
    run = tracking.create_run(RunSpec(project_id=project.id, name="trainer"), params={"lr": "0.1"}, tags={"t": "v"})
    tracking.log_batch(run.id, LogBatch(new_id(), metrics=[MetricSeries("acc", [0, 1], [0.5, 0.9], [1, 2])]))
    # What run.log_dataset sends for a DataFrame.
    described = asdict(describe(pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})))
    version = {key: value for key, value in described.items() if key != "files"}
    DatasetService(store).log_input(run.id, "churn-train", "training", version, "ana")
    logged = LoggedModelService(store, tracking).create(project.id, "model", run_id=run.id, tags={"kind": "sklearn"})
    registry = RegistryService(store)
    registry.create_model("churn", description="kept", tags={"team": "growth"})
    for number in (1, 2, 3):
        spec = VersionSpec(source=f"runs:/{run.id}/model", logged_model_id=logged.id, tags={"n": str(number)})
        registry.create_version("churn", spec, user="ana")
    registry.set_alias("churn", "champion", 1, user="ana")
    registry.set_alias("churn", "champion", 2, user="bo")
    registry.set_alias("churn", "challenger", 1, user="bo")
    return run.id


def _rows(database: Database, tables: set[str]) -> dict[str, list[tuple[Any, ...]]]:
    with database.read() as conn:
        return {
            name: sorted(map(tuple, conn.execute(select(metadata.tables[name])).all()), key=repr) for name in tables
        }


def test_upgrade_from_0006_keeps_every_row_and_adds_working_gate_tables(backend_uri: str) -> None:
    database = Database(backend_uri)
    migrate.upgrade(database, "0006")
    old = MetadataStore(backend_uri, migrate=False)
    run_id = _fill(old)
    with database.read() as conn:
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
    assert not NEW_TABLES & tables
    before = _rows(database, tables)
    # Every table the registry and tracking use holds rows; these three play no part in the gate.
    assert {name for name, rows in before.items() if not rows} == {"artifacts", "project_tags", "retention_policies"}

    assert migrate.upgrade(database, "0007") is True
    with database.read() as conn:
        assert migrate.current_revision(conn) == "0007"
        assert set(inspect(conn).get_table_names()) >= tables | NEW_TABLES
    assert _rows(database, tables) == before

    store = MetadataStore(backend_uri)
    gate = RegistryGate(store)
    assert gate.registry.get_model("churn").aliases == {"champion": 2, "challenger": 1}
    assert [(e.from_version, e.to_version) for e in gate.registry.alias_history("churn", "champion")] == [
        (None, 1),
        (1, 2),
    ]
    [used] = gate.version_lineage("churn", 2).inputs
    assert used.version.dataset_name == "churn-train"
    spec = EvaluationSpec(
        version=3,
        metrics={"accuracy": 0.93},
        dataset_name="holdout",
        dataset_digest="ab" * 32,
        task="classification",
        rows=10,
        dataset_version_id=used.version.id,
        alias="champion",
        champion_version=2,
        champion_metrics={"accuracy": 0.9},
    )
    evaluation = gate.record_evaluation("churn", spec, user="ana")
    for version in (2, 3):
        assert [item.evaluation_id for item in gate.evaluations("churn", version)] == [evaluation.evaluation_id]
    assert gate.promote("churn", 3, require=["accuracy > champion"]).previous_version == 2
    assert gate.rollback("churn").version == 2

    servers = ModelServerService(store)
    report = ServerReport("churn", "models:/churn@champion", "http://127.0.0.1:5171", 2, started_at=now_ms())
    servers.report(new_id(), report)
    assert [(item.model_name, item.version) for item in servers.list("churn")] == [("churn", 2)]
    assert TrackingService(store).get_run(run_id).latest_metrics["acc"].value == 0.9
    for opened in (old, store):
        opened.close()
    database.dispose()
