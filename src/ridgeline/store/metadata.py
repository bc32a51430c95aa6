"""The metadata store: one object per backend URI, holding the per-resource stores."""

from __future__ import annotations

from ridgeline.store.database import Database
from ridgeline.store.metrics import MetricStore
from ridgeline.store.migrate import upgrade
from ridgeline.store.projects import ProjectStore
from ridgeline.store.runs import RunStore


class MetadataStore:
    def __init__(self, uri: str, *, migrate: bool = True) -> None:
        self.database = Database(uri)
        if migrate:
            upgrade(self.database)
        self.projects = ProjectStore(self.database)
        self.metrics = MetricStore(self.database)
        self.runs = RunStore(self.database, self.metrics)

    def close(self) -> None:
        self.database.dispose()
