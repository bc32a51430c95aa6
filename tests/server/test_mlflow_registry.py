"""The official MLflow client drives the model registry of the MLflow-compatible API on a real server (both
backends): registered models, versions, aliases, tags, stages, search and paging, and the error codes its
client branches on. Values are read back through MLflow's client and through Ridgeline's registry service."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import ridgeline

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

API = "/api/2.0/mlflow"


def _run(mlflow_client: MlflowClient, experiment: str = "registry") -> str:
    experiment_id = mlflow.set_experiment(experiment).experiment_id
    run = mlflow_client.create_run(experiment_id, run_name="trainer")
    mlflow_client.log_metric(run.info.run_id, "acc", 0.91, step=3)
    mlflow_client.set_terminated(run.info.run_id)
    return str(run.info.run_id)


def _code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return str(exc.value.error_code)


def test_models_versions_aliases_and_tags(server: str, mlflow_client: MlflowClient) -> None:
    run_id = _run(mlflow_client)
    created = mlflow_client.create_registered_model("churn", tags={"team": "growth"}, description="first")
    assert created.name == "churn"
    with pytest.raises(MlflowException) as exists:
        mlflow_client.create_registered_model("churn")
    assert _code(exists) == "RESOURCE_ALREADY_EXISTS"

    first = mlflow_client.create_model_version("churn", f"runs:/{run_id}/model", run_id=run_id, tags={"k": "v"})
    second = mlflow_client.create_model_version("churn", f"runs:/{run_id}/model", run_id=run_id)
    assert (first.version, second.version) == ("1", "2")
    assert first.status == "READY" and first.run_id == run_id and first.tags == {"k": "v"}

    mlflow_client.set_registered_model_alias("churn", "champion", "1")
    mlflow_client.set_registered_model_alias("churn", "champion", "2")  # a move
    mlflow_client.set_registered_model_alias("churn", "challenger", "1")
    assert mlflow_client.get_model_version_by_alias("churn", "champion").version == "2"
    model = mlflow_client.get_registered_model("churn")
    assert model.aliases == {"champion": "2", "challenger": "1"}
    assert model.tags == {"team": "growth"} and model.description == "first"
    assert mlflow_client.get_model_version("churn", "1").aliases == ["challenger"]

    mlflow_client.update_registered_model("churn", description="second")
    mlflow_client.set_registered_model_tag("churn", "tier", "gold")
    mlflow_client.delete_registered_model_tag("churn", "team")
    mlflow_client.update_model_version("churn", "1", description="baseline")
    mlflow_client.set_model_version_tag("churn", "2", "validated", "yes")
    mlflow_client.delete_model_version_tag("churn", "1", "k")
    model = mlflow_client.get_registered_model("churn")
    assert model.description == "second" and model.tags == {"tier": "gold"}
    assert mlflow_client.get_model_version("churn", "1").description == "baseline"
    assert mlflow_client.get_model_version("churn", "2").tags == {"validated": "yes"}

    mlflow_client.delete_registered_model_alias("churn", "challenger")
    with pytest.raises(MlflowException) as missing_alias:
        mlflow_client.get_model_version_by_alias("churn", "challenger")
    assert _code(missing_alias) == "INVALID_PARAMETER_VALUE"

    # Ridgeline's side: the same registry, with the metrics copied from the run and every alias move kept.
    with ridgeline.Client(tracking_uri=server) as registry:
        assert registry.get_model("churn").aliases == {"champion": 2}
        assert registry.get_model_version("churn", 1).metrics == {"acc": 0.91}
        moves = [(event.alias, event.from_version, event.to_version) for event in registry.alias_history("churn")]
    assert moves == [("champion", None, 1), ("champion", 1, 2), ("challenger", None, 1), ("challenger", 1, None)]


def test_versions_numbered_per_model_and_deleted(mlflow_client: MlflowClient) -> None:
    run_id = _run(mlflow_client, "numbering")
    for name in ("a", "b"):
        mlflow_client.create_registered_model(name)
        for _ in range(3):
            mlflow_client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
    assert [v.version for v in mlflow_client.search_model_versions("name = 'b'")] == ["3", "2", "1"]
    mlflow_client.set_registered_model_alias("a", "prod", "3")
    mlflow_client.delete_model_version("a", "3")
    assert mlflow_client.get_registered_model("a").aliases == {}
    with pytest.raises(MlflowException) as gone:
        mlflow_client.get_model_version("a", "3")
    assert _code(gone) == "RESOURCE_DOES_NOT_EXIST"
    assert mlflow_client.create_model_version("a", f"runs:/{run_id}/model").version == "4"
    mlflow_client.delete_registered_model("b")
    with pytest.raises(MlflowException) as deleted:
        mlflow_client.get_registered_model("b")
    assert _code(deleted) == "RESOURCE_DOES_NOT_EXIST"


def test_search_filters_order_and_pages(mlflow_client: MlflowClient) -> None:
    run_id = _run(mlflow_client, "searching")
    other = _run(mlflow_client, "searching")
    for name in ("fraud-eu", "fraud-us", "churn-eu", "ltv", "spam"):
        mlflow_client.create_registered_model(name, tags={"region": name.rsplit("-", 1)[-1]})
        mlflow_client.create_model_version(name, f"runs:/{run_id}/m", run_id=run_id)
    mlflow_client.create_model_version("ltv", f"runs:/{other}/m", run_id=other)

    names = [m.name for m in mlflow_client.search_registered_models()]
    assert names == sorted(names) and len(names) == 5
    assert [m.name for m in mlflow_client.search_registered_models("name LIKE 'fraud%'")] == ["fraud-eu", "fraud-us"]
    assert [m.name for m in mlflow_client.search_registered_models("name = 'ltv'")] == ["ltv"]
    assert [m.name for m in mlflow_client.search_registered_models("tags.region = 'eu'")] == ["churn-eu", "fraud-eu"]
    assert [m.name for m in mlflow_client.search_registered_models(order_by=["name DESC"])] == sorted(names)[::-1]

    pages: list[str] = []
    token = None
    while True:
        found = mlflow_client.search_registered_models(max_results=2, page_token=token)
        pages += [m.name for m in found]
        token = found.token
        if not token:
            break
    assert pages == names

    by_run = mlflow_client.search_model_versions(f"run_id = '{other}'")
    assert [(v.name, v.version) for v in by_run] == [("ltv", "2")]
    both = mlflow_client.search_model_versions(f"name = 'ltv' and run_id = '{run_id}'")
    assert [(v.name, v.version) for v in both] == [("ltv", "1")]
    with pytest.raises(MlflowException) as bad:
        mlflow_client.search_registered_models("name ~ 'x'")
    assert _code(bad) == "INVALID_PARAMETER_VALUE"


def test_stages_and_latest_versions(mlflow_client: MlflowClient) -> None:
    run_id = _run(mlflow_client, "stages")
    mlflow_client.create_registered_model("staged")
    for _ in range(3):
        mlflow_client.create_model_version("staged", f"runs:/{run_id}/m", run_id=run_id)
    with pytest.warns(FutureWarning):
        mlflow_client.transition_model_version_stage("staged", "1", "Production")
        mlflow_client.transition_model_version_stage("staged", "2", "Production", archive_existing_versions=True)
        mlflow_client.transition_model_version_stage("staged", "3", "Staging")
        latest = mlflow_client.get_latest_versions("staged", stages=["Production"])
    assert [v.version for v in latest] == ["2"]
    assert mlflow_client.get_model_version("staged", "1").current_stage == "Archived"


@pytest.mark.parametrize(
    ("method", "path", "payload", "code"),
    [
        ("POST", "registered-models/create", {}, "INVALID_PARAMETER_VALUE"),
        ("POST", "registered-models/create", {"name": "a/b"}, "INVALID_PARAMETER_VALUE"),
        ("GET", "registered-models/get", {"name": "nope"}, "RESOURCE_DOES_NOT_EXIST"),
        ("POST", "model-versions/create", {"name": "nope", "source": "runs:/x/y"}, "RESOURCE_DOES_NOT_EXIST"),
        ("GET", "model-versions/get", {"name": "nope", "version": "x"}, "INVALID_PARAMETER_VALUE"),
        ("POST", "registered-models/alias", {"name": "nope", "alias": "latest", "version": "1"}, None),
        ("GET", "logged-models/m-0123", {}, "INVALID_PARAMETER_VALUE"),
        ("GET", "logged-models/m-" + "0" * 32, {}, "RESOURCE_DOES_NOT_EXIST"),
        ("POST", "logged-models/search", {"experiment_ids": []}, "INVALID_PARAMETER_VALUE"),
    ],
)
def test_bad_requests_get_mlflow_errors(
    server: str, method: str, path: str, payload: dict[str, Any], code: str | None
) -> None:
    with httpx.Client(base_url=server) as http:
        if method == "GET":
            response = http.get(f"{API}/{path}", params=payload)
        else:
            response = http.request(method, f"{API}/{path}", json=payload)
    assert 400 <= response.status_code < 500
    body = response.json()
    assert set(body) >= {"error_code", "message"}
    if code is not None:
        assert body["error_code"] == code
