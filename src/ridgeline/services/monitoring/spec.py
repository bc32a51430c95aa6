"""What callers hand the monitoring service, checked at the edge: a monitor's definition and batches of events."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.monitors import check_features, check_segment_by, parse_duration, parse_target
from ridgeline.domain.validation import check_name, check_text
from ridgeline.monitoring.drift import DriftPolicy
from ridgeline.monitoring.quality import QualityThresholds
from ridgeline.monitoring.reference import Reference
from ridgeline.services.alert_channels import check_destination

MAX_BATCH_ROWS = 1_000_000
MAX_ID_LENGTH = 200
DEFAULT_COOLDOWN_S = 3600
TASKS = ("classification", "regression")


@dataclass(frozen=True)
class MonitorSpec:
    """A monitor as asked for. ``reference`` is a Reference JSON (the SDK builds it where the data is); None: the
    model version's training data, read on the server where it can be (services/dataset_files.py)."""

    model: str
    name: str | None = None
    reference: dict[str, Any] | None = None
    reference_source: str = ""
    features: list[str] | None = None
    window: str | int = "1d"
    segment_by: list[str] = field(default_factory=list)
    task: str | None = None
    policy: dict[str, Any] | None = None
    quality: dict[str, Any] | None = None
    rules: list[Any] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    cooldown: str | int = DEFAULT_COOLDOWN_S
    description: str = ""

    def checked(self) -> CheckedSpec:
        target = parse_target(self.model)
        name = check_name(self.name or f"{target.model_name}-{target.alias or target.version}", "name")
        if self.task is not None and self.task not in TASKS:
            raise InvalidArgument(f"task is classification or regression, not {self.task!r}", field="task")
        reference = None if self.reference is None else Reference.from_json(self.reference)
        if not isinstance(self.rules, list) or not isinstance(self.channels, list):
            raise InvalidArgument("rules and channels are lists", field="rules")
        for channel in self.channels:
            check_destination(channel)
        return CheckedSpec(
            target=target,
            name=name,
            reference=reference,
            reference_source=check_text(self.reference_source, "reference_source", 1000),
            features=check_features(self.features),
            window_s=parse_duration(self.window),
            segment_by=check_segment_by(self.segment_by),
            task=self.task,
            policy=DriftPolicy.from_json(self.policy).to_json() if self.policy else DriftPolicy().to_json(),
            quality=_quality(self.quality),
            rules=list(self.rules),
            channels=list(self.channels),
            cooldown_s=_cooldown(self.cooldown),
            description=check_text(self.description, "description", 10_000),
        )


@dataclass(frozen=True)
class CheckedSpec:
    target: Any
    name: str
    reference: Reference | None
    reference_source: str
    features: list[str] | None
    window_s: int
    segment_by: list[str]
    task: str | None
    policy: dict[str, Any]
    quality: dict[str, Any]
    rules: list[Any]
    channels: list[dict[str, Any]]
    cooldown_s: int
    description: str


def _quality(value: Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return dict(QualityThresholds().__dict__)
    if not isinstance(value, Mapping):
        raise InvalidArgument("quality maps missing, out_of_range and invalid to allowances", field="quality")
    unknown = set(value) - set(QualityThresholds().__dict__)
    if unknown:
        raise InvalidArgument(f"unknown quality threshold {sorted(unknown)[0]!r}", field="quality")
    for key, number in value.items():
        if isinstance(number, bool) or not isinstance(number, int | float) or not 0 <= number <= 1:
            raise InvalidArgument(f"quality threshold {key!r} is a rate between 0 and 1", field="quality")
    return {**QualityThresholds().__dict__, **value}


def _cooldown(value: str | int) -> int:
    if value == 0:
        return 0
    return parse_duration(value, "cooldown")


@dataclass(frozen=True)
class PredictionBatch:
    """Predictions as columns: ``inputs`` maps each feature (and tag) to its values, one per row."""

    inputs: Mapping[str, Sequence[Any]]
    predictions: Sequence[Any]
    ids: Sequence[str] | None = None
    timestamps: Sequence[int | float] | None = None  # epoch ms; None: now
    versions: Sequence[int | None] | None = None  # None: the version the monitor's target names now
    scores: Sequence[Any] | None = None
    tags: Mapping[str, Sequence[Any]] | None = None

    @property
    def rows(self) -> int:
        return len(self.predictions)

    def check(self) -> tuple[list[str] | None, NDArray[np.int64] | None]:
        """Refuse a malformed batch before anything is written; returns the ids and timestamps, normalised."""
        rows = self.rows
        if not 0 < rows <= MAX_BATCH_ROWS:
            raise InvalidArgument(f"a batch has 1 to {MAX_BATCH_ROWS:,} predictions, got {rows}", field="outputs")
        for where, columns in (("inputs", self.inputs), ("tags", self.tags or {})):
            for name, values in columns.items():
                check_name(name, where)
                if len(values) != rows:
                    raise InvalidArgument(
                        f"{where} column {name!r} has {len(values)} values for {rows} predictions", field=name
                    )
        given: tuple[tuple[str, Sequence[Any] | None], ...] = (
            ("ids", self.ids),
            ("timestamps", self.timestamps),
            ("versions", self.versions),
            ("scores", self.scores),
        )
        for label, column in given:
            if column is not None and len(column) != rows:
                raise InvalidArgument(f"{label} has {len(column)} values for {rows} predictions", field=label)
        ids = None if self.ids is None else check_ids(self.ids)
        stamps = None if self.timestamps is None else check_timestamps(self.timestamps)
        return ids, stamps


def check_ids(ids: Sequence[Any]) -> list[str]:
    checked = [value if type(value) is str else str(value) for value in ids]
    for index, (value, text) in enumerate(zip(ids, checked, strict=True)):
        if isinstance(value, bool) or not isinstance(value, str | int) or not 0 < len(text) <= MAX_ID_LENGTH:
            raise InvalidArgument(
                f"ids[{index}] is a string of 1 to {MAX_ID_LENGTH} characters, got {value!r}", field="ids"
            )
    return checked


def _epoch_ms(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value) and value >= 0


# The end of year 9999: later "times" are mistakes, and past int64 they would overflow.
MAX_TIMESTAMP_MS = 253_402_300_799_999


def check_timestamps(values: Sequence[Any]) -> NDArray[np.int64]:
    """Epoch milliseconds as int64; the first bad value is named."""
    array = np.asarray(values)
    if array.ndim == 1 and array.dtype.kind in "iuf":
        in_range = (array >= 0) & (array <= MAX_TIMESTAMP_MS)
        good = np.isfinite(array) & in_range if array.dtype.kind == "f" else in_range
        if good.all():
            return array.astype(np.int64)
        index = int(np.argmin(good))
    else:
        index = next(
            (
                i
                for i, value in enumerate(values)
                if isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not 0 <= value <= MAX_TIMESTAMP_MS
            ),
            0,
        )
    raise InvalidArgument(
        f"timestamps[{index}] is milliseconds since the epoch, got {list(values)[index]!r}", field="timestamps"
    )
