"""What the model page shows, worked out from registry entities: key metric columns, each version's lineage
(run → dataset versions → commit), the metrics comparison of chosen versions with its bar scale, and the
stored evaluations with the differences between candidate and alias holder."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ridgeline.domain.entities import RunRecord
from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.domain.promotion import EvaluationResult, VersionLineage
from ridgeline.domain.registry import ModelVersion
from ridgeline.services.datasets import DatasetService
from ridgeline.services.registry_gate import RegistryGate
from ridgeline.services.tracking import TrackingService

# Metrics the SDK samples from the machine (system/cpu …) say nothing about a model's quality.
SYSTEM_PREFIX = "system/"
KEY_METRICS = 4
MAX_COMPARED = 10
DEFAULT_COMPARED = 4
EVALUATIONS_SHOWN = 10


@dataclass(frozen=True)
class EvaluationRow:
    """One metric of an evaluation: the candidate's value, the compared alias holder's, and the difference."""

    key: str
    candidate: float | None
    champion: float | None
    delta: float | None


@dataclass(frozen=True)
class Evaluation:
    result: EvaluationResult
    rows: list[EvaluationRow]


@dataclass(frozen=True)
class Bar:
    """One version's bar in a metric row: ``start`` and ``width`` as fractions of the row's value span."""

    value: float | None
    start: float
    width: float


@dataclass(frozen=True)
class ComparedMetric:
    key: str
    bars: list[Bar]
    differs: bool


def quality_metrics(version: ModelVersion) -> dict[str, float]:
    return {key: value for key, value in version.metrics.items() if not key.startswith(SYSTEM_PREFIX)}


def key_metrics(versions: Sequence[ModelVersion], limit: int = KEY_METRICS) -> list[str]:
    """The metrics most versions have (ties by name): the columns of the versions table."""
    counts = Counter(key for version in versions for key in quality_metrics(version))
    return [key for key, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]]


def lineage(
    versions: Sequence[ModelVersion], tracking: TrackingService, datasets: DatasetService
) -> list[VersionLineage]:
    """Each version's source run (None when it has none or the run is gone) and the dataset versions it used.

    The same as RegistryGate.version_lineage for every version, read in one pass: one run header per run and one
    query for every run's inputs, rather than a full run and its inputs per version.
    """
    run_ids = sorted({version.run_id for version in versions if version.run_id})
    runs: dict[str, RunRecord] = {}
    for run_id in run_ids:
        try:
            runs[run_id] = tracking.get_run_header(run_id)
        except NotFound:
            continue
    inputs = datasets.inputs_of_runs(list(runs))
    return [
        VersionLineage(
            version,
            runs.get(version.run_id) if version.run_id else None,
            inputs.get(version.run_id, []) if version.run_id else [],
        )
        for version in versions
    ]


def chosen_versions(requested: Sequence[str], versions: Sequence[ModelVersion]) -> list[ModelVersion]:
    """The versions to compare, newest first: those the URL names, else the aliased ones and the newest.

    A malformed or unknown number is refused with the reason rather than silently dropped: the page would
    otherwise compare something other than what the link says.
    """
    by_number = {version.version: version for version in versions}
    if not requested:
        aliased = [version for version in versions if version.aliases]
        picked = {version.version for version in [*versions[:1], *aliased][:DEFAULT_COMPARED]}
        return [version for version in versions if version.version in picked]
    if len(requested) > MAX_COMPARED:
        raise InvalidArgument(f"compare at most {MAX_COMPARED} versions at once", field="compare")
    numbers: set[int] = set()
    for text in requested:
        if not text.strip().isdigit():
            raise InvalidArgument(f"compare takes version numbers, got {text!r}", field="compare")
        if int(text) not in by_number:
            raise NotFound(f"this model has no version {int(text)}", field="compare")
        numbers.add(int(text))
    return [version for version in versions if version.version in numbers]


def compare(versions: Sequence[ModelVersion]) -> list[ComparedMetric]:
    """One row per metric any compared version has, with bars on a shared span that includes zero."""
    keys = sorted({key for version in versions for key in quality_metrics(version)})
    rows = []
    for key in keys:
        values = [version.metrics.get(key) for version in versions]
        finite = [value for value in values if value is not None and math.isfinite(value)]
        low, high = min([0.0, *finite]), max([0.0, *finite])
        span = (high - low) or 1.0
        bars = []
        for value in values:
            if value is None or not math.isfinite(value):
                bars.append(Bar(value, 0.0, 0.0))
                continue
            start = (min(value, 0.0) - low) / span
            bars.append(Bar(value, start, abs(value) / span))
        rows.append(ComparedMetric(key, bars, len(set(values)) > 1))
    return rows


def evaluations(
    gate: RegistryGate, name: str, versions: Sequence[ModelVersion], limit: int = EVALUATIONS_SHOWN
) -> list[Evaluation]:
    """The model's newest stored evaluations, each with the candidate beside the alias holder it was scored with."""
    newest: dict[str, int] = {}
    for version in versions:
        for item in gate.evaluations(name, version.version, limit):
            newest[item.evaluation_id] = item.created_at
    chosen = sorted(newest, key=lambda evaluation_id: newest[evaluation_id], reverse=True)[:limit]
    found = []
    for evaluation_id in chosen:
        result = gate.get_evaluation(name, evaluation_id)
        theirs = result.champion.metrics if result.champion is not None else {}
        keys = sorted({*result.candidate.metrics, *theirs})
        rows = [
            EvaluationRow(key, result.candidate.metrics.get(key), theirs.get(key), result.deltas.get(key))
            for key in keys
        ]
        found.append(Evaluation(result, rows))
    return found
