"""Alert rules over monitor report rows: the grammar, parsed from text or built from JSON.

A rule reads one statistic of a report and compares it with a threshold. Keywords are case-insensitive; feature
names and segments are taken as written (quote them, ``'annual income'``, when they hold spaces or quotes)::

    rule      := condition [on-clause] [for-clause] [in-clause]      (the clauses in any order)
    condition := STATISTIC OP NUMBER | "drift" | "prediction drift" | "dataset drift"
    OP        := ">" | ">=" | "<" | "<=" | "==" | "!="
    on-clause := "on any feature" | "on at least" N ("feature" | "features") | "on feature" NAME
    for-clause:= "for" N ["consecutive"] ("window" | "windows")
    in-clause := "in segment" KEY=VALUE | "in whole population"

Examples: ``psi > 0.2 on at least 3 features for 2 consecutive windows``, ``drift on at least 2 features``,
``wasserstein >= 0.1 on feature age``, ``missing_rate > 0.1 on any feature``, ``f1 < 0.8``,
``accuracy < 0.9 for 3 consecutive windows``, ``drift_share > 0.5``, ``dataset drift``, ``prediction drift``.

Levels. Feature statistics (:data:`FEATURE_STATISTICS` and ``drift``, the feature's own drift verdict) are read from
the report's feature rows. A rule holds in a window when at least N features match (``on any feature``, the default,
is N = 1) or, with ``on feature NAME``, when that feature matches. Counting features leaves out the model's output,
the feature named ``prediction``: its drift is a different alarm (the model answers differently) from input drift,
and it would otherwise make "on at least 3 features" fire with two drifting inputs. Name it to watch it:
``prediction drift`` (the same rule as ``drift on feature prediction``) or ``psi > 0.2 on feature prediction``.
Dataset statistics (:data:`DATASET_STATISTICS`, and ``dataset drift``, the report's dataset verdict) are read from
the window's dataset row (feature ``*``) and take no on-clause.

Segments. Without an in-clause a rule is judged in every segment of the report separately, the whole population
(segment ``""``) included: each segment fires, deduplicates and resolves on its own. ``in segment country=IT``
restricts the rule to that segment and ``in whole population`` to segment ``""``.

A statistic that is missing or None in a row (not computable: no labels yet, an empty window) never matches.

JSON form (:meth:`Rule.to_json`, :meth:`Rule.from_json`, a lossless round trip): ``statistic`` (``drift`` and
``dataset_drift`` for the verdicts), ``op`` and ``threshold`` (null for the verdicts), ``min_features`` (N; null for
dataset statistics and named features), ``windows``, ``feature``, ``segment`` (null: every segment), ``name`` and
``severity`` (``info``, ``warning`` (default) or ``critical``). A rule's :attr:`Rule.id`, which keys its alerts, is
its name, or its canonical text when it has none.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.performance import CLASSIFICATION_METRICS, REGRESSION_METRICS

FEATURE_STATISTICS = (
    "psi",
    "ks_statistic",
    "ks_p_value",
    "wasserstein",
    "jensen_shannon",
    "chi2_statistic",
    "chi2_p_value",
    "missing_rate",
    "out_of_range_rate",
    "invalid_rate",
)
DATASET_STATISTICS = (
    *CLASSIFICATION_METRICS,
    *REGRESSION_METRICS,
    "labelled_rows",
    "rows",
    "drift_share",
    "drifted_features",
)
DRIFT = "drift"
DATASET_DRIFT = "dataset_drift"
VERDICTS = (DRIFT, DATASET_DRIFT)
STATISTICS = (*FEATURE_STATISTICS, *DATASET_STATISTICS, *VERDICTS)
OPS = (">", ">=", "<", "<=", "==", "!=")
SEVERITIES = ("info", "warning", "critical")
PREDICTION = "prediction"
FIELD = "rules"

_JSON_KEYS = ("statistic", "op", "threshold", "min_features", "windows", "feature", "segment", "name", "severity")
_COMPARISON = re.compile(r"\s*(?P<statistic>\w+)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<value>\S*)(?P<rest>.*)", re.DOTALL)
_VERDICT = re.compile(r"\s*(?P<form>dataset\s+drift|prediction\s+drift|drift)(?=\s|$)(?P<rest>.*)", re.I | re.DOTALL)
_CLAUSES = (
    "'on any feature', 'on at least N features', 'on feature NAME', 'for N consecutive windows', "
    "'in segment KEY=VALUE' or 'in whole population'"
)


@dataclass(frozen=True)
class Rule:
    statistic: str
    op: str | None = None
    threshold: float | None = None
    min_features: int | None = None
    windows: int = 1
    feature: str | None = None
    segment: str | None = None
    name: str | None = None
    severity: str = "warning"

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise _error(f"unknown statistic {self.statistic!r}: choose from {', '.join(STATISTICS)}")
        if self.statistic in VERDICTS:
            if self.op is not None or self.threshold is not None:
                raise _error(f"{_verdict_text(self.statistic)} is a verdict: it takes no comparison")
        else:
            if self.op not in OPS:
                raise _error(f"{self.statistic} needs a comparison: op must be one of {' '.join(OPS)}, got {self.op!r}")
            if not _is_number(self.threshold) or not math.isfinite(self.threshold):
                raise _error(f"threshold of {self.statistic} must be a finite number, got {self.threshold!r}")
            object.__setattr__(self, "threshold", float(self.threshold))
        if self.dataset_level:
            if self.feature is not None or self.min_features is not None:
                label = _verdict_text(self.statistic) if self.statistic in VERDICTS else self.statistic
                raise _error(f"{label} is read from the dataset row: 'on …' does not apply to it")
        elif self.feature is not None:
            if not isinstance(self.feature, str) or not self.feature:
                raise _error(f"feature must be a non-empty string, got {self.feature!r}")
            if self.min_features not in (None, 1):
                raise _error(f"a rule on feature {self.feature!r} cannot need {self.min_features} features")
            object.__setattr__(self, "min_features", None)
        elif self.min_features is None:
            object.__setattr__(self, "min_features", 1)
        elif not _is_count(self.min_features):
            raise _error(f"the number of features must be a whole number >= 1, got {self.min_features!r}")
        if not _is_count(self.windows):
            raise _error(f"the number of windows must be a whole number >= 1, got {self.windows!r}")
        if self.segment is not None and not (
            isinstance(self.segment, str) and (not self.segment or "=" in self.segment)
        ):
            raise _error(f"segment must look like KEY=VALUE (or be empty: the whole population), got {self.segment!r}")
        if self.name is not None and (not isinstance(self.name, str) or not self.name.strip()):
            raise _error(f"name must be a non-empty string, got {self.name!r}")
        if self.severity not in SEVERITIES:
            raise _error(f"severity must be one of {', '.join(SEVERITIES)}, got {self.severity!r}")

    @property
    def dataset_level(self) -> bool:
        return self.statistic in DATASET_STATISTICS or self.statistic == DATASET_DRIFT

    @property
    def id(self) -> str:
        return self.name or self.text

    @property
    def text(self) -> str:
        """The canonical text: it parses back to this rule (less ``name`` and ``severity``)."""
        if self.statistic == DRIFT and self.feature == PREDICTION:
            parts = ["prediction drift"]
        else:
            parts = [self.condition]
            if self.feature is not None:
                parts.append(f"on feature {shlex.quote(self.feature)}")
            elif self.min_features == 1:
                parts.append("on any feature")
            elif self.min_features is not None:
                parts.append(f"on at least {self.min_features} features")
        if self.windows > 1:
            parts.append(f"for {self.windows} consecutive windows")
        if self.segment == "":
            parts.append("in whole population")
        elif self.segment is not None:
            parts.append(f"in segment {shlex.quote(self.segment)}")
        return " ".join(parts)

    @property
    def condition(self) -> str:
        """What is compared, without scope: ``psi > 0.2``, ``drift``, ``dataset drift``."""
        if self.statistic in VERDICTS:
            return _verdict_text(self.statistic)
        assert self.threshold is not None
        return f"{self.statistic} {self.op} {_number_text(self.threshold)}"

    def __str__(self) -> str:
        return self.text

    def to_json(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in _JSON_KEYS}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rule:
        if not isinstance(data, Mapping):
            raise _error(f"a rule must be a JSON object or a string, got {type(data).__name__}")
        unknown = sorted(set(data) - set(_JSON_KEYS))
        if unknown:
            raise _error(f"unknown rule keys {', '.join(map(repr, unknown))}: allowed are {', '.join(_JSON_KEYS)}")
        if "statistic" not in data:
            raise _error("a rule needs a 'statistic'")
        return cls(**{key: data[key] for key in _JSON_KEYS if key in data})


def parse_rule(text: str, *, name: str | None = None, severity: str = "warning") -> Rule:
    """Parse a rule's text (see the module documentation); ``name`` and ``severity`` have no text form."""
    if not isinstance(text, str) or not text.strip():
        raise _error("a rule must be a non-empty string")
    try:
        return _parse(text, name, severity)
    except InvalidArgument as error:
        raise _error(f"rule {text.strip()!r}: {error.message}") from None


