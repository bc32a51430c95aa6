r"""The search-filter grammar: one language for the native API, the MLflow-compatible API and the UI.

Grammar (keywords ``and or not in like ilike asc desc`` and field prefixes are case-insensitive)::

    filter    := or_expr                      empty or whitespace-only text means "no filter"
    or_expr   := and_expr ('or' and_expr)*     'and' binds tighter than 'or'
    and_expr  := atom ('and' atom)*
    atom      := '(' or_expr ')'
               | field op literal
               | field ['not'] 'in' '(' literal (',' literal)* ')'
               | field ['not'] ('like' | 'ilike') string
    op        := '=' | '==' | '!=' | '<>' | '<' | '<=' | '>' | '>='     ('==' is '=', '<>' is '!=')
    field     := prefix '.' key
    prefix    := metrics | metric | params | param | tags | tag | attributes | attribute | attr | run
    key       := bare | '`' any text, a backtick written as two backticks '`'
    bare      := [A-Za-z0-9_\-./:]+              so metrics.train/loss and params.optimizer.lr need no quotes
    literal   := number | string
    number    := [+-]? (digits ['.' digits] | '.' digits) [('e'|'E') [+-]? digits]     e.g. -1, 0.5, .5, 1e-3
    string    := '...' or "..." ; \' \" \\ stand for the quote or backslash, any other backslash is kept
                 as written (so 'a\%' is the LIKE pattern a\% that matches "a%")

    order_by  := field ['asc' | 'desc'] (',' field ['asc' | 'desc'])*     ascending unless 'desc'

No text of a filter or order_by may hold a NUL character or a lone surrogate: no stored value holds one and the
SQL backends cannot take them, so they are refused where they stand.

Attributes (``attributes.<name>``, names case-insensitive): ``id`` (alias ``run_id``), ``name`` (alias
``run_name``), ``status``, ``user``, ``parent_run_id`` and ``project_id`` are text; ``start_time`` and
``end_time`` are numbers (epoch milliseconds).

Typing, checked when parsing:

- metrics compare with numbers only and take no ``like``;
- params and tags compare as text with a string literal (code-point order, as Python orders ``str``) and as
  numbers with a number literal, reading the stored text with :func:`ridgeline.domain.values.numeric_value`;
  the values of one ``in`` list are all strings or all numbers;
- text attributes take strings and ``like``; numeric attributes take numbers.

Evaluation (:func:`evaluate` is the reference the SQL compiler must match):

- a run without the metric, param or tag, a NaN metric, an attribute that is None (the ``end_time`` of a
  running run) and a param or tag that is not a number in a numeric comparison make EVERY predicate on that
  field false, ``!=``, ``not in`` and ``not like`` included: a negation only selects runs that have a value;
- ``like`` is SQL LIKE over the whole value: ``%`` is any run of characters, ``_`` exactly one, a backslash
  makes the next character literal; ``like`` is case-sensitive, ``ilike`` lower-cases both sides for ASCII
  letters only (:func:`ascii_lower`) so that every SQL backend can agree with it.
"""

from __future__ import annotations

from ridgeline.domain.filters.evaluate import ascii_lower, evaluate, like_to_regex
from ridgeline.domain.filters.nodes import (
    COMPARATORS,
    MAX_FILTER_LENGTH,
    MAX_ORDER_KEYS,
    MAX_PREDICATES,
    NUMERIC_ATTRIBUTES,
    STRING_ATTRIBUTES,
    And,
    Compare,
    CompareOp,
    Expr,
    Field,
    FieldKind,
    FilterError,
    InList,
    Like,
    Or,
    OrderKey,
    RunView,
)
from ridgeline.domain.filters.parser import parse_filter, parse_order_by
from ridgeline.domain.filters.text import format_field, format_filter, iter_fields

__all__ = [
    "COMPARATORS",
    "MAX_FILTER_LENGTH",
    "MAX_ORDER_KEYS",
    "MAX_PREDICATES",
    "NUMERIC_ATTRIBUTES",
    "STRING_ATTRIBUTES",
    "And",
    "Compare",
    "CompareOp",
    "Expr",
    "Field",
    "FieldKind",
    "FilterError",
    "InList",
    "Like",
    "Or",
    "OrderKey",
    "RunView",
    "ascii_lower",
    "evaluate",
    "format_field",
    "format_filter",
    "iter_fields",
    "like_to_regex",
    "parse_filter",
    "parse_order_by",
]
