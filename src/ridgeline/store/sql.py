"""Small SQL helpers that hide dialect differences from the stores."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, func
from sqlalchemy.dialects import postgresql, sqlite

from ridgeline.store.database import Database


def upsert(database: Database, table: Table) -> Any:
    """An INSERT that supports ``on_conflict_do_nothing`` / ``on_conflict_do_update`` on either dialect."""
    return (sqlite.insert if database.is_sqlite else postgresql.insert)(table)


def text_order(database: Database, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """Compare text by code point on every backend (PostgreSQL would otherwise use the locale's collation)."""
    return column if database.is_sqlite else column.collate("C")


def greatest(database: Database, *values: Any) -> Any:
    """The largest of ``values`` in one row: SQLite's scalar max(), PostgreSQL's greatest()."""
    return func.max(*values) if database.is_sqlite else func.greatest(*values)
