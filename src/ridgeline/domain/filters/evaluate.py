"""Plain-Python evaluation of a filter over one run: the reference the SQL compiler must match."""

from __future__ import annotations

import math
import re
import string

from ridgeline.domain.filters.nodes import COMPARATORS, And, Compare, Expr, Field, InList, Or, RunView
from ridgeline.domain.values import numeric_value

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def ascii_lower(text: str) -> str:
    """Lower-case A-Z only: unlike ``str.lower`` this is what every SQL backend can reproduce exactly."""
    return text.translate(_ASCII_LOWER)


def like_to_regex(pattern: str) -> re.Pattern[str]:
    """A regex that matches exactly the whole strings the SQL LIKE ``pattern`` matches (backslash escapes).

    Raises ValueError for a pattern that ends in an unpaired backslash, as PostgreSQL does.
    """
    # Split at the unescaped '%' into segments of fixed length ('_' is one character). Matching each middle
    # segment at its leftmost place is always right, so atomic groups forbid the backtracking that would make
    # a pattern like '%a%a%a%b' take polynomial time on a long value.
    segments: list[list[str]] = [[]]
    escaped = False
    for char in pattern:
        if escaped:
            segments[-1].append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            segments.append([])
        else:
            segments[-1].append("." if char == "_" else re.escape(char))
    if escaped:
        raise ValueError("a LIKE pattern cannot end with an unpaired backslash")
    texts = ["".join(segment) for segment in segments]
    if len(texts) == 1:
        body = texts[0]
    else:
        middle = "".join(f"(?>.*?{text})" for text in texts[1:-1] if text)
        body = texts[0] + middle + ".*" + texts[-1]
    return re.compile(rf"\A{body}\Z", re.DOTALL)


def evaluate(expr: Expr | None, run: RunView) -> bool:
    """Whether ``run`` matches ``expr`` (None matches every run); the reference semantics of search."""
    if expr is None:
        return True
    if isinstance(expr, And):
        return all(evaluate(item, run) for item in expr.items)
    if isinstance(expr, Or):
        return any(evaluate(item, run) for item in expr.items)
    if isinstance(expr, Compare):
        actual = _operand(expr.field, run, numeric=not isinstance(expr.value, str))
        return actual is not None and bool(COMPARATORS[expr.op](actual, expr.value))
    if isinstance(expr, InList):
        actual = _operand(expr.field, run, numeric=not isinstance(expr.values[0], str))
        return actual is not None and (actual in expr.values) != expr.negated
    actual = _operand(expr.field, run, numeric=False)
    if not isinstance(actual, str):
        return False
    if expr.case_insensitive:
        matched = like_to_regex(ascii_lower(expr.pattern)).match(ascii_lower(actual)) is not None
    else:
        matched = like_to_regex(expr.pattern).match(actual) is not None
    return matched != expr.negated


def _operand(target: Field, run: RunView, *, numeric: bool) -> str | float | None:
    """The run's value of ``target`` read as a number or as text, or None when no predicate on it may hold."""
    if target.kind == "metric":
        metric = run.metrics.get(target.key)
        return None if metric is None or math.isnan(metric) else float(metric)
    if target.kind == "attribute":
        attribute = run.attributes.get(target.key)
        if attribute is None:
            return None
        return float(attribute) if numeric else str(attribute)
    stored = (run.params if target.kind == "param" else run.tags).get(target.key)
    if stored is None:
        return None
    return numeric_value(stored) if numeric else stored
