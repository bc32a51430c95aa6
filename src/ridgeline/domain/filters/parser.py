"""Tokenizer and recursive-descent parser of filters and order_by clauses (grammar: see the package)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ridgeline.domain.filters.evaluate import like_to_regex
from ridgeline.domain.filters.nodes import (
    _ATTRIBUTE_ALIASES,
    _BARE_KEY,
    _CANONICAL_PREFIX,
    _MAX_DEPTH,
    _NUMBER,
    _OPERATOR_RUN,
    _OPERATORS,
    _PREFIXES,
    _UNSEARCHABLE,
    _WORD,
    MAX_FILTER_LENGTH,
    MAX_ORDER_KEYS,
    MAX_PREDICATES,
    NUMERIC_ATTRIBUTES,
    STRING_ATTRIBUTES,
    And,
    Compare,
    Expr,
    Field,
    FilterError,
    InList,
    Like,
    Or,
    OrderKey,
)
from ridgeline.domain.filters.text import iter_fields


@dataclass(frozen=True, slots=True)
class _Token:
    # kind: field, word, string, number, op, '(', ')', ',', end, or 'other' for a character that starts
    # nothing; the parser reports it, since only the parser knows what was expected there.
    kind: str
    pos: int
    text: str  # the source text, quoted in error messages
    value: str | float = ""  # field: key; word: lower-cased; string: decoded; number: float; op: as written
    prefix: str = ""  # field: the prefix as written


def _fail(source: str, what: str, pos: int, near: str, expected: str) -> FilterError:
    if pos >= len(source):
        where = f"at position {pos} (end of text)"
    else:
        shown = near if len(near) <= 30 else near[:30] + "..."
        quote = '"' if "'" in shown else "'"  # a string literal quoted as ''x'' would be hard to read
        where = f"at position {pos} near {quote}{shown}{quote}"
    return FilterError(f"Invalid {what} {where}: {expected}", position=pos, field=what)


def _tokenize(source: str, what: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        char = source[pos]
        if char.isspace():
            pos += 1
            continue
        start = pos
        if char in "(),":
            tokens.append(_Token(char, start, char))
            pos += 1
        elif char in "'\"":
            value, pos = _read_string(source, what, start)
            tokens.append(_Token("string", start, source[start:pos], value))
        elif number := _NUMBER.match(source, pos):
            pos = number.end()
            if pos < len(source) and (source[pos].isalnum() or source[pos] in "_."):
                raise _fail(
                    source,
                    what,
                    start,
                    source[start : pos + 1],
                    "malformed number; expected a number such as 3, -0.5 or 1e-3",
                )
            value_f = float(number.group())
            if not math.isfinite(value_f):
                raise _fail(source, what, start, number.group(), "number out of range")
            tokens.append(_Token("number", start, number.group(), value_f))
        elif op := _OPERATOR_RUN.match(source, pos):
            pos = op.end()
            tokens.append(_Token("op", start, op.group(), op.group()))
        elif word := _WORD.match(source, pos):
            pos = word.end()
            if pos < len(source) and source[pos] == ".":
                key, pos = _read_key(source, what, word.group(), pos + 1)
                tokens.append(_Token("field", start, source[start:pos], key, prefix=word.group()))
            else:
                tokens.append(_Token("word", start, word.group(), word.group().lower()))
        else:
            tokens.append(_Token("other", start, char))
            pos += 1
    tokens.append(_Token("end", len(source), ""))
    return tokens


def _read_string(source: str, what: str, start: int) -> tuple[str, int]:
    """Decode the quoted string opening at ``start``; return it and the offset after the closing quote."""
    quote = source[start]
    chars: list[str] = []
    pos = start + 1
    while pos < len(source):
        char = source[pos]
        if char == quote:
            return "".join(chars), pos + 1
        if char == "\\" and pos + 1 < len(source):
            following = source[pos + 1]
            # Unknown escapes keep their backslash so that LIKE escapes ('\%', '\_') need no doubling.
            chars.append(following if following in "\\'\"" else char + following)
            pos += 2
        else:
            chars.append(char)
            pos += 1
    raise _fail(source, what, start, source[start:], f"unterminated string; expected a closing {quote}")


def _read_key(source: str, what: str, prefix: str, pos: int) -> tuple[str, int]:
    """Read the key after ``prefix.`` at ``pos``; return it and the offset after it."""
    if pos < len(source) and source[pos] == "`":
        chars: list[str] = []
        cursor = pos + 1
        while cursor < len(source):
            if source[cursor] != "`":
                chars.append(source[cursor])
                cursor += 1
            elif source[cursor + 1 : cursor + 2] == "`":
                chars.append("`")
                cursor += 2
            else:
                if not chars:
                    raise _fail(source, what, pos, "``", "expected a non-empty key between the backticks")
                return "".join(chars), cursor + 1
        raise _fail(source, what, pos, source[pos:], "unterminated key; expected a closing `")
    bare = _BARE_KEY.match(source, pos)
    if bare is None:
        raise _fail(
            source,
            what,
            pos,
            source[pos : pos + 1],
            f"expected a key after '{prefix}.' (letters, digits, _ - . / : or a `quoted key`)",
        )
    return bare.group(), bare.end()


_FIELD_EXAMPLES = "a field such as metrics.acc, params.lr, tags.team or attributes.status"
_OPERATOR_EXPECTED = "expected a comparison operator (=, !=, <, <=, >, >=), 'in' or 'like'"


def _check_characters(source: str, what: str) -> None:
    """Refuse a NUL or a lone surrogate up front, without quoting it: the SQL backends would fail on it (a 500
    instead of a 400), and an error message holding a lone surrogate could not even be sent."""
    found = _UNSEARCHABLE.search(source)
    if found is not None:
        raise FilterError(
            f"Invalid {what} at position {found.start()}: {found.group()!a} (a NUL character or a lone "
            "surrogate) is not allowed",
            position=found.start(),
            field=what,
        )


class _Parser:
    def __init__(self, source: str, what: str) -> None:
        _check_characters(source, what)
        self.source = source
        self.what = what
        self.tokens = _tokenize(source, what)
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token.kind == "word" and token.value in words

    def error(self, token: _Token, expected: str) -> FilterError:
        return _fail(self.source, self.what, token.pos, token.text, expected)

    def expect(self, kind: str, expected: str) -> _Token:
        if self.peek().kind != kind:
            raise self.error(self.peek(), expected)
        return self.advance()

    # filter grammar

    def parse_or(self) -> Expr:
        items = [self.parse_and()]
        while self.at_word("or"):
            self.advance()
            items.append(self.parse_and())
        return _combine(Or, items)

    def parse_and(self) -> Expr:
        items = [self.parse_atom()]
        while self.at_word("and"):
            self.advance()
            items.append(self.parse_atom())
        return _combine(And, items)

    def parse_atom(self) -> Expr:
        token = self.advance()
        if token.kind == "(":
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise self.error(token, f"parentheses nested deeper than {_MAX_DEPTH} levels")
            inner = self.parse_or()
            self.expect(")", "expected 'and', 'or' or ')'")
            self.depth -= 1
            return inner
        if token.kind != "field":
            raise self.error(token, f"expected {_FIELD_EXAMPLES}, or '('")
        target = self.resolve_field(token)
        negated = self.at_word("not")
        if negated:
            self.advance()
            if not self.at_word("in", "like", "ilike"):
                raise self.error(self.peek(), "expected 'in', 'like' or 'ilike' after 'not'")
        if self.at_word("in"):
            self.advance()
            return self.parse_in_list(target, negated)
        if self.at_word("like", "ilike"):
            return self.parse_like(target, negated)
        op_token = self.advance()
        op = _OPERATORS.get(str(op_token.value)) if op_token.kind == "op" else None
        if op is None:
            raise self.error(op_token, _OPERATOR_EXPECTED)
        return Compare(target, op, self.parse_literal(target))

    def parse_in_list(self, target: Field, negated: bool) -> InList:
        self.expect("(", "expected '(' to open the list of values")
        values = [self.parse_literal(target)]
        while self.peek().kind == ",":
            self.advance()
            literal_token = self.peek()
            value = self.parse_literal(target)
            if isinstance(value, str) != isinstance(values[0], str):
                raise self.error(literal_token, "expected list values that are all strings or all numbers")
            values.append(value)
        self.expect(")", "expected ',' or ')' to close the list")
        return InList(target, tuple(values), negated)

    def parse_like(self, target: Field, negated: bool) -> Like:
        keyword = self.advance()
        if not _is_text_field(target):
            raise self.error(
                keyword,
                f"{_describe(target)} cannot use '{keyword.value}'; "
                "expected a comparison operator (=, !=, <, <=, >, >=) or 'in'",
            )
        pattern = self.expect("string", "expected a quoted pattern such as 'resnet%'")
        try:
            like_to_regex(str(pattern.value))
        except ValueError as exc:
            raise self.error(pattern, f"{exc}; write \\\\ for a literal backslash") from None
        return Like(target, str(pattern.value), negated, case_insensitive=keyword.value == "ilike")

    def parse_literal(self, target: Field) -> str | float:
        token = self.advance()
        if token.kind not in ("string", "number"):
            raise self.error(token, "expected a number or a quoted string")
        if token.kind == "string" and not _is_text_field(target):
            raise self.error(token, f"expected a number: {_describe(target)} compare with numbers")
        if token.kind == "number" and not _accepts_numbers(target):
            raise self.error(token, f"expected a quoted string: {_describe(target)} is text")
        return token.value

    def resolve_field(self, token: _Token) -> Field:
        kind = _PREFIXES.get(token.prefix.lower())
        if kind is None:
            raise self.error(
                token,
                f"unknown field prefix '{token.prefix}'; expected metrics, params, tags "
                "or attributes (or metric, param, tag, attribute, attr, run)",
            )
        key = str(token.value)
        if kind != "attribute":
            return Field(kind, key)
        name = _ATTRIBUTE_ALIASES.get(key.lower(), key.lower())
        if name not in STRING_ATTRIBUTES and name not in NUMERIC_ATTRIBUTES:
            valid = ", ".join(STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES)
            raise self.error(
                token,
                f"unknown attribute '{key}'; expected one of {valid} (aliases: {', '.join(_ATTRIBUTE_ALIASES)})",
            )
        return Field("attribute", name)

    # order_by grammar

    def parse_order_keys(self) -> list[OrderKey]:
        keys: list[OrderKey] = []
        while True:
            target = self.resolve_field(self.expect("field", f"expected {_FIELD_EXAMPLES}"))
            descending = self.at_word("desc")
            if descending or self.at_word("asc"):
                self.advance()
            keys.append(OrderKey(target, descending))
            if self.peek().kind != ",":
                self.expect("end", "expected 'asc', 'desc', ',' or the end")
                return keys
            self.advance()


def _combine(cls: type[And] | type[Or], items: list[Expr]) -> Expr:
    """``cls`` of ``items``, or the only item; items of the same kind (from parentheses) are flattened."""
    if len(items) == 1:
        return items[0]
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat))


def _is_text_field(target: Field) -> bool:
    return target.kind in ("param", "tag") or (target.kind == "attribute" and target.key in STRING_ATTRIBUTES)


def _accepts_numbers(target: Field) -> bool:
    return target.kind != "attribute" or target.key in NUMERIC_ATTRIBUTES


def _describe(target: Field) -> str:
    if target.kind == "attribute":
        kind = "a time in epoch milliseconds" if target.key in NUMERIC_ATTRIBUTES else "text"
        return f"attributes.{target.key} ({kind})"
    return _CANONICAL_PREFIX[target.kind]


def parse_filter(text: str) -> Expr | None:
    """Parse a filter; None for empty or whitespace-only text. Raises FilterError (field "filter").

    Size is bounded (MAX_FILTER_LENGTH characters, MAX_PREDICATES comparisons) so that no filter can exceed
    what the SQL backends accept.
    """
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(
            f"Invalid filter: {len(text)} characters long; the limit is {MAX_FILTER_LENGTH}", position=MAX_FILTER_LENGTH
        )
    parser = _Parser(text, "filter")
    if parser.peek().kind == "end":
        return None
    expr = parser.parse_or()
    parser.expect("end", "expected 'and', 'or' or the end of the filter")
    predicates = sum(1 for _ in iter_fields(expr))
    if predicates > MAX_PREDICATES:
        raise FilterError(f"Invalid filter: {predicates} comparisons; the limit is {MAX_PREDICATES}", position=0)
    return expr


def parse_order_by(text: str | list[str] | None) -> list[OrderKey]:
    """Parse ``"metrics.acc desc, params.lr"`` or a list of such clauses; blank text gives no keys.

    Raises FilterError with field "order_by"; for a list, ``position`` is an offset into the offending item.
    """
    if text is None:
        return []
    keys: list[OrderKey] = []
    for clause in [text] if isinstance(text, str) else text:
        parser = _Parser(clause, "order_by")
        if parser.peek().kind != "end":
            keys.extend(parser.parse_order_keys())
    if len(keys) > MAX_ORDER_KEYS:
        raise FilterError(
            f"Invalid order_by: {len(keys)} keys; the limit is {MAX_ORDER_KEYS}", position=0, field="order_by"
        )
    return keys
