"""Alert rules: the grammar (text and JSON), evaluation over report rows, and the alert state machine."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.drift import SCORES
from ridgeline.monitoring.rule_eval import Action, AlertState, AlertStatus, Decision, Firing, decide, evaluate
from ridgeline.monitoring.rules import Rule, parse_rule

HOUR = 3_600_000
STATISTICS = ("psi", "ks_statistic", "ks_p_value", "wasserstein", "jensen_shannon", "chi2_statistic", "chi2_p_value")
RATES = ("missing_rate", "out_of_range_rate", "invalid_rate")


def feature_row(window: int, feature: str, segment: str = "", **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        **{"window_start": window * HOUR, "window_end": (window + 1) * HOUR, "segment": segment},
        **{"model_version": 3, "feature": feature, "kind": "numeric", "rows": 500, "test": "psi", "threshold": 0.2},
        **{"score": None, "drift": False, "quality_ok": True},
        **dict.fromkeys(STATISTICS + RATES),
    }
    return {**row, **values}


def dataset_row(window: int, segment: str = "", **values: Any) -> dict[str, Any]:
    row = {"window_start": window * HOUR, "window_end": (window + 1) * HOUR, "segment": segment, "model_version": 3}
    return {**row, "feature": "*", "rows": 500, "drifted_features": 0, "drift_share": 0.0, "drift": False, **values}


def psi_window(window: int, segment: str = "", **psi: float) -> list[dict[str, Any]]:
    return [dataset_row(window, segment)] + [feature_row(window, name, segment, psi=v) for name, v in psi.items()]


# --- grammar ---

EXAMPLES: dict[str, dict[str, Any]] = {
    "psi > 0.2 on at least 3 features for 2 consecutive windows": dict(
        statistic="psi", op=">", threshold=0.2, min_features=3, windows=2
    ),
    "drift on at least 2 features": dict(statistic="drift", min_features=2),
    "wasserstein >= 0.1 on feature age": dict(statistic="wasserstein", op=">=", threshold=0.1, feature="age"),
    "f1 < 0.8": dict(statistic="f1", op="<", threshold=0.8),
    "accuracy < 0.9 for 3 consecutive windows": dict(statistic="accuracy", op="<", threshold=0.9, windows=3),
    "drift_share > 0.5": dict(statistic="drift_share", op=">", threshold=0.5),
    "dataset drift": dict(statistic="dataset_drift"),
    "missing_rate > 0.1 on any feature": dict(statistic="missing_rate", op=">", threshold=0.1, min_features=1),
    "psi > 0.2 on feature prediction": dict(statistic="psi", op=">", threshold=0.2, feature="prediction"),
    "prediction drift": dict(statistic="drift", feature="prediction"),
    "rmse <= 3 in segment country=IT": dict(statistic="rmse", op="<=", threshold=3.0, segment="country=IT"),
    "rows < 100 in whole population": dict(statistic="rows", op="<", threshold=100.0, segment=""),
    "invalid_rate != 0 on at least 1 feature": dict(statistic="invalid_rate", op="!=", threshold=0.0, min_features=1),
    "chi2_p_value == 0.5 on any feature": dict(statistic="chi2_p_value", op="==", threshold=0.5, min_features=1),
}


@pytest.mark.parametrize("text", list(EXAMPLES))
def test_examples_parse_and_round_trip(text: str) -> None:
    rule = parse_rule(text, name="my rule", severity="critical")
    assert rule == Rule(**EXAMPLES[text], name="my rule", severity="critical")
    assert parse_rule(rule.text, name="my rule", severity="critical") == rule
    assert Rule.from_json(rule.to_json()) == rule
    assert rule.id == "my rule" and parse_rule(text).id == rule.text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (
            "PSI>0.2 ON AT LEAST 3 FEATURES FOR 2 CONSECUTIVE WINDOWS",
            "psi > 0.2 on at least 3 features for 2 consecutive windows",
        ),
        ("psi > 0.2", "psi > 0.2 on any feature"),
        ("drift", "drift on any feature"),
        ("Dataset  Drift for 2 windows", "dataset drift for 2 consecutive windows"),
        ("drift on feature prediction", "prediction drift"),
        ("f1<0.8 in segment country=IT for 3 windows", "f1 < 0.8 for 3 consecutive windows in segment country=IT"),
        ("psi > 2e-1 on feature 'annual income'", "psi > 0.2 on feature 'annual income'"),
        ('psi > 0.2 on feature "it\'s"', "psi > 0.2 on feature 'it'\"'\"'s'"),
        ("psi > 0.2 on feature for for 1 window", "psi > 0.2 on feature for"),
        ("psi > 0.2 in segment 'city=New York'", "psi > 0.2 on any feature in segment 'city=New York'"),
    ],
)
def test_keywords_ignore_case_and_text_is_canonical(text: str, canonical: str) -> None:
    rule = parse_rule(text)
    assert rule.text == canonical
    assert parse_rule(canonical) == rule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "a rule must be a non-empty string"),
        ("foo > 1", "unknown statistic 'foo': choose from psi, ks_statistic"),
        ("psi = 0.2", "psi needs a comparison such as 'psi > 0.2'"),
        ("psi on any feature", "psi needs a comparison"),
        ("psi > abc", "psi must be compared with a number, got 'abc'"),
        ("psi > inf", "must be finite"),
        ("drift > 0.5", "drift is a verdict: it takes no comparison"),
        ("f1 < 0.8 on any feature", "f1 is read from the dataset row: 'on …' does not apply to it"),
        ("dataset drift on feature age", "dataset drift is read from the dataset row"),
        ("prediction drift on at least 2 features", "'prediction drift' names its feature already"),
        ("psi > 0.2 on at least 0 features", "the number of features must be a whole number >= 1, got '0'"),
        ("psi > 0.2 on all features", "expected 'on any feature', 'on at least N features' or 'on feature NAME'"),
        ("psi > 0.2 on feature", "expected 'on any feature'"),
        ("psi > 0.2 for two consecutive windows", "the number of windows must be a whole number >= 1, got 'two'"),
        ("psi > 0.2 for 2 days", "expected 'for N consecutive windows'"),
        ("psi > 0.2 in segment IT", "segment must look like KEY=VALUE"),
        ("psi > 0.2 in country=IT", "expected 'in segment KEY=VALUE' or 'in whole population'"),
        ("psi > 0.2 on feature 'age", "No closing quotation"),
        ("psi > 0.2 on any feature on feature age", "the rule has two 'on …' clauses"),
        ("psi > 0.2 when it rains", "unexpected 'when'"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_rule(text)
    assert caught.value.field == "rules"
    assert message in caught.value.message
    if text:
        assert caught.value.message.startswith(f"rule {text!r}: ")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"statistic": "psi", "op": ">", "threshold": 0.2, "scope": "any"}, "unknown rule keys 'scope'"),
        ({"op": ">", "threshold": 0.2}, "a rule needs a 'statistic'"),
        ({"statistic": "psi", "op": ">", "threshold": True}, "threshold of psi must be a finite number"),
        ({"statistic": "psi", "op": ">", "threshold": math.nan}, "threshold of psi must be a finite number"),
        ({"statistic": "psi", "op": "=>", "threshold": 0.2}, "op must be one of"),
        ({"statistic": "psi", "op": ">", "threshold": 0.2, "windows": 0}, "number of windows"),
        ({"statistic": "psi", "op": ">", "threshold": 0.2, "min_features": 2.0}, "number of features"),
        ({"statistic": "psi", "op": ">", "threshold": 1, "feature": "age", "min_features": 2}, "cannot need 2"),
        ({"statistic": "f1", "op": "<", "threshold": 0.8, "min_features": 1}, "read from the dataset row"),
        ({"statistic": "dataset_drift", "severity": "urgent"}, "severity must be one of info, warning, critical"),
        ({"statistic": "drift", "name": " "}, "name must be a non-empty string"),
        (["psi > 0.2"], "a rule must be a JSON object"),
    ],
)
def test_bad_json_rules_are_refused(data: Any, message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        Rule.from_json(data)
    assert caught.value.field == "rules" and message in caught.value.message


def test_json_threshold_may_be_an_integer() -> None:
    rule = Rule.from_json({"statistic": "rows", "op": "<", "threshold": 100, "segment": None})
    assert rule.threshold == 100.0 and rule.to_json()["threshold"] == 100.0 and rule.text == "rows < 100"


# --- evaluation ---


def test_features_counted_over_consecutive_windows() -> None:
    rule = parse_rule("psi > 0.2 on at least 3 features for 2 consecutive windows")
    latest = psi_window(2, age=0.31, income=0.27, zip=0.25, plan=0.22, city=0.1)
    [firing] = evaluate(rule, psi_window(1, age=0.25, income=0.3, zip=0.21, city=0.1) + latest)
    assert (firing.segment, firing.window_start, firing.window_end) == ("", 2 * HOUR, 3 * HOUR)
    assert firing.message == "psi > 0.2 on 4 features (age 0.31, income 0.27, zip 0.25, …) for 2 consecutive windows"
    assert firing.values == {"age": 0.31, "income": 0.27, "zip": 0.25, "plan": 0.22}
    assert firing.model_version == 3 and firing.key == (rule.text, "")
    assert firing.to_json()["rule"] == rule.to_json()
    # Two features over in the earlier window: the run is one window long.
    assert evaluate(rule, psi_window(1, age=0.25, income=0.3) + latest) == []


def test_a_missing_window_breaks_the_run() -> None:
    rule = parse_rule("psi > 0.2 for 2 consecutive windows")
    assert evaluate(rule, psi_window(0, age=0.5) + psi_window(2, age=0.5)) == []
    [firing] = evaluate(
        rule, psi_window(0, age=0.5) + psi_window(1, age=0.5) + psi_window(3, age=0.5) + psi_window(4, age=0.5)
    )
    assert firing.window_start == 4 * HOUR
    # The condition failing in a window in between breaks it too, and only the latest windows count.
    assert evaluate(rule, psi_window(0, age=0.5) + psi_window(1, age=0.1) + psi_window(2, age=0.5)) == []
    assert evaluate(rule, psi_window(0, age=0.5) + psi_window(1, age=0.5) + psi_window(2, age=0.1)) == []


def test_window_size_comes_from_the_rows() -> None:
    day = 24 * HOUR
    rows = [
        {**feature_row(0, "age", psi=0.4), "window_start": start, "window_end": start + day}
        for start in (10 * day, 11 * day)
    ]
    assert len(evaluate(parse_rule("psi > 0.2 for 2 windows"), rows)) == 1
    assert evaluate(parse_rule("psi > 0.2 for 3 windows"), rows) == []


def test_each_segment_is_judged_and_keyed_separately() -> None:
    rows = (
        psi_window(5, age=0.1)
        + psi_window(5, "country=IT", age=0.4, income=0.3)
        + psi_window(5, "country=FR", income=0.9)
        + psi_window(2, "country=DE", age=0.7)
    )
    rule = parse_rule("psi > 0.2")
    firings = {firing.segment: firing for firing in evaluate(rule, rows)}
    assert set(firings) == {"country=IT", "country=FR", "country=DE"}
    assert firings["country=IT"].message == "psi > 0.2 on 2 features (age 0.4, income 0.3) in segment country=IT"
    assert firings["country=IT"].key == ("psi > 0.2 on any feature", "country=IT")
    # A segment without rows in the newest window is judged at its own latest one.
    assert firings["country=DE"].window_start == 2 * HOUR
    assert [f.segment for f in evaluate(parse_rule("psi > 0.2 in segment country=FR"), rows)] == ["country=FR"]
    assert evaluate(parse_rule("psi > 0.2 in whole population"), rows) == []


def test_feature_counts_leave_out_the_prediction_unless_named() -> None:
    rows = [
        dataset_row(0),
        feature_row(0, "age", drift=True, test="wasserstein", score=0.31),
        feature_row(0, "prediction", drift=True, test="ks", score=0.001, psi=0.5),
    ]
    assert evaluate(parse_rule("drift on at least 2 features"), rows) == []
    assert evaluate(parse_rule("psi > 0.2 on any feature"), rows) == []
    [drifting] = evaluate(parse_rule("drift on any feature"), rows)
    assert drifting.message == "drift on 1 feature (age wasserstein 0.31)" and drifting.values == {"age": 0.31}
    [prediction] = evaluate(parse_rule("prediction drift"), rows)
    assert prediction.message == "prediction drift (ks_p_value 0.001)"
    [psi] = evaluate(parse_rule("psi > 0.2 on feature prediction"), rows)
    assert psi.message == "psi > 0.2 on feature prediction (0.5)" and psi.values == {"prediction": 0.5}


def test_drift_names_the_statistic_that_decided() -> None:
    for test, statistic in SCORES.items():
        row = feature_row(0, "age", drift=True, test=test.value, score=0.01)
        [firing] = evaluate(parse_rule("drift on feature age"), [row])
        assert firing.message == f"drift on feature age ({statistic} 0.01)"


def test_named_feature_and_none_values() -> None:
    rows = [
        feature_row(0, "age", wasserstein=0.14, missing_rate=None),
        feature_row(0, "income", wasserstein=None, missing_rate=0.3),
        feature_row(0, "zip", wasserstein=math.nan, missing_rate=0.12),
    ]
    [firing] = evaluate(parse_rule("wasserstein >= 0.1 on feature age"), rows)
    assert firing.message == "wasserstein >= 0.1 on feature age (0.14)"
    assert evaluate(parse_rule("wasserstein >= 0.1 on feature income"), rows) == []
    assert evaluate(parse_rule("wasserstein >= 0.1 on feature height"), rows) == []
    [missing] = evaluate(parse_rule("missing_rate > 0.1 on any feature"), rows)
    assert missing.values == {"income": 0.3, "zip": 0.12}
    assert missing.message == "missing_rate > 0.1 on 2 features (income 0.3, zip 0.12)"
    [low] = evaluate(parse_rule("missing_rate < 0.2 on any feature"), rows)
    assert list(low.values) == ["zip"]


def test_dataset_statistics() -> None:
    rows = [dataset_row(w, f1=f1, accuracy=0.85, labelled_rows=40) for w, f1 in ((0, 0.9), (1, 0.72), (2, 0.7))]
    [f1] = evaluate(parse_rule("f1 < 0.8", severity="critical"), rows)
    assert (f1.message, f1.values, f1.window_start) == ("f1 < 0.8 (0.7)", {"f1": 0.7}, 2 * HOUR)
    assert len(evaluate(parse_rule("f1 < 0.8 for 2 consecutive windows"), rows)) == 1
    assert evaluate(parse_rule("f1 < 0.8 for 3 consecutive windows"), rows) == []
    [accuracy] = evaluate(parse_rule("accuracy < 0.9 for 3 consecutive windows"), rows)
    assert accuracy.message == "accuracy < 0.9 (0.85) for 3 consecutive windows"
    # No labels yet: the metric is None and never fires; feature rows alone hold no dataset statistic.
    assert evaluate(parse_rule("f1 < 0.8"), [dataset_row(0, f1=None)]) == []
    assert evaluate(parse_rule("rows < 1000"), [feature_row(0, "age")]) == []


def test_dataset_drift_and_drift_share() -> None:
    rows = [dataset_row(0, segment="country=IT", drift=True, drift_share=0.6, drifted_features=3)]
    [drift] = evaluate(parse_rule("dataset drift"), rows)
    assert drift.message == "dataset drift (3 features drifted, share 0.6) in segment country=IT"
    assert drift.values == {"drift_share": 0.6, "drifted_features": 3.0}
    assert len(evaluate(parse_rule("drift_share > 0.5"), rows)) == 1
    assert evaluate(parse_rule("dataset drift"), [dataset_row(0, drift_share=0.6)]) == []


def test_a_window_of_two_reference_periods_is_judged_by_the_later() -> None:
    old = [{**row, "period": 1, "model_version": 2} for row in psi_window(4, age=0.9)]
    new = [{**row, "period": 2} for row in psi_window(4, age=0.1, income=0.3)]
    for rows in (old + new, new + old):
        [firing] = evaluate(parse_rule("psi > 0.2"), rows)
        assert firing.values == {"income": 0.3} and firing.model_version == 3


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"window_start": 0, "window_end": HOUR, "segment": ""}], "lacks feature"),
        ([{**feature_row(0, "age"), "window_end": 0}], "malformed window"),
        ([{**feature_row(0, "age"), "window_start": "0"}], "malformed window"),
        ([{**feature_row(0, "age"), "feature": None}], "malformed window, segment or feature"),
        ([{**feature_row(0, "age"), "period": "1"}], "malformed period"),
        ([feature_row(0, "age"), feature_row(0, "age")], "two rows for feature 'age'"),
        ([dataset_row(0), dataset_row(0)], "two rows for feature '*'"),
        ([feature_row(0, "age"), {**feature_row(0, "x"), "window_end": 2 * HOUR}], "has two ends"),
        (["not a row"], "must be a mapping"),
    ],
)
def test_malformed_rows_are_refused(rows: list[Any], message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        evaluate(parse_rule("psi > 0.2"), rows)
    assert caught.value.field == "rows" and message in caught.value.message


# --- alert life cycle ---

COOLDOWN = 2 * HOUR
RULE = parse_rule("psi > 0.2 on any feature", severity="critical")


def fire(window: int, segment: str = "") -> Firing:
    [firing] = evaluate(RULE, psi_window(window, segment, age=0.5))
    return firing


def test_raise_dedup_renotify_and_resolve() -> None:
    first = decide(None, fire(1), now_ms=2 * HOUR, cooldown_ms=COOLDOWN)
    assert first.action is Action.RAISE and first.notify
    assert first.state == AlertState(RULE.id, "", AlertStatus.FIRING, last_window=HOUR, last_notified_at=2 * HOUR)
    # The same window again (a re-run, late events): open, not notified, whatever the time.
    again = decide(first.state, fire(1), now_ms=9 * HOUR, cooldown_ms=COOLDOWN)
    assert again.action is Action.KEEP and not again.notify and again.state == first.state
    # A new window inside the cool-down: kept quiet, but remembered.
    inside = decide(first.state, fire(2), now_ms=3 * HOUR, cooldown_ms=COOLDOWN)
    assert inside.action is Action.KEEP and inside.state is not None and inside.state.last_window == 2 * HOUR
    # A late re-run of an older window changes nothing.
    assert decide(inside.state, fire(1), now_ms=5 * HOUR, cooldown_ms=COOLDOWN) == Decision(Action.KEEP, inside.state)
    after = decide(inside.state, fire(3), now_ms=4 * HOUR, cooldown_ms=COOLDOWN)
    assert after.action is Action.RENOTIFY and after.notify
    assert after.state == AlertState(RULE.id, "", AlertStatus.FIRING, 3 * HOUR, 4 * HOUR)
    resolved = decide(after.state, None, now_ms=5 * HOUR, cooldown_ms=COOLDOWN)
    assert resolved.action is Action.RESOLVE and resolved.notify
    assert resolved.state == AlertState(RULE.id, "", AlertStatus.RESOLVED, 3 * HOUR, 5 * HOUR)
    quiet = decide(resolved.state, None, now_ms=6 * HOUR, cooldown_ms=COOLDOWN)
    assert quiet.action is Action.NONE and quiet.state == resolved.state
    # The window that fired before the resolve, evaluated again, does not raise a second time...
    assert decide(resolved.state, fire(3), now_ms=6 * HOUR, cooldown_ms=COOLDOWN).action is Action.NONE
    # ...a newer one does, without waiting for the cool-down.
    reraised = decide(resolved.state, fire(5), now_ms=5 * HOUR + 1, cooldown_ms=COOLDOWN)
    assert reraised.action is Action.RAISE and reraised.state is not None
    assert reraised.state.status is AlertStatus.FIRING and reraised.state.last_window == 5 * HOUR


def test_nothing_fires_and_nothing_was_open() -> None:
    assert decide(None, None, now_ms=0, cooldown_ms=0).action is Action.NONE


def test_evaluating_every_window_twice_notifies_once_per_window_at_most() -> None:
    """A monitor that evaluates each window twice (a scheduled run, then a re-run) with a zero cool-down."""
    verdicts = [True, True, False, False, True, True, True, False]
    states: dict[tuple[str, str], AlertState | None] = {}
    notified = []
    for window, drifting in enumerate(verdicts):
        rows = [row for w in range(window + 1) for row in psi_window(w, age=0.5 if verdicts[w] else 0.1)]
        for attempt in range(2):
            firings = {firing.key: firing for firing in evaluate(RULE, rows)}
            for key in {*states, *firings}:
                decision = decide(states.get(key), firings.get(key), now_ms=window * HOUR + attempt, cooldown_ms=0)
                states[key] = decision.state
                if decision.notify:
                    notified.append((window, decision.action))
        assert bool(firings) is drifting
    assert notified == [
        (0, Action.RAISE),
        (1, Action.RENOTIFY),
        (2, Action.RESOLVE),
        (4, Action.RAISE),
        (5, Action.RENOTIFY),
        (6, Action.RENOTIFY),
        (7, Action.RESOLVE),
    ]


def test_state_belongs_to_its_key_and_round_trips() -> None:
    state = decide(None, fire(1, "country=IT"), now_ms=HOUR, cooldown_ms=0).state
    assert state is not None and state.segment == "country=IT"
    assert AlertState.from_json(state.to_json()) == state
    with pytest.raises(InvalidArgument, match="was given for"):
        decide(state, fire(2), now_ms=HOUR, cooldown_ms=0)
    with pytest.raises(InvalidArgument, match="cooldown_ms"):
        decide(state, None, now_ms=HOUR, cooldown_ms=-1)
    for broken in ({**state.to_json(), "status": "open"}, {"rule_id": "x"}, {**state.to_json(), "last_window": 1.5}):
        with pytest.raises(InvalidArgument):
            AlertState.from_json(broken)
