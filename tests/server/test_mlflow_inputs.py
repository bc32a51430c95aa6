"""MLflow dataset inputs (runs/log-inputs) against a real server: datasets logged with the official client read
back identically through MLflow's client (runs/get, runs/search) and show up as Ridgeline dataset versions
(ridgeline.Client, native API, run page); datasets logged with the Ridgeline SDK read back as MLflow dataset inputs."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import ridgeline

mlflow = pytest.importorskip("mlflow")
pd = pytest.importorskip("pandas")
from mlflow import MlflowClient  # noqa: E402
from mlflow.data.http_dataset_source import HTTPDatasetSource  # noqa: E402
from mlflow.types import Schema  # noqa: E402

LOG_INPUTS = "/api/2.0/mlflow/runs/log-inputs"
# What MLflow says of a dataset beyond its name and digest (kept verbatim in the version's profile).
MLFLOW_STRINGS = ("source_type", "source", "schema", "profile")
pytestmark = [
    # MLflow 3.17's pandas digest calls DataFrame.all(0) positionally, which pandas 3 warns about.
    pytest.mark.filterwarnings("ignore:Starting with pandas version 4.0 all arguments"),
    # MLflow's schema inference warns about integer columns; as an error it would silently drop the schema.
    pytest.mark.filterwarnings("ignore:Hint. Inferred schema contains integer"),
]


def _frame() -> Any:
    return pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5], "c": ["x", "y", "z"]})


def _dataset_fields(dataset: Any) -> dict[str, Any]:
    return {key: getattr(dataset, key) for key in ("name", "digest", *MLFLOW_STRINGS)}


def _inputs(run: Any) -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
    """The run's dataset inputs by dataset name: (dataset fields, input tags)."""
    return {
        item.dataset.name: (_dataset_fields(item.dataset), {tag.key: tag.value for tag in item.tags})
        for item in run.inputs.dataset_inputs
    }


def test_pandas_datasets_read_back_identically(server: str, mlflow_client: MlflowClient) -> None:
    source = "https://example.com/data/train.csv"
    train = mlflow.data.from_pandas(_frame(), source=HTTPDatasetSource(source), name="train-data")
    holdout = mlflow.data.from_pandas(_frame().head(2), name="holdout")  # no source: MLflow records the code
    experiment = mlflow.set_experiment("mlflow-inputs")
    with mlflow.start_run() as active:
        mlflow.log_input(train, context="training")
        mlflow.log_input(holdout)  # no context
        mlflow.log_input(train, context="training")  # again: still one input
    expected_train = _dataset_fields(train._to_mlflow_entity())
    expected_holdout = _dataset_fields(holdout._to_mlflow_entity())
    assert "mlflow_colspec" in expected_train["schema"] and "num_rows" in expected_train["profile"]

    run = mlflow_client.get_run(active.info.run_id)
    assert _inputs(run) == {
        "train-data": (expected_train, {"mlflow.data.context": "training"}),
        "holdout": (expected_holdout, {}),
    }
    [found] = mlflow_client.search_runs([experiment.experiment_id])
    assert _inputs(found) == _inputs(run)
    # The source JSON is MLflow's own: its client resolves it back.
    train_input = next(item for item in run.inputs.dataset_inputs if item.dataset.name == "train-data")
    assert mlflow.data.get_source(train_input).url == source

    # A second run with the same data shares the version (same name and digest).
    with mlflow.start_run():
        mlflow.log_input(train, context="validation")

    with ridgeline.Client(tracking_uri=server) as client:
        by_name = {item.version.dataset_name: item for item in client.get_run_inputs(active.info.run_id)}
    assert {name: item.context for name, item in by_name.items()} == {"train-data": "training", "holdout": ""}
    for name, expected in (("train-data", expected_train), ("holdout", expected_holdout)):
        version = by_name[name].version
        assert version.digest == expected["digest"]
        assert version.profile == {"mlflow_dataset": {key: expected[key] for key in MLFLOW_STRINGS if expected[key]}}
    version = by_name["train-data"].version
    assert (version.kind, version.rows, version.source, version.run_count) == ("dataframe", 3, source, 2)
    assert [column["name"] for column in version.schema] == ["a", "b", "c"]

    with httpx.Client(base_url=f"{server}/api/v1", timeout=30) as http:
        versions = http.get("/datasets/by-name", params={"name": "train-data"}).json()["versions"]
        assert [(item["digest"], item["run_count"]) for item in versions] == [(train.digest, 2)]
        page = http.get(f"{server}/runs/{active.info.run_id}", params={"tab": "lineage"})
        assert page.status_code == 200 and "train-data" in page.text and "holdout" in page.text


