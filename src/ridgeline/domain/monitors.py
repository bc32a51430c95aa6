"""Monitors: what watches a deployed model, and the pieces of its history.

A monitor watches one registered model's alias (``churn@champion``: it follows the alias) or one version
(``churn/3``). Its history is cut in two ways:

- by **model version**: each version the monitor sees starts a new *period* with its own reference (by default
  that version's training data), so a new model is never compared with its predecessor's data;
- by **window**: events are grouped by their own timestamp into fixed windows (``window="1h"``), so late events
  land where they belong.

A *segment* is a slice of the population: the events whose feature or tag ``country`` is ``IT`` are segment
``country=IT``. Every statistic is computed for the whole population (segment ``""``) and for each value of each
``segment_by`` name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.validation import check_name

_DURATION = re.compile(r"\s*(\d+)\s*(s|m|h|d|w)\s*", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
MIN_WINDOW_S = 60
MAX_WINDOW_S = 31 * 86_400
MAX_FEATURES = 1_000
MAX_SEGMENT_BY = 10
# Segments with more values than this are tracked for their most frequent values only (the rest: "<name>=*").
MAX_SEGMENT_VALUES = 50
MAX_SEGMENT_VALUE_LENGTH = 100
PREDICTION = "prediction"  # the model's output, monitored like a feature (prediction drift)
WHOLE = ""  # the segment that is the whole population
_TARGET = re.compile(r"(?P<name>[^@/]+)(?:@(?P<alias>[A-Za-z_][A-Za-z0-9_\-]*)|/(?P<version>\d+))")


def parse_duration(value: object, field: str = "window") -> int:
    """``"1h"``, ``"15m"``, ``"1d"``, ``"2w"`` (or a number of seconds) as seconds."""
    if isinstance(value, bool):
        raise InvalidArgument(f"{field} is a duration like '1h', '15m' or '1d', not {value!r}", field=field)
    if isinstance(value, int):
        seconds = value
    else:
        match = _DURATION.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise InvalidArgument(f"{field} is a duration like '1h', '15m' or '1d', not {value!r}", field=field)
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        raise InvalidArgument(f"{field} is between 1m and 31d, not {seconds} s", field=field)
    return seconds


def format_duration(seconds: int) -> str:
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Target:
    """What a monitor watches: ``model@alias`` or ``model/version``."""

    model_name: str
    alias: str | None
    version: int | None

    def __str__(self) -> str:
        return f"{self.model_name}@{self.alias}" if self.alias else f"{self.model_name}/{self.version}"


def parse_target(value: object, field: str = "model") -> Target:
    """``NAME@ALIAS``, ``NAME/VERSION`` or a ``models:/`` URI of either form."""
    text = value.removeprefix("models:/") if isinstance(value, str) else None
    match = _TARGET.fullmatch(text) if text else None
    if match is None:
        raise InvalidArgument(
            f"{field} is a registered model's alias or version: 'NAME@ALIAS' or 'NAME/VERSION', not {value!r}",
            field=field,
        )
    version = match.group("version")
    return Target(match.group("name"), match.group("alias"), None if version is None else int(version))


def check_segment_by(values: object) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list | tuple) or len(values) > MAX_SEGMENT_BY:
        raise InvalidArgument(
            f"segment_by is a list of at most {MAX_SEGMENT_BY} feature or tag names", field="segment_by"
        )
    names = [check_name(name, "segment_by") for name in values]
    if len(set(names)) != len(names):
        raise InvalidArgument("segment_by names a feature or tag twice", field="segment_by")
    return names


def check_features(values: object) -> list[str] | None:
    """None: the model signature's inputs (or the reference's columns)."""
    if values is None:
        return None
    if not isinstance(values, list | tuple) or not values or len(values) > MAX_FEATURES:
        raise InvalidArgument(f"features is a list of 1 to {MAX_FEATURES} column names", field="features")
    names = [check_name(name, "features") for name in values]
    if len(set(names)) != len(names):
        raise InvalidArgument("features names a column twice", field="features")
    return names


def segment_key(name: str, value: object) -> str:
    text = "" if value is None else str(value)
    return f"{name}={text[:MAX_SEGMENT_VALUE_LENGTH]}"


@dataclass(frozen=True)
class Monitor:
    id: str
    name: str
    model_name: str
    alias: str | None
    version: int | None
    features: list[str] | None
    window_s: int
    segment_by: list[str]
    task: str | None  # classification | regression | None (inferred from the labels)
    policy: dict[str, Any]  # monitoring.drift.DriftPolicy JSON
    quality: dict[str, Any]  # monitoring.quality.QualityThresholds JSON
    rules: list[dict[str, Any]]  # alert rules, JSON form
    channels: list[dict[str, Any]]  # alert channels' configurations
    cooldown_s: int
    description: str
    created_by: str
    created_at: int
    updated_at: int

    @property
    def target(self) -> Target:
        return Target(self.model_name, self.alias, self.version)

    @property
    def window_ms(self) -> int:
        return self.window_s * 1000


@dataclass(frozen=True)
class Period:
    """The part of a monitor's history served by one model version, and the reference it is compared with."""

    monitor_id: str
    number: int
    model_version: int | None
    reference: dict[str, Any]  # monitoring.reference.Reference JSON
    reference_source: str  # where the reference came from, in words
    started_at: int


@dataclass(frozen=True)
class Alert:
    id: str
    monitor_id: str
    rule: str
    rule_key: str
    segment: str
    window_start: int
    status: str  # raised | resolved
    severity: str
    message: str
    values: dict[str, Any] = field(default_factory=dict)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    raised_at: int = 0
    notified_at: int | None = None
    resolved_at: int | None = None
