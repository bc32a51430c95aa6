"""Judging alert rules on report rows, and the life of an alert: when to notify.

``evaluate(rule, rows)`` judges a :class:`~ridgeline.monitoring.rules.Rule` on a monitor's report rows (one per
window, segment and feature, plus the dataset row of feature ``*``). Each segment (only the rule's, when it names
one) is judged at its own latest window in ``rows``: the rule holds there when its condition holds in that window
and in the ``rule.windows - 1`` windows just before it. Windows are consecutive when each starts where the one after
it starts minus the window size (``window_end - window_start`` of the latest window); a window absent from
``rows`` breaks the run. A segment with no rows in the newest window keeps being judged at its last window, so its
verdict does not change for want of data. Callers pass at least the last ``rule.windows`` windows of the report.
Where a window has rows of several reference periods (``period``: the model version changed during it), the rows
of the latest period are the ones judged.

``decide(previous, firing, now_ms, cooldown_ms)`` is the alert's state machine, one alert per
:attr:`Firing.key` (the rule's id and the segment): raise a new alert, keep an open one without notifying
(deduplication), notify again after the cool-down while it keeps firing in new windows, and resolve it once the rule
stops holding. A window is judged firing at most once per alert: a window no newer than the last one seen firing
(a re-run, late events for a past window) never raises or re-notifies.
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.rules import DATASET_DRIFT, DRIFT, PREDICTION, Rule

DATASET_ROW = "*"
# Features named in a firing's message; the rest are counted, and all of them are in its values.
MESSAGE_FEATURES = 3

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
# The statistic behind a drift verdict's score: drift.SCORES, which is not imported so that alerting does not load
# scipy (0.7 s). The other tests are named as their statistic.
_SCORE_NAMES = {"ks": "ks_p_value", "chi2": "chi2_p_value"}

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Firing:
    """A rule holding in ``segment``: ``window_start``/``window_end`` name the last window of the run, ``values``
    what broke the rule there (per feature, or per dataset statistic) and ``message`` says it in words."""

    rule: Rule
    segment: str
    window_start: int
    window_end: int
    model_version: int | None
    values: Mapping[str, float | None]
    message: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.rule.id, self.segment)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.to_json(),
            "rule_id": self.rule.id,
            "segment": self.segment,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "model_version": self.model_version,
            "values": {name: _finite(value) for name, value in self.values.items()},
            "message": self.message,
        }


@dataclass
class _Window:
    start: int
    end: int
    period: int
    features: dict[str, Row] = field(default_factory=dict)
    dataset: Row | None = None


@dataclass(frozen=True)
class _Match:
    name: str
    value: float | None
    label: str


def evaluate(rule: Rule, rows: Iterable[Row]) -> list[Firing]:
    """The firings of ``rule`` in ``rows``, one per segment where it holds, in segment order."""
    firings = []
    for segment, windows in sorted(_group(rule, rows).items()):
        latest = windows[max(windows)]
        matches = _judge(rule, latest)
        if matches is not None and _held_before(rule, windows, latest):
            firings.append(_firing(rule, segment, latest, matches))
    return firings


def _held_before(rule: Rule, windows: Mapping[int, _Window], latest: _Window) -> bool:
    """Whether the rule held in each of the ``rule.windows - 1`` windows just before ``latest``."""
    size = latest.end - latest.start
    for step in range(1, rule.windows):
        earlier = windows.get(latest.start - step * size)
        if earlier is None or _judge(rule, earlier) is None:
            return False
    return True


def _group(rule: Rule, rows: Iterable[Row]) -> dict[str, dict[int, _Window]]:
    segments: dict[str, dict[int, _Window]] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            raise InvalidArgument(f"a report row must be a mapping, got {type(row).__name__}", field="rows")
        missing = [key for key in ("window_start", "window_end", "segment", "feature") if key not in row]
        if missing:
            raise InvalidArgument(f"a report row lacks {', '.join(missing)}: {dict(row)!r}", field="rows")
        start, end, segment, feature = row["window_start"], row["window_end"], row["segment"], row["feature"]
        if not (
            _is_int(start) and _is_int(end) and end > start and isinstance(segment, str) and isinstance(feature, str)
        ):
            raise InvalidArgument(
                f"a report row has a malformed window, segment or feature: {dict(row)!r}", field="rows"
            )
        period = row.get("period") or 0
        if not _is_int(period):
            raise InvalidArgument(f"a report row has a malformed period: {dict(row)!r}", field="rows")
        if rule.segment is not None and segment != rule.segment:
            continue
        windows = segments.setdefault(segment, {})
        window = windows.setdefault(start, _Window(start, end, period))
        if period != window.period:
            # A window that straddles a change of reference (a new model version) is judged by the newer one.
            if period < window.period:
                continue
            window = windows[start] = _Window(start, end, period)
        if window.end != end:
            raise InvalidArgument(
                f"window {start} of segment {segment!r} has two ends: {window.end}, {end}", field="rows"
            )
        if window.dataset is not None if feature == DATASET_ROW else feature in window.features:
            raise InvalidArgument(
                f"the report has two rows for feature {feature!r} of window {start} in segment {segment!r}",
                field="rows",
            )
        if feature == DATASET_ROW:
            window.dataset = row
        else:
            window.features[feature] = row
    return segments


def _judge(rule: Rule, window: _Window) -> list[_Match] | None:
    """What breaks the rule in this window (features or dataset statistics), or None where it does not hold."""
    if rule.dataset_level:
        row = window.dataset
        if row is None:
            return None
        if rule.statistic == DATASET_DRIFT:
            if row.get("drift") is not True:
                return None
            return [_Match(key, _number(row.get(key)), "") for key in ("drift_share", "drifted_features")]
        value = _number(row.get(rule.statistic))
        return [_Match(rule.statistic, value, "")] if _holds(rule, value) else None
    if rule.feature is not None:
        candidates = {rule.feature: window.features[rule.feature]} if rule.feature in window.features else {}
    else:
        candidates = {name: row for name, row in window.features.items() if name != PREDICTION}
    matches = []
    for name, row in candidates.items():
        if rule.statistic == DRIFT:
            if row.get("drift") is True:
                score = _number(row.get("score"))
                test = str(row.get("test") or "score")
                matches.append(_Match(name, score, f"{_SCORE_NAMES.get(test, test)} {_text(score)}"))
        elif _holds(rule, value := _number(row.get(rule.statistic))):
            matches.append(_Match(name, value, _text(value)))
    if len(matches) < (rule.min_features or 1):
        return None
    return _worst_first(rule, matches)


def _worst_first(rule: Rule, matches: list[_Match]) -> list[_Match]:
    by_name = sorted(matches, key=lambda match: match.name)
    if rule.op not in (">", ">=", "<", "<="):
        return by_name
    # Stable sorts: equal values stay in name order, and unknown values (None) go last either way.
    known = sorted(
        ((match.value, match) for match in by_name if match.value is not None),
        key=lambda pair: pair[0],
        reverse=rule.op in (">", ">="),
    )
    return [match for _, match in known] + [match for match in by_name if match.value is None]


def _firing(rule: Rule, segment: str, window: _Window, matches: list[_Match]) -> Firing:
    if rule.statistic == DATASET_DRIFT:
        share, drifted = (match.value for match in matches)
        head = f"dataset drift ({_text(drifted)} features drifted, share {_text(share)})"
    elif rule.dataset_level:
        head = f"{rule.condition} ({_text(matches[0].value)})"
    elif rule.feature is not None:
        prediction_drift = (rule.statistic, rule.feature) == (DRIFT, PREDICTION)
        subject = "prediction drift" if prediction_drift else f"{rule.condition} on feature {rule.feature}"
        head = f"{subject} ({matches[0].label})"
    else:
        named = ", ".join(f"{match.name} {match.label}" for match in matches[:MESSAGE_FEATURES])
        more = ", …" if len(matches) > MESSAGE_FEATURES else ""
        plural = "s" if len(matches) != 1 else ""
        head = f"{rule.condition} on {len(matches)} feature{plural} ({named}{more})"
    if rule.windows > 1:
        head += f" for {rule.windows} consecutive windows"
    if segment:
        head += f" in segment {segment}"
    rows = [window.dataset, *window.features.values()]
    versions = [row.get("model_version") for row in rows if row is not None and _is_int(row.get("model_version"))]
    return Firing(
        rule=rule,
        segment=segment,
        window_start=window.start,
        window_end=window.end,
        model_version=versions[0] if versions else None,
        values={match.name: match.value for match in matches},
        message=head,
    )


class AlertStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Action(enum.StrEnum):
    RAISE = "raise"  # notify: a new alert
    RENOTIFY = "renotify"  # notify: still firing in a new window after the cool-down
    KEEP = "keep"  # still firing, already notified: stay quiet
    RESOLVE = "resolve"  # notify: the rule stopped holding
    NONE = "none"  # nothing fires and nothing was open


NOTIFYING = frozenset({Action.RAISE, Action.RENOTIFY, Action.RESOLVE})


@dataclass(frozen=True)
class AlertState:
    """What is stored per alert key between evaluations. ``last_window``: the start of the newest window seen firing;
    ``last_notified_at``: epoch ms of the last notification (raise, re-notification or resolve)."""

    rule_id: str
    segment: str
    status: AlertStatus
    last_window: int
    last_notified_at: int

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "status": self.status.value}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlertState:
        try:
            state = cls(
                str(data["rule_id"]),
                str(data["segment"]),
                AlertStatus(data["status"]),
                data["last_window"],
                data["last_notified_at"],
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidArgument(f"malformed alert state: {error!r}", field="state") from None
        if not (_is_int(state.last_window) and _is_int(state.last_notified_at)):
            raise InvalidArgument("alert state times must be integers (epoch ms)", field="state")
        return state


@dataclass(frozen=True)
class Decision:
    """What to do and the state to store afterwards (None: there is nothing to store)."""

    action: Action
    state: AlertState | None

    @property
    def notify(self) -> bool:
        return self.action in NOTIFYING


def decide(previous: AlertState | None, firing: Firing | None, now_ms: int, cooldown_ms: int) -> Decision:
    """The next step of one alert, given its stored state and this evaluation's firing for its key (None: the
    rule does not hold for that key now)."""
    if not (_is_int(now_ms) and _is_int(cooldown_ms) and cooldown_ms >= 0):
        raise InvalidArgument("now_ms and cooldown_ms must be integers (cooldown_ms >= 0)", field="cooldown_ms")
    if firing is None:
        if previous is None or previous.status is AlertStatus.RESOLVED:
            return Decision(Action.NONE, previous)
        return Decision(Action.RESOLVE, replace(previous, status=AlertStatus.RESOLVED, last_notified_at=now_ms))
    rule_id, segment = firing.key
    if previous is not None and (previous.rule_id, previous.segment) != firing.key:
        raise InvalidArgument(f"the state of {previous.rule_id!r} was given for {rule_id!r}", field="state")
    window = firing.window_start
    if previous is None or previous.status is AlertStatus.RESOLVED:
        if previous is not None and window <= previous.last_window:
            # The window that fired before the resolve, evaluated again: it was notified then.
            return Decision(Action.NONE, previous)
        return Decision(Action.RAISE, AlertState(rule_id, segment, AlertStatus.FIRING, window, now_ms))
    if window <= previous.last_window:
        return Decision(Action.KEEP, previous)
    if now_ms - previous.last_notified_at >= cooldown_ms:
        return Decision(Action.RENOTIFY, replace(previous, last_window=window, last_notified_at=now_ms))
    return Decision(Action.KEEP, replace(previous, last_window=window))


def _holds(rule: Rule, value: float | None) -> bool:
    assert rule.op is not None and rule.threshold is not None
    return value is not None and _COMPARE[rule.op](value, rule.threshold)


def _number(value: Any) -> float | None:
    """A statistic as a float; None where it is absent, not a number or NaN (not computable)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def _text(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.3g}"


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
