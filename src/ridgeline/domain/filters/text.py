"""The canonical text of a filter, and walking its fields."""

from __future__ import annotations

import math
from collections.abc import Iterator

from ridgeline.domain.filters.nodes import (
    _BARE_KEY,
    _CANONICAL_PREFIX,
    _STRING_ESCAPES,
    And,
    Compare,
    Expr,
    Field,
    InList,
    Or,
)


def format_filter(expr: Expr) -> str:
    """The canonical text of ``expr``; ``parse_filter(format_filter(e)) == e`` for every parsed ``e``."""
    if isinstance(expr, And):
        return " and ".join(
            f"({format_filter(item)})" if isinstance(item, Or) else format_filter(item) for item in expr.items
        )
    if isinstance(expr, Or):
        return " or ".join(format_filter(item) for item in expr.items)
    if isinstance(expr, Compare):
        return f"{format_field(expr.field)} {expr.op} {_format_literal(expr.value)}"
    negation = "not " if expr.negated else ""
    if isinstance(expr, InList):
        values = ", ".join(_format_literal(value) for value in expr.values)
        return f"{format_field(expr.field)} {negation}in ({values})"
    keyword = "ilike" if expr.case_insensitive else "like"
    return f"{format_field(expr.field)} {negation}{keyword} {_format_literal(expr.pattern)}"


def format_field(target: Field) -> str:
    """``metrics.KEY`` and the like, with the key in backticks when it needs them."""
    key = target.key
    if not _BARE_KEY.fullmatch(key):
        key = "`" + key.replace("`", "``") + "`"
    return f"{_CANONICAL_PREFIX[target.kind]}.{key}"


def _format_literal(value: str | float) -> str:
    if isinstance(value, str):
        return "'" + _STRING_ESCAPES.sub(lambda match: "\\" + match.group(), value) + "'"
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"a filter number must be finite, not {number!r}")
    text = repr(number)  # the shortest text that reads back as the same float
    return text.removesuffix(".0")


def iter_fields(expr: Expr | None) -> Iterator[Field]:
    """Every field ``expr`` uses, in text order (repeats included)."""
    if isinstance(expr, And | Or):
        for item in expr.items:
            yield from iter_fields(item)
    elif expr is not None:
        yield expr.field
