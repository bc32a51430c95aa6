"""The search-filter grammar (ridgeline.domain.filters) compiled to SQL over the runs table.

The Python evaluator ``filters.evaluate`` is the reference; property tests check that both agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, and_, func, literal, or_, select
from sqlalchemy.sql.elements import UnaryExpression

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.filters import (
    COMPARATORS,
    NUMERIC_ATTRIBUTES,
    And,
    Compare,
    Expr,
    Field,
    InList,
    Like,
    Or,
    OrderKey,
    ascii_lower,
)
from ridgeline.store.database import Database
from ridgeline.store.schema import VALUE_PREFIX_LENGTH, latest_metrics, params, runs, tags
from ridgeline.store.sql import text_order

ATTRIBUTE_COLUMNS: dict[str, ColumnElement[Any]] = {
    "id": runs.c.id,
    "name": runs.c.name,
    "status": runs.c.status,
    "user": runs.c.user_name,
    "parent_run_id": runs.c.parent_run_id,
    "project_id": runs.c.project_id,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
}


class FilterCompiler:
    def __init__(self, database: Database) -> None:
        self.db = database

    def _value_table(self, kind: str) -> Any:
        return {"metric": latest_metrics, "param": params, "tag": tags}[kind]

    def _column_for(self, field: Field, numeric: bool, table: Any) -> ColumnElement[Any]:
        if field.kind == "metric":
            return table.c.value  # type: ignore[no-any-return]
        if numeric:
            return table.c.num_value  # type: ignore[no-any-return]
        return text_order(self.db, table.c.value)

    def _predicate(
        self, field: Field, build: Callable[[ColumnElement[Any]], ColumnElement[bool]], numeric: bool
    ) -> ColumnElement[bool]:
        """``build(column)`` applied to the field; for metrics, params and tags, over the runs holding the key.

        ``run_id IN (SELECT …)`` rather than a correlated EXISTS: the planner then reads the (key, value)
        indexes once instead of probing every run of the project.
        """
        if field.kind == "attribute":
            column = ATTRIBUTE_COLUMNS[field.key]
            if field.key not in NUMERIC_ATTRIBUTES:
                column = text_order(self.db, column)
            return and_(column.is_not(None), build(column))
        table = self._value_table(field.kind)
        return self._holding(table, field.key, build(self._column_for(field, numeric, table)))

    @staticmethod
    def _holding(table: Any, key: str, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return runs.c.id.in_(select(table.c.run_id).where(table.c.key == key, condition))

    def _text_equals(self, field: Field, values: list[str]) -> ColumnElement[bool]:
        """Equality on param or tag text through the indexed prefix; the full value is compared only when a
        wanted value is long enough to have been cut."""
        table = self._value_table(field.kind)
        prefixes = sorted({value[:VALUE_PREFIX_LENGTH] for value in values})
        condition = table.c.value_prefix.in_(prefixes) if len(prefixes) > 1 else table.c.value_prefix == prefixes[0]
        if any(len(value) >= VALUE_PREFIX_LENGTH for value in values):
            condition = and_(condition, table.c.value.in_(values))
        return self._holding(table, field.key, condition)

    def compile(self, expr: Expr) -> ColumnElement[bool]:
        if isinstance(expr, And):
            return and_(*(self.compile(item) for item in expr.items))
        if isinstance(expr, Or):
            return or_(*(self.compile(item) for item in expr.items))
        if isinstance(expr, Compare):
            op = COMPARATORS[expr.op]
            value = expr.value
            if expr.op == "=" and isinstance(value, str) and expr.field.kind in ("param", "tag"):
                return self._text_equals(expr.field, [value])
            return self._predicate(expr.field, lambda col: op(col, value), isinstance(value, float))
        if isinstance(expr, InList):
            values = list(expr.values)
            numeric = isinstance(values[0], float)
            if expr.negated:
                return self._predicate(expr.field, lambda col: col.not_in(values), numeric)
            if not numeric and expr.field.kind in ("param", "tag"):
                return self._text_equals(expr.field, [str(value) for value in values])
            return self._predicate(expr.field, lambda col: col.in_(values), numeric)
        if isinstance(expr, Like):
            return self._predicate(expr.field, lambda col: self._like(col, expr), False)
        raise InvalidArgument(f"unsupported filter node {type(expr).__name__}", field="filter")

    def _like(self, column: ColumnElement[Any], like: Like) -> ColumnElement[bool]:
        pattern = like.pattern
        if like.case_insensitive:
            # lower() of SQLite and of PostgreSQL under the C collation fold ASCII only, as ascii_lower does.
            column = func.lower(column)
            pattern = ascii_lower(pattern)
        matched = column.like(literal(pattern), escape="\\")
        return ~matched if like.negated else matched

    def order_clauses(self, stmt: Select[Any], keys: list[OrderKey]) -> tuple[Select[Any], list[Any]]:
        """Joins and ORDER BY terms for ``keys``; missing values always sort last."""
        clauses: list[UnaryExpression[Any]] = []
        for position, key in enumerate(keys):
            terms = self._order_terms(key.field, position)
            if isinstance(terms, tuple):
                joined, columns = terms
                stmt = stmt.outerjoin(joined, and_(joined.c.run_id == runs.c.id, joined.c.key == key.field.key))
            else:
                columns = terms
            for column in columns:
                ordered = column.desc() if key.descending else column.asc()
                clauses.append(ordered.nulls_last())
        return stmt, clauses

    def _order_terms(self, field: Field, position: int) -> Any:
        if field.kind == "attribute":
            column = ATTRIBUTE_COLUMNS[field.key]
            return [column if field.key in NUMERIC_ATTRIBUTES else text_order(self.db, column)]
        table: FromClause = self._value_table(field.kind).alias(f"order_{position}")
        if field.kind == "metric":
            return table, [table.c.value]
        # Numeric values sort as numbers first, then the rest as text.
        return table, [table.c.num_value, text_order(self.db, table.c.value)]


def base_query(project_ids: list[str], deleted: bool) -> Select[Any]:
    return select(runs).where(
        runs.c.project_id.in_(project_ids),
        runs.c.deleted_at.is_not(None) if deleted else runs.c.deleted_at.is_(None),
    )
