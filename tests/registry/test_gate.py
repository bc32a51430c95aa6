"""The validation gate through ridgeline.Client and ridgeline.registry, embedded and over HTTP: stored evaluations
on both versions, promotion for each rule kind (passing and refused, with the rule named), rollback through the
alias history, and lineage both ways."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

import ridgeline
import ridgeline.registry
from ridgeline.domain.errors import Conflict, InvalidArgument, NotFound, PromotionRefused
from ridgeline.domain.promotion import EvaluationSpec

NAME = "churn model"


def _trained_run(tracking_uri: str, frame: pd.DataFrame) -> str:
    with ridgeline.start_run(project="gate", tracking_uri=tracking_uri) as run:
        run.log_dataset(frame, name="churn-train", context="training")
        run.set_tag("ridgeline.git.commit", "feedc0de")
    return run.id


def _register(client: ridgeline.Client, run_id: str, count: int) -> None:
    client.create_model(NAME)
    for number in range(count):
        client.create_model_version(NAME, f"runs:/{run_id}/model-{number}")


def _evaluate(
    client: ridgeline.Client, version: int, metrics: dict[str, float], champion: tuple[int, dict[str, float]] | None
) -> str:
    spec = EvaluationSpec(
        version=version,
        metrics=metrics,
        dataset_name="holdout",
        dataset_digest="ab" * 32,
        task="classification",
        rows=500,
        alias="champion",
        champion_version=None if champion is None else champion[0],
        champion_metrics=None if champion is None else champion[1],
    )
    return client.record_model_evaluation(NAME, spec).evaluation_id


@pytest.fixture
def client(tracking_uri: str) -> Iterator[ridgeline.Client]:
    run_id = _trained_run(tracking_uri, pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]}))
    with ridgeline.Client(tracking_uri) as opened:
        _register(opened, run_id, 3)
        yield opened


def test_evaluations_are_stored_on_both_versions(client: ridgeline.Client) -> None:
    client.set_model_alias(NAME, "champion", 1)
    evaluation_id = _evaluate(client, 2, {"accuracy": 0.91, "log_loss": 0.2}, (1, {"accuracy": 0.88, "log_loss": 0.3}))
    result = client.get_model_evaluation(NAME, evaluation_id)
    assert (result.candidate.version, result.champion and result.champion.version) == (2, 1)
    assert result.metrics == {2: {"accuracy": 0.91, "log_loss": 0.2}, 1: {"accuracy": 0.88, "log_loss": 0.3}}
    assert result.deltas == pytest.approx({"accuracy": 0.03, "log_loss": -0.1})
    for version in (1, 2):
        stored = client.get_model_evaluations(NAME, version)
        assert [(item.evaluation_id, item.dataset_name, item.rows, item.compared_alias) for item in stored] == [
            (evaluation_id, "holdout", 500, "champion")
        ]
    assert client.get_model_evaluations(NAME, 3) == []


def test_promotion_passes_and_is_refused_for_each_rule_kind(client: ridgeline.Client, tracking_uri: str) -> None:
    _evaluate(client, 1, {"accuracy": 0.85, "rmse": 1.0}, None)
    first = ridgeline.registry.promote(
        NAME, 1, require=["accuracy >= 0.8", "accuracy > champion"], tracking_uri=tracking_uri
    )
    assert (first.version, first.previous_version) == (1, None)
    assert [outcome.passed for outcome in first.outcomes] == [True, True]

    _evaluate(client, 2, {"accuracy": 0.90, "rmse": 0.8}, (1, {"accuracy": 0.85, "rmse": 1.0}))
    refusals = {
        "accuracy >= 0.95": "accuracy = 0.9 fails >= 0.95",
        "accuracy > champion + 0.1": "accuracy = 0.9 fails > 0.95",
        "rmse < champion - 0.5": "rmse = 0.8 fails < 0.5",
        "f1 >= 0.5": "the evaluation has no metric 'f1'",
    }
    for rule, reason in refusals.items():
        with pytest.raises(PromotionRefused) as refused:
            ridgeline.registry.promote(NAME, 2, require=["accuracy >= 0.5", rule], tracking_uri=tracking_uri)
        assert refused.value.message == f"promotion refused: rule {rule!r} failed ({reason})"
        assert refused.value.details["rule"] == rule
        assert [item["passed"] for item in refused.value.details["outcomes"]] == [True, False]
        assert client.get_model_version_by_alias(NAME, "champion").version == 1

    moved = client.promote_model(
        NAME, 2, require=["accuracy >= 0.9", "accuracy > champion + 0.01", "rmse < champion - 0.1"]
    )
    assert (moved.version, moved.previous_version, moved.alias) == (2, 1, "champion")
    assert [(o.candidate, o.champion, o.required) for o in moved.outcomes][1] == pytest.approx((0.9, 0.85, 0.86))
    assert client.get_model_version_by_alias(NAME, "champion").version == 2


def test_promotion_needs_an_evaluation_beside_the_current_champion(client: ridgeline.Client) -> None:
    with pytest.raises(PromotionRefused, match="version 3 has no stored evaluation"):
        client.promote_model(NAME, 3, require=["accuracy >= 0.1"])
    client.set_model_alias(NAME, "champion", 1)
    _evaluate(client, 3, {"accuracy": 0.9}, (1, {"accuracy": 0.8}))
    client.set_model_alias(NAME, "champion", 2)
    with pytest.raises(PromotionRefused, match="beside the champion, version 2"):
        client.promote_model(NAME, 3, require=["accuracy > champion"])
    # A threshold reads the candidate only: the older evaluation still serves.
    assert client.promote_model(NAME, 3, require=["accuracy >= 0.9"]).previous_version == 2
    # Without rules the alias simply moves; an unknown version or a bad rule is refused before anything moves.
    assert client.promote_model(NAME, 1).version == 1
    with pytest.raises(NotFound):
        client.promote_model(NAME, 9)
    with pytest.raises(InvalidArgument, match="is not 'METRIC OP NUMBER'") as bad:
        client.promote_model(NAME, 2, require=["accuracy ~ 0.9"])
    assert bad.value.field == "require"
    assert client.get_model_version_by_alias(NAME, "champion").version == 1


def test_rollback_walks_back_through_the_alias_history(client: ridgeline.Client, tracking_uri: str) -> None:
    with pytest.raises(NotFound, match="no alias 'champion'"):
        ridgeline.registry.rollback(NAME, tracking_uri=tracking_uri)
    for version in (1, 2, 3):
        client.promote_model(NAME, version)
    back = ridgeline.registry.rollback(NAME, tracking_uri=tracking_uri)
    assert (back.version, back.previous_version) == (2, 3)
    assert ridgeline.registry.rollback(NAME, tracking_uri=tracking_uri).version == 1
    with pytest.raises(Conflict, match="no earlier version"):
        client.rollback_model(NAME)
    assert client.get_model_version_by_alias(NAME, "champion").version == 1
    events = [(e.from_version, e.to_version) for e in client.alias_history(NAME, "champion")]
    assert events == [(None, 1), (1, 2), (2, 3), (3, 2), (2, 1)]


def test_lineage_both_ways(client: ridgeline.Client, tracking_uri: str) -> None:
    lineage = client.get_model_version_lineage(NAME, 2)
    assert lineage.version.version == 2 and lineage.git_commit == "feedc0de"
    assert lineage.run is not None and lineage.version.run_id == lineage.run.id
    [used] = lineage.inputs
    assert (used.context, used.version.dataset_name, used.version.rows) == ("training", "churn-train", 3)
    assert used.version.profile is not None
    trained = client.get_dataset_version_models(used.version.id)
    assert [(item.model_name, item.version) for item in trained] == [(NAME, 3), (NAME, 2), (NAME, 1)]
    assert client.resolve_dataset_version("churn-train").id == used.version.id
    assert client.resolve_dataset_version("churn-train", used.version.digest[:8]).id == used.version.id
    with pytest.raises(NotFound):
        client.get_dataset_version_models("0" * 32)
    with pytest.raises(InvalidArgument):
        client.get_dataset_version_models("not-an-id")
