"""Values written to the registry with MLflow's official client read back through Ridgeline's SDK (and its native
API), on a real server on both backends: models, descriptions, tags, versions with their runs and the metrics
copied from them, stages, aliases and the alias history (who, when, from, to). Writes made with Ridgeline's SDK
read back through MLflow's client too."""

from __future__ import annotations

import time

import httpx
import pytest

import ridgeline
from ridgeline.domain.registry import VersionStatus

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402

NAME = "Churn Model EU.v2-final"


def _run(mlflow_client: MlflowClient, acc: float) -> str:
    experiment_id = mlflow.set_experiment("readback").experiment_id
    run = mlflow_client.create_run(experiment_id, run_name="trainer", tags={"mlflow.source.git.commit": "deadbeef"})
    run_id = str(run.info.run_id)
    mlflow_client.log_metric(run_id, "acc", 0.5, step=1)
    mlflow_client.log_metric(run_id, "acc", acc, step=3)  # the latest value is the one copied
    mlflow_client.log_metric(run_id, "loss", 0.2)
    mlflow_client.set_terminated(run_id)
    return run_id


def _write_with_mlflow(mlflow_client: MlflowClient) -> tuple[str, str]:
    trainer, other = _run(mlflow_client, 0.91), _run(mlflow_client, 0.95)
    mlflow_client.create_registered_model(NAME, tags={"team": "growth"}, description="first")
    mlflow_client.create_model_version(
        NAME, f"runs:/{trainer}/model", run_id=trainer, tags={"k": "v"}, description="baseline"
    )
    mlflow_client.create_model_version(NAME, f"runs:/{trainer}/model-b", run_id=trainer)
    mlflow_client.create_model_version(NAME, f"runs:/{other}/model", run_id=other)
    mlflow_client.update_registered_model(NAME, description="second")
    mlflow_client.set_registered_model_tag(NAME, "tier", "gold")
    mlflow_client.delete_registered_model_tag(NAME, "team")
    mlflow_client.update_model_version(NAME, "2", description="candidate")
    mlflow_client.set_model_version_tag(NAME, "2", "validated", "yes")
    with pytest.warns(FutureWarning):
        mlflow_client.transition_model_version_stage(NAME, "1", "Production")
    mlflow_client.set_registered_model_alias(NAME, "champion", "1")
    mlflow_client.set_registered_model_alias(NAME, "champion", "2")
    mlflow_client.set_registered_model_alias(NAME, "challenger", "3")
    mlflow_client.set_registered_model_alias(NAME, "shadow", "3")
    mlflow_client.delete_registered_model_alias(NAME, "challenger")
    mlflow_client.delete_model_version(NAME, "3")  # takes "shadow" with it
    return trainer, other


def test_registry_written_by_mlflow_reads_back_through_ridgeline(server: str, mlflow_client: MlflowClient) -> None:
    start = int(time.time() * 1000)
    trainer, other = _write_with_mlflow(mlflow_client)
    end = int(time.time() * 1000)
    theirs = mlflow_client.get_registered_model(NAME)

    with ridgeline.Client(tracking_uri=server) as client:
        model = client.get_model(NAME)
        assert (model.name, model.description, model.tags) == (NAME, "second", {"tier": "gold"})
        assert model.aliases == {"champion": 2} == {k: int(v) for k, v in theirs.aliases.items()}
        assert (model.created_at, model.updated_at) == (theirs.creation_timestamp, theirs.last_updated_timestamp)
        assert model.owner == "local" and model.latest_version == 2  # version 3 was deleted
        assert [m.name for m in client.search_models("tags.tier = 'gold'")] == [NAME]

        versions = client.get_model_versions(NAME)
        assert [v.version for v in versions] == [2, 1]
        for ours in versions:
            mine = mlflow_client.get_model_version(NAME, str(ours.version))
            assert (ours.source, ours.run_id, ours.description, ours.tags) == (
                mine.source,
                mine.run_id,
                mine.description,
                mine.tags,
            )
            assert (ours.stage, ours.aliases, ours.created_by) == (mine.current_stage, mine.aliases, mine.user_id)
            assert (ours.created_at, ours.updated_at) == (mine.creation_timestamp, mine.last_updated_timestamp)
            assert ours.status is VersionStatus.READY and mine.status == "READY"
            assert ours.run_id == trainer and ours.artifact_run_id == trainer
            assert ours.metrics == {"acc": 0.91, "loss": 0.2} and ours.git_commit == "deadbeef"
            assert client.get_run(trainer).metrics == ours.metrics
        second, first = versions
        assert (first.description, first.tags, first.stage, first.artifact_path) == (
            "baseline",
            {"k": "v"},
            "Production",
            "model",
        )
        assert (second.description, second.tags, second.aliases) == ("candidate", {"validated": "yes"}, ["champion"])

        assert client.get_model_version_by_alias(NAME, "champion") == second
        assert client.resolve_model(f"models:/{NAME}@champion") == second
        assert client.resolve_model(f"models:/{NAME}/Production") == first
        assert client.resolve_model(f"models:/{NAME}/latest") == second

        history = client.alias_history(NAME)
        assert [(e.alias, e.from_version, e.to_version) for e in history] == [
            ("champion", None, 1),
            ("champion", 1, 2),
            ("challenger", None, 3),
            ("shadow", None, 3),
            ("challenger", 3, None),
            ("shadow", 3, None),
        ]
        assert {(e.actor, e.model_name) for e in history} == {("local", NAME)}
        times = [e.at for e in history]
        assert start - 1000 <= times[0] and times == sorted(times) and times[-1] <= end + 1000
        assert [e.to_version for e in client.alias_history(NAME, "shadow")] == [3, None]

    # Lineage from the runs' side, through the native API: the other run's only version is gone.
    with httpx.Client(base_url=f"{server}/api/v1") as http:
        lineage = http.get("/model-versions", params={"run_id": trainer}).json()["versions"]
        assert [(v["model_name"], v["version"]) for v in lineage] == [(NAME, 2), (NAME, 1)]
        assert http.get("/model-versions", params={"run_id": other}).json() == {"versions": []}


def test_registry_written_by_ridgeline_reads_back_through_mlflow(server: str, mlflow_client: MlflowClient) -> None:
    trainer = _run(mlflow_client, 0.9)
    with ridgeline.Client(tracking_uri=server) as client:
        client.create_model(NAME, description="from the SDK", tags={"team": "risk"})
        client.create_model_version(NAME, f"runs:/{trainer}/model", description="v1", tags={"k": "v"})
        client.set_model_alias(NAME, "champion", 1)
        client.set_model_version_tag(NAME, 1, "validated", "yes")

    model = mlflow_client.get_registered_model(NAME)
    assert (model.description, model.tags, model.aliases) == ("from the SDK", {"team": "risk"}, {"champion": "1"})
    version = mlflow_client.get_model_version_by_alias(NAME, "champion")
    assert (version.version, version.run_id, version.description) == ("1", trainer, "v1")
    assert version.tags == {"k": "v", "validated": "yes"} and version.source == f"runs:/{trainer}/model"