def test_sdk_datasets_show_up_as_mlflow_inputs(server: str, mlflow_client: MlflowClient) -> None:
    frame = _frame()
    with ridgeline.start_run(project="sdk-inputs", tracking_uri=server) as run:
        described = run.log_dataset(frame, "sdk-data", context="validation", source="/data/sdk.csv")
        run.log_dataset(frame, "web-data", source="https://example.com/sdk.csv")
    inputs = _inputs(mlflow_client.get_run(run.id))
    sdk, tags = inputs["sdk-data"]
    assert tags == {"mlflow.data.context": "validation"}
    assert sdk["digest"] == described.digest and sdk["source_type"] == "local"
    assert json.loads(sdk["source"]) == {"uri": "/data/sdk.csv"}
    schema = Schema.from_json(json.dumps(json.loads(sdk["schema"])["mlflow_colspec"]))
    assert schema.input_names() == ["a", "b", "c"]
    assert [kind.name for kind in schema.input_types()] == ["long", "double", "string"]
    assert json.loads(sdk["profile"]) == {"num_rows": 3}
    web, web_tags = inputs["web-data"]
    assert web["source_type"] == "http" and json.loads(web["source"]) == {"url": "https://example.com/sdk.csv"}
    assert web_tags == {"mlflow.data.context": "training"}
    [found] = mlflow_client.search_runs([mlflow_client.get_experiment_by_name("sdk-inputs").experiment_id])
    assert _inputs(found) == inputs


def _dataset(**overrides: Any) -> dict[str, Any]:
    body = {"name": "d", "digest": "abcd1234", "source_type": "local", "source": '{"uri": "/x"}'}
    return {"dataset": {**body, **overrides}, "tags": [{"key": "mlflow.data.context", "value": "training"}]}


def test_bad_log_inputs_bodies_are_refused_whole(server: str, mlflow_client: MlflowClient) -> None:
    experiment_id = mlflow_client.create_experiment("bad-inputs")
    run_id = mlflow_client.create_run(experiment_id).info.run_id
    good = _dataset()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"datasets": [good]}, 400, "INVALID_PARAMETER_VALUE"),  # no run_id
        ({"run_id": "0" * 32, "datasets": [good]}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ({"run_id": run_id, "datasets": "d"}, 400, "INVALID_PARAMETER_VALUE"),
        ({"run_id": run_id, "datasets": [good, {"dataset": "d"}]}, 400, "INVALID_PARAMETER_VALUE"),
        ({"run_id": run_id, "datasets": [good, _dataset(digest=None)]}, 400, "INVALID_PARAMETER_VALUE"),
        ({"run_id": run_id, "datasets": [good, _dataset(digest="x" * 65)]}, 400, "INVALID_PARAMETER_VALUE"),
        ({"run_id": run_id, "datasets": [good, _dataset(source_type=7)]}, 400, "INVALID_PARAMETER_VALUE"),
        ({"run_id": run_id, "datasets": [good, _dataset(name=" padded ")]}, 400, "INVALID_PARAMETER_VALUE"),
        (
            {"run_id": run_id, "datasets": [{**good, "tags": [*good["tags"], {"key": "team", "value": "x"}]}]},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            {"run_id": run_id, "datasets": [{**good, "tags": [{"key": "mlflow.data.context", "value": "c" * 51}]}]},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        ({"run_id": run_id, "models": [{"model_id": "m-1"}]}, 400, "INVALID_PARAMETER_VALUE"),
    ]
    with httpx.Client(base_url=server, timeout=30) as http:
        for body, status, code in cases:
            answer = http.post(LOG_INPUTS, json=body)
            assert (answer.status_code, answer.json()["error_code"]) == (status, code), body
            assert answer.json()["message"], body
        assert mlflow_client.get_run(run_id).inputs.dataset_inputs == []  # nothing of a refused request stays

        assert http.post(LOG_INPUTS, json={"run_id": run_id, "datasets": [good]}).json() == {}
        mlflow_client.delete_run(run_id)
        refused = http.post(LOG_INPUTS, json={"run_id": run_id, "datasets": [_dataset(digest="ef567890")]})
        assert refused.status_code == 400 and refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    [kept] = mlflow_client.get_run(run_id).inputs.dataset_inputs
    assert kept.dataset.digest == "abcd1234" and kept.dataset.schema is None and kept.dataset.profile is None
    with ridgeline.Client(tracking_uri=server) as client:
        [recorded] = client.get_run_inputs(run_id)
    assert (recorded.context, recorded.version.dataset_name, recorded.version.digest) == ("training", "d", "abcd1234")
    assert recorded.version.profile == {"mlflow_dataset": {"source_type": "local", "source": '{"uri": "/x"}'}}
    assert (recorded.version.source, recorded.version.kind, recorded.version.schema) == ("/x", "files", [])
