"""The search-filter grammar: parsing, errors, canonical text, and the reference evaluation."""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.filters import (
    NUMERIC_ATTRIBUTES,
    STRING_ATTRIBUTES,
    And,
    Compare,
    CompareOp,
    Expr,
    Field,
    FilterError,
    InList,
    Like,
    Or,
    OrderKey,
    RunView,
    ascii_lower,
    evaluate,
    format_filter,
    iter_fields,
    like_to_regex,
    parse_filter,
    parse_order_by,
)
from ridgeline.domain.values import numeric_value
from strategies import OPS, filter_exprs, like_patterns, predicates, run_views

PROPERTY = settings(max_examples=200, deadline=None)

# Keys for every quoting rule: slashes and dots stay bare; spaces, backticks and non-ASCII need backticks.
METRIC_KEYS = ["acc", "train/loss", "val loss", "a`b"]
PARAM_KEYS = ["lr", "optimizer.lr", "1", "-"]
TAG_KEYS = ["team", "k8s:ns", "é"]

PY_OPS: dict[CompareOp, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
OPPOSITE: dict[CompareOp, CompareOp] = {"=": "!=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def metric(key: str) -> Field:
    return Field("metric", key)


def param(key: str) -> Field:
    return Field("param", key)


def tag(key: str) -> Field:
    return Field("tag", key)


def attr(key: str) -> Field:
    return Field("attribute", key)


A = Compare(metric("a"), ">", 1.0)
B = Compare(param("b"), "=", "x")
C = Compare(tag("c"), "!=", "y")
D = Compare(metric("d"), "<", 0.0)


# --------------------------------------------------------------------------------------------- good parses


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.a > 1 and params.b = 'x' or tags.c != 'y'", Or((And((A, B)), C))),
        ("metrics.a > 1 or params.b = 'x' and tags.c != 'y'", Or((A, And((B, C))))),
        ("(metrics.a > 1 or params.b = 'x') and tags.c != 'y'", And((Or((A, B)), C))),
        ("metrics.a > 1 and (params.b = 'x' and tags.c != 'y')", And((A, B, C))),
        ("(metrics.a > 1 or params.b = 'x') or (tags.c != 'y' or metrics.d < 0)", Or((A, B, C, D))),
        ("((metrics.a > 1))", A),
        ("metrics.a>1 AND params.b='x' Or tags.c<>'y'", Or((And((A, B)), C))),
    ],
)
def test_precedence_parentheses_and_flattening(text: str, expected: Expr) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("written", "op"),
    [
        ("=", "="),
        ("==", "="),
        ("!=", "!="),
        ("<>", "!="),
        ("<", "<"),
        ("<=", "<="),
        (">", ">"),
        (">=", ">="),
    ],
)
def test_operators_and_their_spellings(written: str, op: str) -> None:
    assert parse_filter(f"metrics.m {written} 2") == Compare(metric("m"), op, 2.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("-1", -1.0),
        ("+2", 2.0),
        ("0.5", 0.5),
        (".5", 0.5),
        ("1.", 1.0),
        ("1e-3", 0.001),
        ("1E+3", 1000.0),
        ("'it\\'s'", "it's"),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'back\\\\slash'", "back\\slash"),
        ("'a\\%b'", "a\\%b"),
        ("'\"'", '"'),
        ('"\'"', "'"),
        ("''", ""),
        ("'x\ny'", "x\ny"),
        ("'é ünï'", "é ünï"),
    ],
)
def test_literals(literal: str, value: str | float) -> None:
    assert parse_filter(f"params.p = {literal}") == Compare(param("p"), "=", value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.model in ('rf', \"svm\")", InList(param("model"), ("rf", "svm"), negated=False)),
        ("metrics.x not in (1, 2.5,-3)", InList(metric("x"), (1.0, 2.5, -3.0), negated=True)),
        ("tags.t NOT IN ('a')", InList(tag("t"), ("a",), negated=True)),
        ("params.n in(1)", InList(param("n"), (1.0,), negated=False)),
        (
            "attributes.status in ('FAILED', 'KILLED')",
            InList(attr("status"), ("FAILED", "KILLED"), negated=False),
        ),
        ("attributes.end_time not in (0)", InList(attr("end_time"), (0.0,), negated=True)),
        ("tags.t like 'res%'", Like(tag("t"), "res%", negated=False, case_insensitive=False)),
        ("tags.t ILIKE 'res%'", Like(tag("t"), "res%", negated=False, case_insensitive=True)),
        ("params.p not like '_x'", Like(param("p"), "_x", negated=True, case_insensitive=False)),
        (
            "attributes.name Not iLike 'a\\_b'",
            Like(attr("name"), "a\\_b", negated=True, case_insensitive=True),
        ),
    ],
)
def test_lists_and_patterns(text: str, expected: Expr) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("metrics.train/loss < 1", metric("train/loss")),
        ("params.optimizer.lr < 1", param("optimizer.lr")),
        ("tags.k8s:ns-1 < 'x'", tag("k8s:ns-1")),
        ("metrics.`val loss` < 1", metric("val loss")),
        ("tags.`a``b` < 'x'", tag("a`b")),
        ("tags.```` < 'x'", tag("`")),
        ("params.`a, b) or (` < 'x'", param("a, b) or (")),
        ("metric.m < 1", metric("m")),
        ("METRICS.m < 1", metric("m")),
        ("param.p < 'x'", param("p")),
        ("Tag.t < 'x'", tag("t")),
        ("attribute.status < 'x'", attr("status")),
        ("attr.run_id < 'x'", attr("id")),
        ("run.run_name < 'x'", attr("name")),
        ("attributes.Start_Time < 1", attr("start_time")),
        ("attributes.`user` < 'x'", attr("user")),
    ],
)
def test_fields_keys_and_aliases(text: str, field: Field) -> None:
    expr = parse_filter(text)
    assert isinstance(expr, Compare)
    assert expr.field == field


