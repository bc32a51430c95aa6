"""The validation gate and registry lineage: stored evaluations, rule-checked promotion, rollback, and the
version ↔ run ↔ dataset links. Transport-agnostic: the native API and the embedded SDK call it alike.

Metrics are computed where the model and the data are (the SDK's ``ridgeline.registry.evaluate``); this service
checks and stores them, and judges promotions on what is stored, so a promotion over HTTP sees exactly the
figures the evaluation reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ridgeline.domain import validation as v
from ridgeline.domain.errors import Conflict, InvalidArgument, NotFound, PromotionRefused
from ridgeline.domain.promotion import (
    EvaluationResult,
    EvaluationSpec,
    ModelEvaluation,
    PromotionResult,
    Rule,
    VersionLineage,
    judge,
    parse_rules,
)
from ridgeline.domain.registry import AliasEvent, ModelVersion, VersionStatus, check_alias
from ridgeline.monitoring.performance import Task
from ridgeline.services.registry import RegistryService
from ridgeline.store.evaluations import EvaluationData, EvaluationRow, EvaluationStore
from ridgeline.store.metadata import MetadataStore

_DIGEST = re.compile(r"[\x21-\x7e]{1,64}")
MAX_METRICS = 100
MAX_EVALUATIONS_LISTED = 1000
# How many of the candidate's newest evaluations a promotion searches for one that includes the champion.
_SEARCHED_EVALUATIONS = 200


class RegistryGate:
    def __init__(self, store: MetadataStore) -> None:
        self.store = store
        self.registry = RegistryService(store)
        self.evaluations_store = EvaluationStore(store.database)

    # evaluations ---------------------------------------------------------------------------------------------

    def record_evaluation(self, name: str, spec: EvaluationSpec, *, user: str = "") -> EvaluationResult:
        """Store the candidate's (and the alias holder's) metrics under one evaluation id."""
        candidate = self.registry.get_version(name, spec.version)
        alias = None if spec.alias is None else check_alias(spec.alias)
        rows = [EvaluationRow(candidate.id, _metrics(spec.metrics, "metrics"))]
        if (spec.champion_version is None) != (spec.champion_metrics is None):
            raise InvalidArgument("champion_version and champion_metrics go together", field="champion_version")
        if spec.champion_version is not None and spec.champion_metrics is not None:
            if alias is None:
                raise InvalidArgument("a champion is the holder of an alias: name the alias", field="alias")
            champion = self.registry.get_version(name, spec.champion_version)
            holder = self.registry.get_model(name).aliases.get(alias)
            if holder != champion.version:
                raise Conflict(
                    f"alias {alias!r} points at {_version_text(holder)}, not {champion.version}: it moved during "
                    "the evaluation; evaluate again",
                    field="champion_version",
                )
            if champion.id == candidate.id:
                raise InvalidArgument("the candidate is the champion itself", field="champion_version")
            rows.append(EvaluationRow(champion.id, _metrics(spec.champion_metrics, "champion_metrics")))
        data = EvaluationData(
            dataset_name=v.check_name(spec.dataset_name, "dataset_name"),
            dataset_digest=_digest(spec.dataset_digest),
            dataset_version_id=self._dataset_version(spec.dataset_version_id),
            task=_task(spec.task),
            rows=_rows(spec.rows),
            compared_alias=alias,
            created_by=v.check_text(user, "user", v.MAX_NAME_LENGTH),
        )
        return self.get_evaluation(name, self.evaluations_store.record(data, rows))

    def evaluations(self, name: str, version: int | str, limit: int = 100) -> list[ModelEvaluation]:
        """The version's stored evaluations, newest first."""
        if not 1 <= limit <= MAX_EVALUATIONS_LISTED:
            raise InvalidArgument(f"limit must be between 1 and {MAX_EVALUATIONS_LISTED}", field="limit")
        return self.evaluations_store.of_version(self.registry.get_version(name, version).id, limit)

    def get_evaluation(self, name: str, evaluation_id: str) -> EvaluationResult:
        rows = self.evaluations_store.by_id(v.check_id(evaluation_id, "evaluation_id"))
        if not rows or rows[0].model_name != name:
            self.registry.get_model(name)  # an unknown model is named as such
            raise NotFound(f"Registered model {name!r} has no evaluation {evaluation_id!r}", field="evaluation_id")
        candidate, *others = rows
        return EvaluationResult(evaluation_id, name, candidate, others[0] if others else None, candidate.compared_alias)

    def _dataset_version(self, version_id: str | None) -> str | None:
        if version_id is None:
            return None
        try:
            self.store.datasets.version(v.check_id(version_id, "dataset_version_id"))
        except NotFound as missing:
            raise NotFound(missing.message, field="dataset_version_id") from None
        return version_id

    # promotion -----------------------------------------------------------------------------------------------

    def promote(
        self,
        name: str,
        version: int | str,
        alias: str = "champion",
        require: Sequence[str] | None = None,
        *,
        user: str = "",
    ) -> PromotionResult:
        """Point ``alias`` at ``version`` if every rule passes on the version's stored evaluation; otherwise raise
        :class:`PromotionRefused` naming the failed rule (the alias does not move)."""
        rules = parse_rules(list(require) if require is not None else None)
        alias = check_alias(alias)
        candidate = self.registry.get_version(name, version)
        if candidate.status is not VersionStatus.READY:
            raise Conflict(
                f"version {candidate.version} is {candidate.status.value}: only a READY version can be promoted",
                field="version",
            )
        holder = self.registry.get_model(name).aliases.get(alias)
        rival = None if holder == candidate.version else holder
        evaluation = self._evaluation_for(candidate, rules, rival) if rules else None
        outcomes = []
        if evaluation is not None:
            champion = evaluation.champion.metrics if evaluation.champion is not None else None
            outcomes = judge(rules, evaluation.candidate.metrics, champion)
        if holder != candidate.version:
            self.registry.set_alias(name, alias, candidate.version, user=user)
        evaluation_id = None if evaluation is None else evaluation.evaluation_id
        return PromotionResult(name, alias, candidate.version, holder, evaluation_id, outcomes)

    def _evaluation_for(self, candidate: ModelVersion, rules: list[Rule], rival: int | None) -> EvaluationResult:
        """The candidate's newest evaluation; when a rule compares with a champion, the newest one that scored the
        alias's current holder beside it (the same data for both)."""
        name = candidate.model_name
        stored = self.evaluations_store.of_version(candidate.id, _SEARCHED_EVALUATIONS)
        if not stored:
            raise PromotionRefused(
                f"promotion refused: version {candidate.version} has no stored evaluation for rule "
                f"{rules[0].text!r}; run ridgeline.registry.evaluate first",
                field="version",
                details={"rule": rules[0].text, "outcomes": []},
            )
        if rival is None or not any(rule.relative for rule in rules):
            return self._without_other_rival(self.get_evaluation(name, stored[0].evaluation_id), candidate, rival)
        for item in stored:
            found = self.get_evaluation(name, item.evaluation_id)
            if found.champion is not None and found.champion.version == rival:
                return found
        relative = next(rule for rule in rules if rule.relative)
        raise PromotionRefused(
            f"promotion refused: rule {relative.text!r} needs an evaluation of version {candidate.version} beside "
            f"the champion, version {rival}, on the same data; evaluate again",
            field="version",
            details={"rule": relative.text, "outcomes": []},
        )

    @staticmethod
    def _without_other_rival(found: EvaluationResult, candidate: ModelVersion, rival: int | None) -> EvaluationResult:
        # Threshold rules only read the candidate; a champion that has since lost the alias is no rival now.
        if found.champion is not None and found.champion.version != rival:
            return EvaluationResult(found.evaluation_id, found.model_name, found.candidate, None, found.alias)
        return found

    def rollback(self, name: str, alias: str = "champion", *, user: str = "") -> PromotionResult:
        """Point ``alias`` back at the version it held before the move that brought it to its current version.

        Moves are replayed from the alias history as a stack: a move back to the previous holder (a rollback,
        or the same move made by hand) pops, any other move pushes, so rolling back twice goes back two steps.
        Versions deleted since are skipped.
        """
        alias = check_alias(alias)
        holder = self.registry.get_model(name).aliases.get(alias)
        if holder is None:
            raise NotFound(f"Registered model {name!r} has no alias {alias!r}", field="alias")
        existing = {version.version for version in self.registry.versions(name)}
        earlier = [number for number in _holders(self.registry.alias_history(name, alias))[:-1] if number in existing]
        if not earlier:
            raise Conflict(f"alias {alias!r} has no earlier version to roll back to", field="alias")
        self.registry.set_alias(name, alias, earlier[-1], user=user)
        return PromotionResult(name, alias, earlier[-1], holder, None, [])

    # lineage -------------------------------------------------------------------------------------------------

    def version_lineage(self, name: str, version: int | str) -> VersionLineage:
        found = self.registry.get_version(name, version)
        if found.run_id is None:
            return VersionLineage(found, None, [])
        try:
            run = self.store.runs.get(found.run_id)
        except NotFound:
            # Versions outlive purged runs; the lineage then ends at the version.
            return VersionLineage(found, None, [])
        return VersionLineage(found, run, self.store.datasets.inputs_of_runs([run.id]).get(run.id, []))

    def versions_trained_on(self, dataset_version_id: str) -> list[ModelVersion]:
        """Every model version whose run used the dataset version (by model name, newest version first)."""
        self.store.datasets.version(v.check_id(dataset_version_id, "version_id"))
        run_ids = sorted({run_id for run_id, _ in self.store.datasets.runs_using(dataset_version_id)})
        return self.registry.versions_of_runs(run_ids)


