"""MLflow search strings rewritten into Ridgeline's filter grammar (ridgeline.domain.filters).

MLflow writes ``metrics.acc > 0.9 and params.model = 'rf' and tags.`my key` LIKE '%x'`` and
``attributes.status = 'FINISHED'``: the grammars already agree on operators, literals and backticked keys.
What differs is rewritten here, token by token, leaving string literals untouched:

- prefixes ``parameter``/``parameters`` become ``params``; a double-quoted key (``metrics."my key"``)
  becomes a backticked one;
- attribute names are mapped to ours (``user_id`` → ``user``, ``created`` → ``start_time``,
  ``experiment_id`` → ``project_id``); an identifier without a prefix is an attribute, as in MLflow;
- an attribute Ridgeline does not have (``artifact_uri``, ``lifecycle_stage``) and ``datasets.*`` are
  refused with INVALID_PARAMETER_VALUE rather than silently matching nothing.

Experiments are filtered with the same grammar over a view whose attributes are ``name``, ``start_time``
(the creation time), ``end_time`` (the last update) and ``id``.
"""

from __future__ import annotations

import re

from ridgeline.domain.errors import InvalidArgument

_KEYWORDS = {"and", "or", "not", "in", "like", "ilike", "asc", "desc", "is", "null"}
_PREFIXES = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
    "run": "attributes",
}
RUN_ATTRIBUTES = {
    "run_id": "run_id",
    "run_name": "run_name",
    "status": "status",
    "start_time": "start_time",
    "end_time": "end_time",
    "user_id": "user",
    "created": "start_time",
    "experiment_id": "project_id",
}
EXPERIMENT_ATTRIBUTES = {
    "name": "name",
    "experiment_id": "id",
    "creation_time": "start_time",
    "last_update_time": "end_time",
}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_BARE_KEY = re.compile(r"[A-Za-z0-9_\-./:]+")


def _quoted(source: str, start: int) -> int:
    """The offset after the string literal (or quoted key) opening at ``start``."""
    quote = source[start]
    pos = start + 1
    while pos < len(source):
        if source[pos] == "\\":
            pos += 2
            continue
        if source[pos] == quote:
            if quote == "`" and source[pos + 1 : pos + 2] == "`":
                pos += 2
                continue
            return pos + 1
        pos += 1
    raise InvalidArgument(f"unterminated {quote} at position {start} of {source!r}", field="filter")


def _backticked(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else "`" + key.replace("`", "``") + "`"


def translate(source: str, attributes: dict[str, str], what: str = "filter") -> str:
    """``source`` (MLflow syntax) in Ridgeline's grammar, with ``attributes`` naming the attributes allowed."""
    out: list[str] = []
    pos = 0
    while pos < len(source):
        char = source[pos]
        if char in "'\"":
            end = _quoted(source, pos)
            out.append(source[pos:end])
            pos = end
            continue
        if (number := _NUMBER.match(source, pos)) and (pos == 0 or not source[pos - 1].isalnum()):
            out.append(number.group())
            pos = number.end()
            continue
        ident = _IDENT.match(source, pos)
        if ident is None:
            out.append(char)
            pos += 1
            continue
        word = ident.group()
        pos = ident.end()
        if pos < len(source) and source[pos] == ".":
            prefix = _PREFIXES.get(word.lower())
            if prefix is None:
                raise InvalidArgument(
                    f"Invalid {what}: unsupported entity '{word}'; expected metrics, params, tags or attributes",
                    field=what,
                )
            pos += 1
            if pos < len(source) and source[pos] in "\"`'":
                end = _quoted(source, pos)
                quote = source[pos]
                key = source[pos + 1 : end - 1]
                key = key.replace("``", "`") if quote == "`" else key
                pos = end
            else:
                bare = _BARE_KEY.match(source, pos)
                if bare is None:
                    raise InvalidArgument(f"Invalid {what}: expected a key after '{word}.'", field=what)
                key, pos = bare.group(), bare.end()
            if prefix == "attributes":
                out.append(_attribute(key, attributes, what))
            else:
                out.append(f"{prefix}.{_backticked(key)}")
        elif word.lower() in _KEYWORDS:
            out.append(word)
        else:
            out.append(_attribute(word, attributes, what))
    return "".join(out)


def _attribute(name: str, attributes: dict[str, str], what: str) -> str:
    mapped = attributes.get(name.lower())
    if mapped is None:
        allowed = ", ".join(sorted(attributes))
        raise InvalidArgument(f"Invalid {what}: unsupported attribute '{name}'; expected one of {allowed}", field=what)
    return f"attributes.{mapped}"


def translate_order_by(clauses: list[str], attributes: dict[str, str]) -> list[str]:
    return [translate(clause, attributes, "order_by") for clause in clauses if clause.strip()]