@pytest.mark.parametrize("text", ["", "   ", " \n\t "])
def test_blank_filter_is_no_filter(text: str) -> None:
    assert parse_filter(text) is None


def test_nesting_up_to_the_limit_parses() -> None:
    assert parse_filter("(" * 100 + "metrics.a > 1" + ")" * 100) == A


# --------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("params.a = 'abc", 11, "unterminated string; expected a closing '"),
        ('params.a = "abc\\"', 11, 'expected a closing "'),
        ("metrics.a > 1 and", 17, "(end of text): expected a field"),
        ("metrics.a > 1 and ()", 19, "near ')': expected a field"),
        ("()", 1, "expected a field"),
        ("metrics.a > 1 or or metrics.b > 1", 17, "near 'or': expected a field"),
        ("acc > 1", 0, "near 'acc': expected a field such as metrics.acc"),
        ("foo.bar = 1", 0, "unknown field prefix 'foo'; expected metrics, params, tags or attributes"),
        ("attributes.colour = 'x'", 0, "unknown attribute 'colour'; expected one of id, name, status"),
        ("metrics.acc = 'high'", 14, "near \"'high'\": expected a number: metrics compare with numbers"),
        ("metrics.acc in (1, 'a')", 19, "metrics compare with numbers"),
        ("metrics.acc like 'x%'", 12, "metrics cannot use 'like'"),
        ("params.p in ('a', 1)", 18, "expected list values that are all strings or all numbers"),
        ("tags.t in (1, 2, 'a')", 17, "all strings or all numbers"),
        (
            "metrics.acc >> 0.9",
            12,
            "near '>>': expected a comparison operator (=, !=, <, <=, >, >=), 'in' or 'like'",
        ),
        ("metrics.acc ! 0.9", 12, "expected a comparison operator"),
        ("metrics.acc 0.9", 12, "expected a comparison operator"),
        ("metrics.acc", 11, "(end of text): expected a comparison operator"),
        ("metrics.acc > 0.9 params.x = 'a'", 18, "expected 'and', 'or' or the end of the filter"),
        ("(metrics.a > 1", 14, "expected 'and', 'or' or ')'"),
        ("metrics.a > 1)", 13, "near ')': expected 'and', 'or' or the end"),
        ("metrics.a in ()", 14, "expected a number or a quoted string"),
        ("metrics.a in (1,)", 16, "expected a number or a quoted string"),
        ("metrics.a in (1 2)", 16, "expected ',' or ')'"),
        ("metrics.a in 1", 13, "expected '(' to open the list"),
        ("metrics.a > ", 12, "(end of text): expected a number or a quoted string"),
        ("metrics.a > b", 12, "expected a number or a quoted string"),
        ("metrics. > 1", 8, "expected a key after 'metrics.'"),
        ("metrics.`` > 1", 8, "expected a non-empty key"),
        ("metrics.`abc > 1", 8, "unterminated key; expected a closing `"),
        ("metrics.a > 1x", 12, "malformed number"),
        ("metrics.a > 1.2.3", 12, "malformed number"),
        ("metrics.a > 1e999", 12, "number out of range"),
        ("metrics.a > 1 & metrics.b > 2", 14, "near '&': expected 'and', 'or' or the end"),
        ("attributes.status = 1", 20, "expected a quoted string: attributes.status (text) is text"),
        ("attributes.start_time > '2024'", 24, "expected a number: attributes.start_time"),
        ("attributes.start_time like '1%'", 22, "cannot use 'like'"),
        ("params.a like 1", 14, "expected a quoted pattern"),
        ("params.a like 'x\\\\'", 14, "unpaired backslash"),
        ("params.a not = 'x'", 13, "expected 'in', 'like' or 'ilike' after 'not'"),
        ("params.a not", 12, "after 'not'"),
        ("  metrics.a ~ 1", 12, "near '~'"),
        ("(" * 101 + "metrics.a > 1" + ")" * 101, 100, "nested deeper than 100"),
    ],
)
def test_bad_filters_say_where_and_what_was_expected(text: str, position: int, fragment: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    error = caught.value
    assert error.position == position
    assert f"Invalid filter at position {position}" in error.message
    assert fragment in error.message


def test_filter_error_is_an_invalid_argument_on_the_filter_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_filter("metrics.acc = 'x'")
    assert isinstance(caught.value, FilterError)
    assert caught.value.to_dict() == {
        "code": "INVALID_ARGUMENT",
        "message": caught.value.message,
        "field": "filter",
        "details": {"position": 14},
    }


def test_long_offending_text_is_shortened_in_the_message() -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter("params.a = '" + "x" * 100)
    assert 'near "\'xxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."' in caught.value.message


def test_unknown_attribute_lists_every_valid_name() -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter("attributes.created > 1")
    for name in (*STRING_ATTRIBUTES, *NUMERIC_ATTRIBUTES, "run_id", "run_name"):
        assert name in caught.value.message


# ----------------------------------------------------------------------------------------- canonical text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (
            "Metric.acc >= 1.0 AND (param.a = \"x\" OR tag.`b c` <> 'y')",
            "metrics.acc >= 1 and (params.a = 'x' or tags.`b c` != 'y')",
        ),
        ("attr.RUN_ID == 'r1' or run.end_time < 1e16", "attributes.id = 'r1' or attributes.end_time < 1e+16"),
        ("metrics.m in (0.1, -0, 1e-7, 100)", "metrics.m in (0.1, -0, 1e-07, 100)"),
        ('params.p NOT ILIKE "it\'s 50\\%"', "params.p not ilike 'it\\'s 50\\%'"),
        ("tags.t not in ('a\\\\', 'b\\\\\\\\c')", "tags.t not in ('a\\\\', 'b\\\\\\c')"),
        ("tags.`a``b` like 'x'", "tags.`a``b` like 'x'"),
    ],
)
def test_format_is_canonical(text: str, canonical: str) -> None:
    expr = parse_filter(text)
    assert expr is not None
    assert format_filter(expr) == canonical
    assert parse_filter(canonical) == expr


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
def test_format_refuses_numbers_a_filter_cannot_spell(number: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        format_filter(Compare(metric("m"), ">", number))


@PROPERTY
@given(filter_exprs(METRIC_KEYS, PARAM_KEYS, TAG_KEYS))
def test_format_then_parse_round_trips(expr: Expr) -> None:
    assert parse_filter(format_filter(expr)) == expr


# Any text a filter may hold: everything but NUL and lone surrogates, which the grammar refuses.
SEARCHABLE_TEXT = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])


