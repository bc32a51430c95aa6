"""Schema migrations on SQLite and PostgreSQL: fresh upgrade, no-op re-run, head revision, downgrade and back."""

from __future__ import annotations

import threading

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DatabaseError

from ridgeline.domain.entities import LogBatch, MetricSeries
from ridgeline.domain.ids import new_id
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store import migrate
from ridgeline.store.database import Database
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.schema import metadata, workspaces
from ridgeline.store.scope import DEFAULT_WORKSPACE_ID

TABLES = {table.name for table in metadata.sorted_tables}
ACCOUNT_TABLES = {
    "users",
    "api_tokens",
    "web_sessions",
    "workspace_members",
    "project_members",
    "invitations",
    "audit_log",
}
_AUDIT_ENTRY = {
    "at": 1,
    "actor": "cli:ana",
    "action": "users.create",
    "method": "CLI",
    "path": "ridgeline users create",
    "object": "user:bo",
    "workspace_id": None,
    "remote_addr": "local",
    "status": 0,
}


def _rows(database: Database, tables: set[str]) -> dict[str, list[tuple[object, ...]]]:
    with database.read() as connection:
        return {
            name: sorted(map(tuple, connection.execute(select(metadata.tables[name])).all()), key=repr)
            for name in tables
        }


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    return config


def _downgrade(database: Database, target: str) -> None:
    with database.engine.begin() as connection:
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, target)


def _tables(database: Database) -> set[str]:
    with database.read() as connection:
        return set(inspect(connection).get_table_names())


def _revision(database: Database) -> str | None:
    with database.read() as connection:
        return migrate.current_revision(connection)


def _workspaces(database: Database) -> list[tuple[str, str]]:
    with database.read() as connection:
        return [(row.id, row.name) for row in connection.execute(select(workspaces.c.id, workspaces.c.name))]


def test_head_revision_constant_matches_the_migration_scripts() -> None:
    scripts = ScriptDirectory.from_config(_alembic_config())
    assert scripts.get_heads() == [migrate.HEAD_REVISION]
    assert scripts.get_current_head() == migrate.HEAD_REVISION


def test_fresh_upgrade_creates_every_table_and_the_default_workspace(backend_uri: str) -> None:
    database = Database(backend_uri)
    try:
        assert _tables(database) == set()
        assert _revision(database) is None
        assert migrate.upgrade(database) is True
        assert _tables(database) == TABLES | {"alembic_version"}
        assert _revision(database) == migrate.HEAD_REVISION
        assert _workspaces(database) == [(DEFAULT_WORKSPACE_ID, "default")]
    finally:
        database.dispose()


def test_upgrade_again_is_a_no_op(backend_uri: str) -> None:
    store = MetadataStore(backend_uri)
    store.close()
    database = Database(backend_uri)
    try:
        assert migrate.upgrade(database) is False
        assert migrate.upgrade(database) is False
        assert _revision(database) == migrate.HEAD_REVISION
        assert _workspaces(database) == [(DEFAULT_WORKSPACE_ID, "default")]
    finally:
        database.dispose()


def test_migrated_schema_matches_the_table_definitions(backend_uri: str) -> None:
    """What the migrations build is what schema.py declares (nothing autogenerate would add or drop)."""
    store = MetadataStore(backend_uri)
    try:
        with store.database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        store.close()


def test_downgrade_to_base_then_upgrade_again(backend_uri: str) -> None:
    store = MetadataStore(backend_uri)
    project = store.projects.create("before-downgrade")
    assert project.name == "before-downgrade"
    database = store.database
    try:
        _downgrade(database, "base")
        assert _tables(database) <= {"alembic_version"}
        assert _revision(database) is None

        assert migrate.upgrade(database) is True
        assert _tables(database) == TABLES | {"alembic_version"}
        assert _revision(database) == migrate.HEAD_REVISION
        assert _workspaces(database) == [(DEFAULT_WORKSPACE_ID, "default")]
        # The schema is usable again, and the old data is gone with the tables.
        assert store.projects.find_by_name("before-downgrade") is None
        assert store.projects.create("after-upgrade").name == "after-upgrade"
        assert migrate.upgrade(database) is False
    finally:
        store.close()


def test_concurrent_first_upgrades_leave_one_schema(backend_uri: str) -> None:
    """Several starters on a fresh database at once (server replicas, SDK processes): one migrates, none fails."""
    databases = [Database(backend_uri) for _ in range(4)]
    barrier = threading.Barrier(len(databases))
    results: list[bool | BaseException] = []

    def start(database: Database) -> None:
        barrier.wait()
        try:
            results.append(migrate.upgrade(database))
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=start, args=(database,)) for database in databases]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert all(isinstance(result, bool) for result in results), results
        assert True in results
        assert _tables(databases[0]) == TABLES | {"alembic_version"}
        assert _revision(databases[0]) == migrate.HEAD_REVISION
        assert _workspaces(databases[0]) == [(DEFAULT_WORKSPACE_ID, "default")]
    finally:
        for database in databases:
            database.dispose()


def test_upgrade_from_0008_keeps_every_row_and_adds_append_only_accounts_tables(backend_uri: str) -> None:
    """Migration 0009 (accounts, audit log) on a database of the previous release: every row kept as it was, no
    account made (the first start with accounts offers the first-admin link), and the audit log append-only."""
    database = Database(backend_uri)
    try:
        migrate.upgrade(database, "0008")
        old = MetadataStore(backend_uri, migrate=False)
        try:
            tracking = TrackingService(old)
            project = tracking.create_project("before-accounts", "kept")
            run = tracking.create_run(RunSpec(project_id=project.id, name="trainer"), params={"lr": "0.1"})
            tracking.log_batch(run.id, LogBatch(new_id(), metrics=[MetricSeries("acc", [0, 1], [0.5, 0.9], [1, 2])]))
        finally:
            old.close()
        old_tables = _tables(database) - {"alembic_version"}
        assert not ACCOUNT_TABLES & old_tables
        before = _rows(database, old_tables)
        assert before["projects"] and before["runs"] and before["metric_blocks"] and before["latest_metrics"]

        assert migrate.upgrade(database) is True
        assert _revision(database) == "0009"
        assert _tables(database) == TABLES | {"alembic_version"}
        assert _rows(database, old_tables) == before
    finally:
        database.dispose()
    store = MetadataStore(backend_uri)
    try:
        assert store.accounts.count_users() == 0
        assert TrackingService(store).get_run(run.id).params == {"lr": "0.1"}
        store.audit.append([_AUDIT_ENTRY])
        with pytest.raises(DatabaseError, match="append-only"), store.database.write() as conn:
            conn.execute(text("DELETE FROM audit_log"))
        assert len(store.audit.query()) == 1
    finally:
        store.close()
