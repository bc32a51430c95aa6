"""The model registry through ``ridgeline.Client``, embedded (a data folder) and over HTTP (SQLite, PostgreSQL):
the same calls give the same entities and raise the same exceptions on every backend."""

from __future__ import annotations

import math
import time

import pytest

import ridgeline
from ridgeline.client.identity import current_user
from ridgeline.domain.errors import AlreadyExists, InvalidArgument, NotFound
from ridgeline.domain.registry import AliasEvent, ModelVersion, RegisteredModel, VersionStatus

NAME = "fraud detector v2.1-eu"


def _trained_run(tracking_uri: str) -> str:
    with ridgeline.start_run(project="registry", tracking_uri=tracking_uri) as run:
        run.log_metrics({"acc": 0.93, "loss": math.inf}, step=4)
        run.set_tag("ridgeline.git.commit", "0a1b2c3")
    return run.id


def _actor(tracking_uri: str) -> str:
    """Who registry writes are recorded as: the server's principal, or the operating-system user embedded."""
    return "local" if tracking_uri.startswith("http") else current_user()


def test_models_versions_tags_and_aliases_round_trip(tracking_uri: str) -> None:
    run_id = _trained_run(tracking_uri)
    start = int(time.time() * 1000)
    with ridgeline.Client(tracking_uri) as client:
        model = client.create_model(NAME, description="scores payments", tags={"team": "risk"})
        assert isinstance(model, RegisteredModel)
        assert (model.name, model.description, model.tags, model.owner) == (
            NAME,
            "scores payments",
            {"team": "risk"},
            _actor(tracking_uri),
        )
        first = client.create_model_version(NAME, f"runs:/{run_id}/model", tags={"k": "v"})
        assert isinstance(first, ModelVersion) and first.version == 1 and first.status is VersionStatus.READY
        assert (first.run_id, first.artifact_run_id, first.artifact_path) == (run_id, run_id, "model")
        assert first.metrics == {"acc": 0.93, "loss": math.inf} and first.git_commit == "0a1b2c3"
        assert first.tags == {"k": "v"} and first.created_by == _actor(tracking_uri)
        second = client.create_model_version(NAME, f"runs:/{run_id}/model-b", run_id=run_id, description="b")
        assert (second.version, second.description) == (2, "b")

        assert [v.version for v in client.get_model_versions(NAME)] == [2, 1]
        assert client.get_model_version(NAME, "1") == first
        assert client.set_model_tag(NAME, "tier", "gold").tags == {"team": "risk", "tier": "gold"}
        assert client.set_model_version_tag(NAME, 2, "validated", "yes").tags == {"validated": "yes"}

        assert client.set_model_alias(NAME, "champion", 1).aliases == ["champion"]
        assert client.set_model_alias(NAME, "champion", "2").version == 2
        client.set_model_alias(NAME, "challenger", 1)
        assert client.get_model_version_by_alias(NAME, "champion").version == 2
        assert client.resolve_model(f"models:/{NAME}@challenger").version == 1
        assert client.resolve_model(f"models:/{NAME}/1").version == 1
        assert client.resolve_model(f"models:/{NAME}/latest").version == 2
        client.delete_model_alias(NAME, "challenger")

        model = client.get_model(NAME)
        assert model.aliases == {"champion": 2} and model.latest_version == 2
        history = client.alias_history(NAME)
        assert all(isinstance(event, AliasEvent) for event in history)
        assert [(e.alias, e.from_version, e.to_version) for e in history] == [
            ("champion", None, 1),
            ("champion", 1, 2),
            ("challenger", None, 1),
            ("challenger", 1, None),
        ]
        assert {e.actor for e in history} == {_actor(tracking_uri)} and {e.model_name for e in history} == {NAME}
        assert start - 1000 <= history[0].at <= history[-1].at <= int(time.time() * 1000) + 1000
        assert [e.to_version for e in client.alias_history(NAME, "champion")] == [1, 2]


def test_search_models_filters_and_orders(tracking_uri: str) -> None:
    with ridgeline.Client(tracking_uri) as client:
        for name, team in (("b-ltv", "finance"), ("a-churn", "growth"), ("c-spam", "growth")):
            client.create_model(name, tags={"team": team})
        assert [m.name for m in client.search_models()] == ["a-churn", "b-ltv", "c-spam"]
        assert [m.name for m in client.search_models("tags.team = 'growth'")] == ["a-churn", "c-spam"]
        assert [m.name for m in client.search_models(order_by="attributes.name desc")] == [
            "c-spam",
            "b-ltv",
            "a-churn",
        ]
        newest = client.search_models("tags.team = 'growth'", order_by=["attributes.start_time desc"])
        assert [m.name for m in newest] == ["c-spam", "a-churn"]


@pytest.mark.parametrize("name", ["..", ".", "50% off? #1 & more", "a+b=c;d", "ünï cödé"])
def test_names_that_need_url_encoding(tracking_uri: str, name: str) -> None:
    run_id = _trained_run(tracking_uri)
    with ridgeline.Client(tracking_uri) as client:
        client.create_model(name)
        assert client.get_model(name).name == name
        client.create_model_version(name, f"runs:/{run_id}/m")
        client.set_model_alias(name, "prod", 1)
        client.set_model_tag(name, "a/../b", "x")  # a tag key with a dot segment
        assert client.get_model(name).tags == {"a/../b": "x"}
        assert client.resolve_model(f"models:/{name}@prod").model_name == name
        assert client.get_model_version_by_alias(name, "prod").version == 1


def test_bad_calls_raise_the_same_errors_everywhere_and_change_nothing(tracking_uri: str) -> None:
    run_id = _trained_run(tracking_uri)
    with ridgeline.Client(tracking_uri) as client:
        client.create_model(NAME)
        client.create_model_version(NAME, f"runs:/{run_id}/model")
        client.set_model_alias(NAME, "champion", 1)
        before = (client.get_model(NAME), client.alias_history(NAME))
        with pytest.raises(AlreadyExists):
            client.create_model(NAME)
        for empty in ("", "  "):
            with pytest.raises(InvalidArgument) as refused:
                client.create_model(empty)
            assert refused.value.field == "name"
        with pytest.raises(InvalidArgument, match="may not contain"):
            client.get_model("a/b")
        with pytest.raises(NotFound):
            client.get_model("nope")
        with pytest.raises(InvalidArgument, match="reserved"):
            client.set_model_alias(NAME, "latest", 1)
        for bad in ("abc", 0, -1):
            with pytest.raises(InvalidArgument) as bad_version:
                client.get_model_version(NAME, bad)
            assert bad_version.value.field == "version"
        with pytest.raises(NotFound):
            client.get_model_version(NAME, 7)
        with pytest.raises(NotFound):
            client.set_model_alias(NAME, "champion", 7)
        with pytest.raises(NotFound):
            client.delete_model_alias(NAME, "nope")
        with pytest.raises(NotFound):
            client.get_model_version_by_alias(NAME, "nope")
        with pytest.raises(NotFound):
            client.create_model_version(NAME, "runs:/0123456789abcdef0123456789abcdef/model")
        with pytest.raises(InvalidArgument):
            client.resolve_model(f"runs:/{run_id}/model")
        with pytest.raises(InvalidArgument):
            client.search_models("tags.team = ")
        assert (client.get_model(NAME), client.alias_history(NAME)) == before
        assert [v.version for v in client.get_model_versions(NAME)] == [1]