@PROPERTY
@given(
    key=st.text(SEARCHABLE_TEXT, min_size=1),
    value=st.text(SEARCHABLE_TEXT),
    number=st.floats(allow_nan=False, allow_infinity=False),
)
def test_any_key_string_and_number_round_trip(key: str, value: str, number: float) -> None:
    expr = And((Compare(tag(key), "=", value), Compare(metric(key), "<=", number)))
    parsed = parse_filter(format_filter(expr))
    assert parsed == expr
    assert isinstance(parsed, And) and isinstance(parsed.items[1], Compare)
    assert math.copysign(1.0, float(parsed.items[1].value)) == math.copysign(1.0, number)


@pytest.mark.parametrize(
    ("text", "position"),
    [("tags.t = 'a\x00'", 11), ("params.`k\x00` = 'a'", 9), ("tags.t like '\udc80%'", 13)],
)
def test_nul_and_lone_surrogates_are_refused_where_they_stand(text: str, position: int) -> None:
    """No stored value holds them, PostgreSQL cannot take NUL in text and neither backend a lone surrogate."""
    with pytest.raises(FilterError, match="a NUL character or a lone surrogate") as refused:
        parse_filter(text)
    assert refused.value.position == position and refused.value.field == "filter"
    with pytest.raises(FilterError) as refused_order:
        parse_order_by(["metrics.a", "tags.`x\x00`"])
    assert refused_order.value.field == "order_by"