def _holders(events: list[AliasEvent]) -> list[int]:
    stack: list[int] = []
    for event in events:
        if event.to_version is None:
            stack = []
        elif event.from_version is None or not stack:
            stack = [event.to_version]
        elif len(stack) >= 2 and stack[-2] == event.to_version:
            stack.pop()
        else:
            stack.append(event.to_version)
    return stack


def _version_text(number: int | None) -> str:
    return "no version" if number is None else f"version {number}"


def _metrics(metrics: Mapping[str, float] | None, field: str) -> dict[str, float]:
    if not isinstance(metrics, Mapping) or not metrics:
        raise InvalidArgument(f"{field} must be a non-empty object of metric names and numbers", field=field)
    if len(metrics) > MAX_METRICS:
        raise InvalidArgument(f"{field} holds at most {MAX_METRICS} metrics", field=field)
    checked: dict[str, float] = {}
    for key, value in metrics.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise InvalidArgument(f"{field}[{key}] must be a number, got {value!r}", field=field)
        checked[v.check_key(key, field)] = float(value)
    return checked


def _digest(value: object) -> str:
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise InvalidArgument("dataset_digest must be 1 to 64 printable ASCII characters", field="dataset_digest")
    return value


def _task(value: object) -> str:
    if value not in tuple(Task):
        raise InvalidArgument(f"task must be one of {', '.join(Task)}, got {value!r}", field="task")
    return str(value)


def _rows(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgument("rows must be a positive integer", field="rows")
    return value
