"""The filter AST, its vocabulary (prefixes, attributes, operators) and its limits."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from ridgeline.domain.errors import InvalidArgument

FieldKind = Literal["metric", "param", "tag", "attribute"]
CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]

STRING_ATTRIBUTES: tuple[str, ...] = ("id", "name", "status", "user", "parent_run_id", "project_id")
NUMERIC_ATTRIBUTES: tuple[str, ...] = ("start_time", "end_time")
_ATTRIBUTE_ALIASES = {"run_id": "id", "run_name": "name"}

_PREFIXES: dict[str, FieldKind] = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
_CANONICAL_PREFIX: dict[FieldKind, str] = {
    "metric": "metrics",
    "param": "params",
    "tag": "tags",
    "attribute": "attributes",
}
_OPERATORS: dict[str, CompareOp] = {
    "=": "=",
    "==": "=",
    "!=": "!=",
    "<>": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}
COMPARATORS: dict[CompareOp, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

# Nesting is bounded so that a hostile filter gets a FilterError rather than a RecursionError (an HTTP 500).
_MAX_DEPTH = 100
MAX_FILTER_LENGTH = 10_000
MAX_PREDICATES = 200
MAX_ORDER_KEYS = 10

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_\-./:]+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# A maximal run, so that '>>' or '=<' is reported whole instead of as a valid operator plus garbage.
_OPERATOR_RUN = re.compile(r"[=!<>]+")
# Characters no stored value holds (validation refuses them) and no backend can be asked about: PostgreSQL refuses
# NUL in text, SQLite's LIKE stops reading at it, and a lone surrogate cannot be encoded for either.
_UNSEARCHABLE = re.compile("[\x00\ud800-\udfff]")
# Escape a backslash only where leaving it bare would change its meaning; other backslashes stay readable.
_STRING_ESCAPES = re.compile(r"""\\(?=[\\'"]|\Z)|'""")


class FilterError(InvalidArgument):
    """A filter or order_by text that breaks the grammar; ``position`` is the 0-based offset of the fault."""

    def __init__(self, message: str, *, position: int, field: str = "filter") -> None:
        super().__init__(message, field=field, details={"position": position})
        self.position = position


@dataclass(frozen=True, slots=True)
class Field:
    kind: FieldKind
    key: str  # for attributes the canonical name (``id``, never ``run_id``)


@dataclass(frozen=True, slots=True)
class Compare:
    field: Field
    op: CompareOp
    value: str | float  # the literal's type decides between text and numeric comparison


@dataclass(frozen=True, slots=True)
class InList:
    field: Field
    values: tuple[str | float, ...]  # never empty; all strings or all numbers
    negated: bool


@dataclass(frozen=True, slots=True)
class Like:
    field: Field
    pattern: str
    negated: bool
    case_insensitive: bool


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]  # two or more, none of them an And


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]  # two or more, none of them an Or


Expr: TypeAlias = Compare | InList | Like | And | Or


@dataclass(frozen=True, slots=True)
class OrderKey:
    field: Field
    descending: bool


@dataclass(frozen=True, slots=True)
class RunView:
    """What :func:`evaluate` reads of a run: attributes by canonical name, latest metrics, params and tags."""

    attributes: Mapping[str, str | int | float | None] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
