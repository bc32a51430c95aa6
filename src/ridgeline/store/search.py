"""The search-filter grammar (ridgeline.domain.filters) compiled to SQL over the runs table.

The Python evaluator ``filters.evaluate`` is the reference; property tests check that both agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, and_, false, func, literal, or_, select

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

    def order_terms(self, stmt: Select[Any], keys: list[OrderKey]) -> tuple[Select[Any], list[SortTerm]]:
        """The joins ``keys`` need and their sort terms, in order (the run id, last, is added by the caller)."""
        sort_terms: list[SortTerm] = []
        for position, key in enumerate(keys):
            terms = self._order_terms(key.field, position)
            if isinstance(terms, tuple):
                joined, columns = terms
                stmt = stmt.outerjoin(joined, and_(joined.c.run_id == runs.c.id, joined.c.key == key.field.key))
            else:
                columns = terms
            sort_terms += [SortTerm(column, key.descending) for column in columns]
        return stmt, sort_terms

    def _order_terms(self, field: Field, position: int) -> Any:
        if field.kind == "attribute":
            column = ATTRIBUTE_COLUMNS[field.key]
            return [column if field.key in NUMERIC_ATTRIBUTES else text_order(self.db, column)]
        table: FromClause = self._value_table(field.kind).alias(f"order_{position}")
        if field.kind == "metric":
            return table, [table.c.value]
        # Numeric values sort as numbers first, then the rest as text.
        return table, [table.c.num_value, text_order(self.db, table.c.value)]


@dataclass(frozen=True)
class SortTerm:
    """One ORDER BY term; missing values (NULL) always sort last, whichever the direction."""

    column: ColumnElement[Any]
    descending: bool

    def ordering(self) -> Any:
        return (self.column.desc() if self.descending else self.column.asc()).nulls_last()

    def after(self, value: Any) -> ColumnElement[bool]:
        """Rows that sort strictly after ``value`` on this term."""
        if value is None:
            return false()
        beyond = self.column < value if self.descending else self.column > value
        return or_(beyond, self.column.is_(None))

    def equal(self, value: Any) -> ColumnElement[bool]:
        return self.column.is_(None) if value is None else self.column == value


def after_position(terms: list[SortTerm], values: list[Any], run_id: str) -> ColumnElement[bool]:
    """Keyset condition: rows that sort after the row whose sort values are ``values`` and id is ``run_id``.

    Pages then never skip or repeat rows when runs are added or change between requests, and a deep page costs
    no more than the first.
    """
    choices = []
    for index, term in enumerate(terms):
        same_before = [earlier.equal(value) for earlier, value in zip(terms[:index], values, strict=False)]
        choices.append(and_(*same_before, term.after(values[index])))
    same_all = [term.equal(value) for term, value in zip(terms, values, strict=True)]
    choices.append(and_(*same_all, runs.c.id > run_id))
    return or_(*choices)


def base_query(project_ids: list[str], deleted: bool | None) -> Select[Any]:
    """Runs of the projects: live ones, deleted ones (``deleted``), or both (``deleted`` None)."""
    stmt = select(runs).where(runs.c.project_id.in_(project_ids))
    if deleted is None:
        return stmt
    return stmt.where(runs.c.deleted_at.is_not(None) if deleted else runs.c.deleted_at.is_(None))
