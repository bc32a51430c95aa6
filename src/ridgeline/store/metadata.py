"""The metadata store: one object per backend URI, holding the per-resource stores."""

from __future__ import annotations

from ridgeline.store.accounts import AccountStore
from ridgeline.store.aggregates import RunAggregates
from ridgeline.store.artifact_records import ArtifactRecords
from ridgeline.store.audit import AuditStore
from ridgeline.store.database import Database
from ridgeline.store.datasets import DatasetStore
from ridgeline.store.logged_models import LoggedModelStore
from ridgeline.store.members import MemberStore
from ridgeline.store.metrics import MetricStore
from ridgeline.store.migrate import upgrade
from ridgeline.store.monitors import MonitorStore
from ridgeline.store.projects import ProjectStore
from ridgeline.store.registry import RegistryStore
from ridgeline.store.retention import RetentionStore
from ridgeline.store.runs import RunStore


class MetadataStore:
    def __init__(self, uri: str, *, migrate: bool = True) -> None:
        self.database = Database(uri)
        if migrate:
            upgrade(self.database)
        self.projects = ProjectStore(self.database)
        self.metrics = MetricStore(self.database)
        self.runs = RunStore(self.database, self.metrics)
        self.aggregates = RunAggregates(self.database, self.runs.filters)
        self.artifacts = ArtifactRecords(self.database)
        self.datasets = DatasetStore(self.database)
        self.retention = RetentionStore(self.database)
        self.registry = RegistryStore(self.database)
        self.logged_models = LoggedModelStore(self.database)
        self.monitors = MonitorStore(self.database)
        self.accounts = AccountStore(self.database)
        self.members = MemberStore(self.database)
        self.audit = AuditStore(self.database)

    def refresh_statistics(self) -> None:
        """Let SQLite's planner know the tables' shapes (PostgreSQL's autovacuum does this by itself).

        Without statistics SQLite may probe every run of a project instead of reading the key/value indexes.
        ``analysis_limit`` keeps this to milliseconds however large the database is.
        """
        if self.database.is_sqlite:
            with self.database.write() as conn:
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                conn.exec_driver_sql("ANALYZE")

    def close(self) -> None:
        self.database.dispose()
