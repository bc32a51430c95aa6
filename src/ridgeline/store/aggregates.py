"""Counts over a project's runs: how many match a filter, which keys exist, how runs split by a value.

These serve views over many runs (the UI's runs table, its column chooser and filter suggestions), so each is
one aggregate query that never loads the runs themselves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ridgeline.domain.filters import Expr
from ridgeline.store.database import Database
from ridgeline.store.schema import latest_metrics, params, runs, tags
from ridgeline.store.search import FilterCompiler, base_query

KEY_TABLES: dict[str, Any] = {"params": params, "metrics": latest_metrics, "tags": tags}


class RunAggregates:
    def __init__(self, database: Database, filters: FilterCompiler) -> None:
        self.db = database
        self.filters = filters

    def count(self, project_ids: list[str], expr: Expr | None, deleted: bool = False) -> int:
        matching = base_query(project_ids, deleted)
        if expr is not None:
            matching = matching.where(self.filters.compile(expr))
        stmt = select(func.count()).select_from(matching.subquery())
        with self.db.read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def keys(self, project_ids: list[str], deleted: bool = False) -> dict[str, list[str]]:
        """Every param, metric and tag key used by a live (or, with ``deleted``, a deleted) run of the projects."""
        found: dict[str, list[str]] = {}
        run_ids = base_query(project_ids, deleted).with_only_columns(runs.c.id)
        with self.db.read() as conn:
            for kind, table in KEY_TABLES.items():
                stmt = select(table.c.key).where(table.c.run_id.in_(run_ids)).distinct().order_by(table.c.key)
                found[kind] = list(conn.execute(stmt).scalars())
        return found

    def value_counts(
        self, project_ids: list[str], expr: Expr | None, kind: str, key: str, deleted: bool = False
    ) -> list[tuple[str | None, int]]:
        """How many matching runs hold each value of a param or tag (``None``: runs without that key)."""
        table = KEY_TABLES[kind]
        matching = base_query(project_ids, deleted)
        if expr is not None:
            matching = matching.where(self.filters.compile(expr))
        matching_ids = matching.with_only_columns(runs.c.id).subquery()
        value = table.c.value
        stmt = (
            select(value, func.count())
            .select_from(matching_ids.outerjoin(table, (table.c.run_id == matching_ids.c.id) & (table.c.key == key)))
            .group_by(value)
            .order_by(value)
        )
        with self.db.read() as conn:
            return [(row[0], int(row[1])) for row in conn.execute(stmt).all()]