def test_iter_fields_lists_fields_in_text_order() -> None:
    expr = parse_filter("metrics.a > 1 and (tags.t like 'x' or run.status in ('FAILED')) and metrics.a < 5")
    assert list(iter_fields(expr)) == [metric("a"), tag("t"), attr("status"), metric("a")]
    assert list(iter_fields(None)) == []


# ------------------------------------------------------------------------------------------------ order_by


def test_order_by_text_and_list() -> None:
    expected = [OrderKey(metric("acc"), descending=True), OrderKey(param("lr"), descending=False)]
    assert parse_order_by("metrics.acc desc, params.lr ASC") == expected
    assert parse_order_by(["metrics.acc DESC", "params.lr"]) == expected
    assert parse_order_by("attr.run_name, tags.`a,b` desc") == [
        OrderKey(attr("name"), descending=False),
        OrderKey(tag("a,b"), descending=True),
    ]


@pytest.mark.parametrize("blank", [None, "", "  ", [], [""]])
def test_blank_order_by_is_no_order(blank: str | list[str] | None) -> None:
    assert parse_order_by(blank) == []


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("metrics.acc desc desc", 17, "expected 'asc', 'desc', ',' or the end"),
        ("metrics.acc,", 12, "(end of text): expected a field"),
        ("acc desc", 0, "expected a field"),
        ("attributes.nope", 0, "unknown attribute 'nope'"),
        (["metrics.a", "metrics.b up"], 10, "expected 'asc', 'desc', ',' or the end"),
    ],
)
def test_bad_order_by(text: str | list[str], position: int, fragment: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_order_by(text)
    assert caught.value.field == "order_by"
    assert caught.value.position == position
    assert caught.value.message.startswith(f"Invalid order_by at position {position}")
    assert fragment in caught.value.message


# ------------------------------------------------------------------------------------------------ evaluate


def reference_like(pattern: str, value: str) -> bool:
    """SQL LIKE by plain recursion over (pattern token, value position): slow, obviously right."""
    tokens: list[tuple[str, str]] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            tokens.append(("literal", next(chars)))
        elif char in "%_":
            tokens.append((char, ""))
        else:
            tokens.append(("literal", char))

    @functools.cache
    def match(t: int, v: int) -> bool:
        if t == len(tokens):
            return v == len(value)
        kind, char = tokens[t]
        if kind == "%":
            return any(match(t + 1, rest) for rest in range(v, len(value) + 1))
        if v == len(value):
            return False
        return (kind == "_" or value[v] == char) and match(t + 1, v + 1)

    return match(0, 0)


LIKE_VALUES = st.text(st.sampled_from("aAbB%_\\\n"), max_size=8)
LIKE_PATTERNS = st.one_of(
    like_patterns(), st.lists(st.sampled_from(["a", "B", "%", "_", "\\%", "\\\\"]), max_size=6).map("".join)
)


@PROPERTY
@given(pattern=LIKE_PATTERNS, value=LIKE_VALUES)
def test_like_matches_sql_like(pattern: str, value: str) -> None:
    expected = reference_like(pattern, value)
    assert (like_to_regex(pattern).search(value) is not None) == expected
    run = RunView(params={"p": value})
    assert evaluate(Like(param("p"), pattern, negated=False, case_insensitive=False), run) == expected
    assert evaluate(Like(param("p"), pattern, negated=True, case_insensitive=False), run) != expected
    ilike = reference_like(ascii_lower(pattern), ascii_lower(value))
    assert evaluate(Like(param("p"), pattern, negated=False, case_insensitive=True), run) == ilike


def test_ilike_folds_ascii_letters_only() -> None:
    assert ascii_lower("ÀBÉc-Z") == "ÀbÉc-z"
    run = RunView(tags={"t": "ÉCOLE Model"})
    assert evaluate(parse_filter("tags.t ilike 'É%model'"), run)
    assert not evaluate(parse_filter("tags.t ilike 'é%model'"), run)
    assert not evaluate(parse_filter("tags.t like 'É%model'"), run)


def test_like_escapes_and_spans_lines() -> None:
    run = RunView(params={"p": "50%\nof_it"})
    assert evaluate(parse_filter("params.p like '50\\%%of\\_it'"), run)
    assert not evaluate(parse_filter("params.p like '5\\%%'"), run)
    assert evaluate(parse_filter("params.p like '__%\n%'"), run)


def test_like_is_linear_on_many_wildcards() -> None:
    # Backtracking regexes take polynomial time here; the segment-wise regex answers at once.
    assert not like_to_regex("%a%a%a%a%a%a%b").match("a" * 20_000)
    assert like_to_regex("%a%a%a%a%a%a%").match("a" * 20_000)


@PROPERTY
@given(
    stored=st.one_of(st.none(), st.floats(allow_infinity=False)),
    op=st.sampled_from(OPS),
    literal=st.floats(allow_nan=False, allow_infinity=False),
)
def test_metric_comparison(stored: float | None, op: CompareOp, literal: float) -> None:
    run = RunView(metrics={} if stored is None else {"m": stored})
    usable = stored is not None and not math.isnan(stored)
    expected = usable and bool(PY_OPS[op](stored, literal))
    assert evaluate(Compare(metric("m"), op, literal), run) == expected
    in_list = stored in (literal, 0.0)
    assert evaluate(InList(metric("m"), (literal, 0.0), negated=False), run) == (usable and in_list)
    assert evaluate(InList(metric("m"), (literal, 0.0), negated=True), run) == (usable and not in_list)


@PROPERTY
@given(
    number=st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    junk=st.sampled_from(["abc", "nan", "inf", "1_000", "0x10", "", " 1"]),
    op=st.sampled_from(OPS),
    literal=st.floats(allow_nan=False, allow_infinity=False),
)
def test_param_numeric_comparison_reads_the_stored_text(
    number: float | None, junk: str, op: CompareOp, literal: float
) -> None:
    stored = junk if number is None else repr(number)
    run = RunView(params={"p": stored}, tags={"t": stored})
    expected = number is not None and bool(PY_OPS[op](number, literal))
    assert evaluate(Compare(param("p"), op, literal), run) == expected
    assert evaluate(Compare(tag("t"), op, literal), run) == expected
    not_in = number is not None and number != literal
    assert evaluate(InList(param("p"), (literal,), negated=True), run) == not_in


@PROPERTY
@given(stored=st.text(max_size=4), op=st.sampled_from(OPS), literal=st.text(max_size=4))
def test_text_comparison_is_code_point_order(stored: str, op: CompareOp, literal: str) -> None:
    run = RunView(params={"p": stored}, attributes={"name": stored})
    expected = bool(PY_OPS[op](stored, literal))
    assert evaluate(Compare(param("p"), op, literal), run) == expected
    assert evaluate(Compare(attr("name"), op, literal), run) == expected


def test_text_and_numeric_comparison_differ_as_documented() -> None:
    run = RunView(params={"layers": "10"})
    assert evaluate(parse_filter("params.layers > 9"), run)
    assert not evaluate(parse_filter("params.layers > '9'"), run)  # '1' sorts before '9'
    assert evaluate(parse_filter("params.layers = 10.0"), run)
    assert not evaluate(parse_filter("params.layers = '10.0'"), run)


def test_attributes() -> None:
    running = RunView(
        attributes={"id": "r1", "name": "Blue", "status": "RUNNING", "start_time": 1000, "end_time": None}
    )
    assert evaluate(parse_filter("run.run_id = 'r1' and attributes.start_time >= 1e3"), running)
    assert evaluate(parse_filter("attributes.status not in ('FAILED', 'KILLED')"), running)
    assert evaluate(parse_filter("attributes.name ilike 'b%'"), running)
    # A running run has no end time: no predicate on it holds, not even a negation.
    for text in ("attributes.end_time > 0", "attributes.end_time != 5", "attributes.end_time not in (5)"):
        assert not evaluate(parse_filter(text), running)


ALL_ATTRIBUTES_NONE = {name: None for name in (*STRING_ATTRIBUTES, *NUMERIC_ATTRIBUTES)}


@PROPERTY
@given(filter_exprs(METRIC_KEYS, PARAM_KEYS, TAG_KEYS))
def test_a_run_without_the_values_matches_nothing(expr: Expr) -> None:
    assert not evaluate(expr, RunView(attributes=ALL_ATTRIBUTES_NONE))


def usable_value(field: Field, numeric: bool, run: RunView) -> bool:
    """Whether ``run`` has a value of ``field`` that a predicate of that literal type can test."""
    if field.kind == "metric":
        return field.key in run.metrics and not math.isnan(run.metrics[field.key])
    if field.kind == "attribute":
        return run.attributes.get(field.key) is not None
    stored = (run.params if field.kind == "param" else run.tags).get(field.key)
    return stored is not None and (not numeric or numeric_value(stored) is not None)


@PROPERTY
@given(expr=predicates(METRIC_KEYS, PARAM_KEYS, TAG_KEYS), run=run_views(METRIC_KEYS, PARAM_KEYS, TAG_KEYS))
def test_negation_is_the_complement_among_runs_with_a_value(expr: Expr, run: RunView) -> None:
    flipped: Expr
    if isinstance(expr, InList | Like):
        flipped = dataclasses.replace(expr, negated=not expr.negated)
        numeric = isinstance(expr, InList) and not isinstance(expr.values[0], str)
    elif isinstance(expr, Compare):
        flipped = dataclasses.replace(expr, op=OPPOSITE[expr.op])
        numeric = not isinstance(expr.value, str)
    else:
        raise AssertionError(f"predicates() made a compound {expr!r}")
    assert evaluate(expr, run) + evaluate(flipped, run) == usable_value(expr.field, numeric, run)


def test_no_filter_matches_every_run() -> None:
    assert evaluate(None, RunView())
