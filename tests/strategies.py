"""Hypothesis strategies shared by test modules (``tests/`` is on sys.path through conftest.py)."""

from __future__ import annotations

import string
from collections.abc import Sequence

from hypothesis import strategies as st

from ridgeline.domain.filters import (
    And,
    Compare,
    CompareOp,
    Expr,
    Field,
    FieldKind,
    InList,
    Like,
    Or,
    RunView,
)

OPS: tuple[CompareOp, ...] = ("=", "!=", "<", "<=", ">", ">=")
STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED")
PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126)

# Values are drawn mostly from small pools so that generated filters and generated runs meet often enough
# for equality and ordering to be exercised, not only "no match".
_SMALL_NUMBERS = st.sampled_from([-2.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 10.0])
_SMALL_TEXTS = st.sampled_from(["", "a", "B", "rf", "sgd", "1", "2.5", "10", "abc%", "x_y"])


def filter_numbers() -> st.SearchStrategy[float]:
    """Finite numbers, mostly from a small pool; no subnormals, which not every SQL backend stores exactly."""
    return st.one_of(
        _SMALL_NUMBERS,
        st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False),
    )


def filter_texts() -> st.SearchStrategy[str]:
    """ASCII printable strings, numeric-looking ones included."""
    return st.one_of(_SMALL_TEXTS, st.text(PRINTABLE, max_size=6))


def like_patterns() -> st.SearchStrategy[str]:
    """LIKE patterns mixing wildcards, escapes and literal ASCII text (never a dangling backslash)."""
    literal = st.text(PRINTABLE.filter(lambda char: char not in "\\%_"), min_size=1, max_size=3)
    piece = st.one_of(st.sampled_from(["%", "_", "\\%", "\\_", "\\\\"]), literal)
    return st.lists(piece, max_size=5).map("".join)


def _flatten(cls: type[And] | type[Or], items: list[Expr]) -> Expr:
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat))


def _number_predicates(
    fields: st.SearchStrategy[Field], numbers: st.SearchStrategy[float]
) -> list[st.SearchStrategy[Expr]]:
    return [
        st.builds(Compare, fields, st.sampled_from(OPS), numbers),
        st.builds(InList, fields, st.lists(numbers, min_size=1, max_size=3).map(tuple), st.booleans()),
    ]


def _text_predicates(fields: st.SearchStrategy[Field], texts: st.SearchStrategy[str]) -> list[st.SearchStrategy[Expr]]:
    return [
        st.builds(Compare, fields, st.sampled_from(OPS), texts),
        st.builds(InList, fields, st.lists(texts, min_size=1, max_size=3).map(tuple), st.booleans()),
        st.builds(Like, fields, like_patterns(), st.booleans(), st.booleans()),
    ]


def predicates(
    metric_keys: Sequence[str], param_keys: Sequence[str], tag_keys: Sequence[str]
) -> st.SearchStrategy[Expr]:
    """Single valid predicates (no And/Or) over the given keys and the attributes status, name, start_time."""
    leaves: list[st.SearchStrategy[Expr]] = []
    if metric_keys:
        leaves += _number_predicates(
            st.sampled_from(metric_keys).map(lambda key: Field("metric", key)), filter_numbers()
        )
    text_kinds: tuple[tuple[FieldKind, Sequence[str]], ...] = (("param", param_keys), ("tag", tag_keys))
    for kind, keys in text_kinds:
        if keys:
            fields = st.sampled_from([Field(kind, key) for key in keys])
            leaves += _text_predicates(fields, filter_texts()) + _number_predicates(fields, filter_numbers())
    leaves += _text_predicates(st.just(Field("attribute", "status")), st.sampled_from(STATUSES))
    leaves += _text_predicates(st.just(Field("attribute", "name")), filter_texts())
    leaves += _number_predicates(
        st.just(Field("attribute", "start_time")),
        st.one_of(filter_numbers(), st.integers(0, 2_000_000_000_000).map(float)),
    )
    return st.one_of(leaves)


def filter_exprs(
    metric_keys: Sequence[str], param_keys: Sequence[str], tag_keys: Sequence[str]
) -> st.SearchStrategy[Expr]:
    """Valid filter ASTs over these keys, shaped as parse_filter builds them (And/Or flattened, 2+ items)."""
    return st.recursive(
        predicates(metric_keys, param_keys, tag_keys),
        lambda children: st.one_of(
            st.lists(children, min_size=2, max_size=3).map(lambda items: _flatten(And, items)),
            st.lists(children, min_size=2, max_size=3).map(lambda items: _flatten(Or, items)),
        ),
        max_leaves=8,
    )


def run_views(
    metric_keys: Sequence[str], param_keys: Sequence[str], tag_keys: Sequence[str]
) -> st.SearchStrategy[RunView]:
    """Runs near the filter pools that sometimes lack a key, hold a NaN metric or text that is no number."""
    metric_values = st.one_of(filter_numbers(), st.just(float("nan")))
    texts = st.one_of(filter_texts(), filter_numbers().map(repr), st.text(string.ascii_letters, max_size=3))
    return st.builds(
        RunView,
        attributes=st.fixed_dictionaries(
            {
                "id": st.text(string.hexdigits, min_size=1, max_size=4),
                "name": filter_texts(),
                "status": st.sampled_from(STATUSES),
                "user": st.just("alice"),
                "parent_run_id": st.none(),
                "project_id": st.just("p1"),
                "start_time": st.integers(0, 2_000_000_000_000),
                "end_time": st.one_of(st.none(), st.integers(0, 2_000_000_000_000)),
            }
        ),
        metrics=st.dictionaries(st.sampled_from(metric_keys), metric_values) if metric_keys else st.just({}),
        params=st.dictionaries(st.sampled_from(param_keys), texts) if param_keys else st.just({}),
        tags=st.dictionaries(st.sampled_from(tag_keys), texts) if tag_keys else st.just({}),
    )