def _parse(text: str, name: str | None, severity: str) -> Rule:
    fields: dict[str, Any] = {"name": name, "severity": severity}
    if comparison := _COMPARISON.match(text):
        fields["statistic"] = comparison["statistic"].lower()
        fields["op"] = comparison["op"]
        fields["threshold"] = _parse_number(comparison["value"], fields["statistic"])
        rest = comparison["rest"]
    elif verdict := _VERDICT.match(text):
        form = " ".join(verdict["form"].lower().split())
        fields["statistic"] = DATASET_DRIFT if form == "dataset drift" else DRIFT
        if form == "prediction drift":
            fields["feature"] = PREDICTION
        rest = verdict["rest"]
    else:
        first = text.split()[0]
        if first.lower() in STATISTICS:
            raise _error(f"{first} needs a comparison such as '{first.lower()} > 0.2' (ops: {' '.join(OPS)})")
        raise _error(f"unknown statistic {first!r}: choose from {', '.join(STATISTICS)}")
    try:
        tokens = shlex.split(rest)
    except ValueError as error:
        raise _error(f"cannot read {rest.strip()!r}: {error}") from None
    _parse_clauses(tokens, fields)
    return Rule(**fields)


def _parse_clauses(tokens: list[str], fields: dict[str, Any]) -> None:
    seen: set[str] = set()
    position = 0
    while position < len(tokens):
        keyword = tokens[position].lower()
        if keyword not in ("on", "for", "in"):
            raise _error(f"unexpected {tokens[position]!r}: expected {_CLAUSES}")
        if keyword in seen:
            raise _error(f"the rule has two '{keyword} …' clauses")
        seen.add(keyword)
        words = [token.lower() for token in tokens[position + 1 : position + 5]]
        if keyword == "on":
            if fields.get("feature") == PREDICTION:
                raise _error("'prediction drift' names its feature already: it takes no 'on …' clause")
            if words[:2] == ["any", "feature"]:
                fields["min_features"], used = 1, 2
            elif words[:2] == ["at", "least"] and len(words) >= 4 and words[3] in ("feature", "features"):
                fields["min_features"], used = _parse_count(tokens[position + 3], "features"), 4
            elif words[:1] == ["feature"] and len(words) >= 2:
                fields["feature"], used = tokens[position + 2], 2
            else:
                raise _error("expected 'on any feature', 'on at least N features' or 'on feature NAME'")
        elif keyword == "for":
            used = 3 if words[1:2] == ["consecutive"] else 2
            if len(words) < used or words[used - 1] not in ("window", "windows"):
                raise _error("expected 'for N consecutive windows'")
            fields["windows"] = _parse_count(tokens[position + 1], "windows")
        elif words[:1] == ["segment"] and len(words) >= 2:
            fields["segment"], used = tokens[position + 2], 2
        elif words[:2] == ["whole", "population"]:
            fields["segment"], used = "", 2
        else:
            raise _error("expected 'in segment KEY=VALUE' or 'in whole population'")
        position += 1 + used


def _parse_number(value: str, statistic: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _error(f"{statistic} must be compared with a number, got {value!r}") from None
    if not math.isfinite(number):
        raise _error(f"threshold of {statistic} must be finite, got {value!r}")
    return number


def _parse_count(value: str, what: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise _error(f"the number of {what} must be a whole number >= 1, got {value!r}")
    return int(value)


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _verdict_text(statistic: str) -> str:
    return "dataset drift" if statistic == DATASET_DRIFT else "drift"


def _number_text(value: float) -> str:
    # repr keeps every digit (0.123456789 stays so), and "3" reads better than "3.0" in a rule.
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _error(message: str) -> InvalidArgument:
    return InvalidArgument(message, field=FIELD)
