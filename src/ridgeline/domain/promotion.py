"""The validation gate's vocabulary: stored evaluations of model versions, the rules a promotion must pass, and
a version's lineage.

A rule compares a metric of the candidate's evaluation with a number (``accuracy >= 0.9``) or with the current
holder of the alias on the same evaluation data (``f1 > champion + 0.01``; for an error metric the lower-is-better
form ``rmse < champion - 0.5``). ``champion`` always means the version the alias being moved points at now,
whatever the alias is called. Pure: parsing and judging only; services/registry_gate.py finds the values.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ridgeline.domain.entities import RunInput, RunRecord
from ridgeline.domain.errors import InvalidArgument, PromotionRefused
from ridgeline.domain.registry import ModelVersion
from ridgeline.domain.wire import decode_value, encode_value

CHAMPION = "champion"
MAX_RULES = 50
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_RULE = re.compile(
    rf"\s*(?P<metric>[A-Za-z_][A-Za-z0-9_.\-]*)\s*(?P<op>>=|<=|>|<)\s*"
    rf"(?:(?P<threshold>{_NUMBER})|{CHAMPION}\s*(?:(?P<sign>[+-])\s*(?P<offset>{_NUMBER}))?)\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Rule:
    """``metric op threshold``, or ``metric op champion + offset`` when ``relative``."""

    text: str
    metric: str
    op: str
    value: float
    relative: bool

    def judge(self, candidate: Mapping[str, float], champion: Mapping[str, float] | None) -> RuleOutcome:
        """Whether the candidate's metrics pass; ``champion`` None: the alias points at no version yet."""
        mine = candidate.get(self.metric)
        theirs = None if champion is None else champion.get(self.metric)
        if mine is None:
            return RuleOutcome(self.text, False, None, theirs, None, f"the evaluation has no metric {self.metric!r}")
        if not self.relative:
            return self._compare(mine, theirs, self.value)
        if champion is None:
            return RuleOutcome(self.text, True, mine, None, None, "no other version holds the alias: nothing to beat")
        if theirs is None:
            return RuleOutcome(self.text, False, mine, None, None, f"the champion has no metric {self.metric!r}")
        return self._compare(mine, theirs, theirs + self.value)

    def _compare(self, mine: float, theirs: float | None, required: float) -> RuleOutcome:
        passed = not math.isnan(mine) and _OPERATORS[self.op](mine, required)
        verdict = "passes" if passed else "fails"
        reason = f"{self.metric} = {mine:.6g} {verdict} {self.op} {required:.6g}"
        return RuleOutcome(self.text, passed, mine, theirs, required, reason)


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    passed: bool
    candidate: float | None
    champion: float | None
    required: float | None
    reason: str


@dataclass(frozen=True)
class ModelEvaluation:
    """One version's result in one evaluation; the versions compared share ``evaluation_id``."""

    evaluation_id: str
    model_name: str
    version: int
    dataset_name: str
    dataset_digest: str
    dataset_version_id: str | None
    task: str
    metrics: dict[str, float]
    rows: int
    compared_alias: str | None
    created_by: str
    created_at: int


@dataclass(frozen=True)
class EvaluationResult:
    """An evaluation of a candidate beside the alias holder on the same data: what ``evaluate`` returns."""

    evaluation_id: str
    model_name: str
    candidate: ModelEvaluation
    champion: ModelEvaluation | None
    alias: str | None

    @property
    def metrics(self) -> dict[int, dict[str, float]]:
        """Per version number, its metrics."""
        found = [self.candidate] + ([self.champion] if self.champion is not None else [])
        return {item.version: item.metrics for item in found}

    @property
    def deltas(self) -> dict[str, float]:
        """Candidate minus champion, per metric both have (empty without a champion)."""
        if self.champion is None:
            return {}
        theirs = self.champion.metrics
        return {key: value - theirs[key] for key, value in self.candidate.metrics.items() if key in theirs}


@dataclass(frozen=True)
class PromotionResult:
    model_name: str
    alias: str
    version: int
    previous_version: int | None
    evaluation_id: str | None
    outcomes: list[RuleOutcome] = field(default_factory=list)


@dataclass(frozen=True)
class EvaluationSpec:
    """An evaluation to store: the candidate's metrics, and the alias holder's on the same data if it has one."""

    version: int | str
    metrics: Mapping[str, float]
    dataset_name: str
    dataset_digest: str
    task: str
    rows: int
    dataset_version_id: str | None = None
    alias: str | None = None
    champion_version: int | None = None
    champion_metrics: Mapping[str, float] | None = None


@dataclass(frozen=True)
class VersionLineage:
    """Where a version came from: its run (None when the run is gone or unknown), the dataset versions the run
    used, and the git commit."""

    version: ModelVersion
    run: RunRecord | None
    inputs: list[RunInput]

    @property
    def git_commit(self) -> str | None:
        return self.version.git_commit


def parse_rules(rules: object) -> list[Rule]:
    """Rules as written (``["accuracy >= 0.9", "f1 > champion + 0.01"]``); a bad one is named in the error."""
    if rules is None:
        return []
    if isinstance(rules, str) or not isinstance(rules, list | tuple):
        raise InvalidArgument("require is a list of rules such as 'accuracy >= 0.9'", field="require")
    if len(rules) > MAX_RULES:
        raise InvalidArgument(f"at most {MAX_RULES} rules", field="require")
    return [parse_rule(rule) for rule in rules]


def parse_rule(text: object) -> Rule:
    if not isinstance(text, str) or (match := _RULE.fullmatch(text)) is None:
        raise InvalidArgument(
            f"rule {text!r} is not 'METRIC OP NUMBER' or 'METRIC OP champion [+|- NUMBER]' "
            "(OP one of >=, >, <=, <; e.g. 'accuracy >= 0.9', 'f1 > champion + 0.01', 'rmse < champion - 0.5')",
            field="require",
        )
    metric, op = match["metric"], match["op"]
    if match["threshold"] is not None:
        return Rule(text.strip(), metric, op, float(match["threshold"]), relative=False)
    offset = float(match["offset"] or 0.0)
    if not math.isfinite(offset):
        raise InvalidArgument(f"rule {text!r}: the offset must be a finite number", field="require")
    return Rule(text.strip(), metric, op, -offset if match["sign"] == "-" else offset, relative=True)


def judge(rules: list[Rule], candidate: Mapping[str, float], champion: Mapping[str, float] | None) -> list[RuleOutcome]:
    """Every rule's outcome; raises :class:`PromotionRefused` naming the first failed rule and its values."""
    outcomes = [rule.judge(candidate, champion) for rule in rules]
    failed = next((outcome for outcome in outcomes if not outcome.passed), None)
    if failed is not None:
        raise refusal(f"promotion refused: rule {failed.rule!r} failed ({failed.reason})", failed, outcomes)
    return outcomes


def refusal(message: str, failed: RuleOutcome, outcomes: list[RuleOutcome]) -> PromotionRefused:
    details = {"rule": failed.rule, "failed": outcome_to_json(failed), "outcomes": list(map(outcome_to_json, outcomes))}
    return PromotionRefused(message, field="require", details=details)


# JSON shapes (native API and SDK) -----------------------------------------------------------------------------


def _number(value: float | None) -> float | str | None:
    return None if value is None else encode_value(value)


def _decoded(value: float | str | None) -> float | None:
    return None if value is None else decode_value(value)


def outcome_to_json(outcome: RuleOutcome) -> dict[str, Any]:
    body = asdict(outcome)
    for key in ("candidate", "champion", "required"):
        body[key] = _number(body[key])
    return body


def outcome_from_json(data: dict[str, Any]) -> RuleOutcome:
    values = {key: _decoded(data.get(key)) for key in ("candidate", "champion", "required")}
    return RuleOutcome(data["rule"], bool(data["passed"]), reason=data.get("reason", ""), **values)


def evaluation_to_json(item: ModelEvaluation) -> dict[str, Any]:
    return {**asdict(item), "metrics": {key: encode_value(value) for key, value in item.metrics.items()}}


def evaluation_from_json(data: dict[str, Any]) -> ModelEvaluation:
    metrics = {key: decode_value(value) for key, value in data["metrics"].items()}
    return ModelEvaluation(**{**data, "metrics": metrics})


def result_to_json(result: EvaluationResult) -> dict[str, Any]:
    champion = None if result.champion is None else evaluation_to_json(result.champion)
    return {
        "evaluation_id": result.evaluation_id,
        "model_name": result.model_name,
        "alias": result.alias,
        "candidate": evaluation_to_json(result.candidate),
        "champion": champion,
        "deltas": {key: encode_value(value) for key, value in result.deltas.items()},
    }


def result_from_json(data: dict[str, Any]) -> EvaluationResult:
    champion = None if data.get("champion") is None else evaluation_from_json(data["champion"])
    candidate = evaluation_from_json(data["candidate"])
    return EvaluationResult(data["evaluation_id"], data["model_name"], candidate, champion, data.get("alias"))


def promotion_to_json(result: PromotionResult) -> dict[str, Any]:
    return {**asdict(result), "outcomes": list(map(outcome_to_json, result.outcomes))}


def promotion_from_json(data: dict[str, Any]) -> PromotionResult:
    outcomes = [outcome_from_json(item) for item in data.get("outcomes", [])]
    return PromotionResult(**{**data, "outcomes": outcomes})
