"""The official MLflow client (mlflow-skinny, a pinned test extra) drives a real Ridgeline server through the
tracking flows of the MLflow-compatible API; every value is read back through MLflow's client and through
ridgeline.Client. Raw HTTP covers the wire details the client hides (error shape, unknown endpoints)."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

import ridgeline

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag, ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402


def _code(exc: pytest.ExceptionInfo[MlflowException]) -> str:
    return str(exc.value.error_code)


def test_fluent_flow_reads_back_through_both_clients(server: str, mlflow_client: MlflowClient) -> None:
    experiment = mlflow.set_experiment("mlflow-compat")
    assert mlflow.set_experiment("mlflow-compat").experiment_id == experiment.experiment_id
    with mlflow.start_run(run_name="first") as active:
        run_id = active.info.run_id
        mlflow.log_param("model", "rf")
        mlflow.log_params({"depth": 4, "lr": 0.1})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=4)
        mlflow.set_tag("team", "vision")
        mlflow.set_tags({"stage": "dev"})
    run = mlflow_client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.end_time is not None
    assert run.info.run_name == "first" and run.data.tags["mlflow.runName"] == "first"
    assert run.info.experiment_id == experiment.experiment_id
    assert run.info.artifact_uri == f"mlflow-artifacts:/{experiment.experiment_id}/{run_id}/artifacts"
    assert run.info.lifecycle_stage == "active"
    assert run.data.params == {"model": "rf", "depth": "4", "lr": "0.1"}
    assert run.data.metrics == {"loss": pytest.approx(0.2), "acc": 0.9, "f1": 0.8}
    assert run.data.tags["team"] == "vision" and run.data.tags["stage"] == "dev"
    history = mlflow_client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, pytest.approx(1.0 / (s + 1))) for s in range(5)]
    assert mlflow_client.get_metric_history(run_id, "nope") == []

    with ridgeline.Client(tracking_uri=server) as reader:
        native = reader.get_run(run_id)
        points = reader.get_metric_history(run_id, "loss")
    assert native.name == "first" and str(native.status) == "FINISHED"
    assert native.params == {"model": "rf", "depth": "4", "lr": "0.1"}
    assert native.metrics["loss"] == pytest.approx(0.2) and native.metrics["acc"] == 0.9
    assert native.tags["team"] == "vision"
    assert list(points.steps) == [0, 1, 2, 3, 4]


def test_client_log_batch_search_and_lifecycle(server: str, mlflow_client: MlflowClient) -> None:
    experiment_id = mlflow_client.create_experiment("search-me", tags={"owner": "ana"})
    ids = []
    for index in range(5):
        run = mlflow_client.create_run(experiment_id, run_name=f"r{index}", start_time=1_700_000_000_000 + index)
        mlflow_client.log_batch(
            run.info.run_id,
            metrics=[
                Metric("acc", 0.5 + index / 10, 1_700_000_000_000, 0),
                Metric("acc", 0.1 * index, 1_700_000_000_001, 1),
            ],
            params=[Param("model", "rf" if index % 2 else "svm"), Param("idx", str(index))],
            tags=[RunTag("parity", "odd" if index % 2 else "even")],
        )
        ids.append(run.info.run_id)
    mlflow_client.set_terminated(ids[0], "FAILED")

    def names(**kwargs: Any) -> list[str]:
        return [r.info.run_name for r in mlflow_client.search_runs([experiment_id], **kwargs)]

    assert names() == ["r4", "r3", "r2", "r1", "r0"]  # default: newest start_time first
    assert names(filter_string="metrics.acc > 0.15", order_by=["metrics.acc DESC"]) == ["r4", "r3", "r2"]
    assert names(filter_string="params.model = 'rf'", order_by=["attributes.start_time ASC"]) == ["r1", "r3"]
    assert names(filter_string="tags.parity LIKE '%ven'", order_by=["params.idx DESC"]) == ["r4", "r2", "r0"]
    assert names(filter_string="attributes.status = 'FAILED'") == ["r0"]
    assert names(filter_string="tags.`mlflow.runName` = 'r2' and params.`model` != 'rf'") == ["r2"]
    assert names(filter_string=f"attributes.run_id = '{ids[3]}'") == ["r3"]

    first = mlflow_client.search_runs([experiment_id], max_results=2, order_by=["attributes.start_time ASC"])
    pages = [[r.info.run_name for r in first]]
    token = first.token
    while token:
        page = mlflow_client.search_runs(
            [experiment_id], max_results=2, order_by=["attributes.start_time ASC"], page_token=token
        )
        pages.append([r.info.run_name for r in page])
        token = page.token
    assert pages == [["r0", "r1"], ["r2", "r3"], ["r4"]]
    frame = mlflow.search_runs([experiment_id], filter_string="params.model = 'svm'")
    assert sorted(frame["tags.mlflow.runName"]) == ["r0", "r2", "r4"]

    # Renaming a run mirrors into mlflow.runName; tags can be deleted.
    mlflow_client.update_run(ids[1], name="renamed")
    mlflow_client.delete_tag(ids[1], "parity")
    renamed = mlflow_client.get_run(ids[1])
    assert renamed.info.run_name == "renamed" and renamed.data.tags["mlflow.runName"] == "renamed"
    assert "parity" not in renamed.data.tags
    with ridgeline.Client(tracking_uri=server) as reader:
        assert reader.get_run(ids[1]).name == "renamed"

    # Soft delete and restore of a run, seen through the view types.
    mlflow_client.delete_run(ids[2])
    assert mlflow_client.get_run(ids[2]).info.lifecycle_stage == "deleted"
    assert "r2" not in names()
    assert names(run_view_type=ViewType.DELETED_ONLY) == ["r2"]
    assert len(names(run_view_type=ViewType.ALL)) == 5
    mlflow_client.restore_run(ids[2])
    assert "r2" in names()

    # Experiments: tags, rename, delete, restore, search.
    mlflow_client.set_experiment_tag(experiment_id, "owner", "bo")
    assert mlflow_client.get_experiment(experiment_id).tags == {"owner": "bo"}
    mlflow_client.rename_experiment(experiment_id, "renamed-exp")
    assert mlflow_client.get_experiment_by_name("renamed-exp").experiment_id == experiment_id
    assert mlflow_client.get_experiment_by_name("search-me") is None
    found = mlflow_client.search_experiments(filter_string="name LIKE 'renamed%' and tags.owner = 'bo'")
    assert [e.experiment_id for e in found] == [experiment_id]
    mlflow_client.delete_experiment(experiment_id)
    assert mlflow_client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert experiment_id not in [e.experiment_id for e in mlflow_client.search_experiments()]
    deleted = mlflow_client.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert [e.experiment_id for e in deleted] == [experiment_id]
    mlflow_client.restore_experiment(experiment_id)
    assert mlflow_client.get_experiment(experiment_id).lifecycle_stage == "active"
    with ridgeline.Client(tracking_uri=server) as reader:
        assert len(reader.search_runs("renamed-exp", limit=10).runs) == 5


def test_errors_carry_mlflow_codes(server: str, mlflow_client: MlflowClient) -> None:
    experiment_id = mlflow_client.create_experiment("dup")
    with pytest.raises(MlflowException) as exc:
        mlflow_client.create_experiment("dup")
    assert _code(exc) == "RESOURCE_ALREADY_EXISTS"
    for call in (
        lambda: mlflow_client.get_run("0" * 32),
        lambda: mlflow_client.get_experiment("f" * 32),
        lambda: mlflow_client.log_param("0" * 32, "a", "b"),
    ):
        with pytest.raises(MlflowException) as exc:
            call()
        assert _code(exc) == "RESOURCE_DOES_NOT_EXIST"
    run_id = mlflow_client.create_run(experiment_id).info.run_id
    mlflow_client.log_param(run_id, "p", "1")
    mlflow_client.log_param(run_id, "p", "1")  # the same value again is fine
    with pytest.raises(MlflowException) as exc:
        mlflow_client.log_param(run_id, "p", "2")
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exc:
        mlflow_client.log_batch(run_id, params=[Param("p", "3")])
    assert _code(exc) == "INVALID_PARAMETER_VALUE"
    for bad in ("metrics.acc >", "metrics.acc = 'text'", "attributes.artifact_uri = 'x'", "datasets.name = 'd'"):
        with pytest.raises(MlflowException) as exc:
            mlflow_client.search_runs([experiment_id], filter_string=bad)
        assert _code(exc) == "INVALID_PARAMETER_VALUE", bad
    assert mlflow_client.get_run(run_id).data.params == {"p": "1"}

    with httpx.Client(base_url=f"{server}/api/2.0", timeout=30) as http:
        missing = http.get("/mlflow/no-such-thing")
        assert missing.status_code == 404 and missing.json()["error_code"] == "ENDPOINT_NOT_FOUND"
        assert http.post("/preview/whatever", json={}).json()["error_code"] == "ENDPOINT_NOT_FOUND"
        broken = http.post("/mlflow/runs/create", content=b"{not json", headers={"content-type": "application/json"})
        assert broken.status_code == 400 and broken.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        unknown = http.get("/mlflow/runs/get", params={"run_id": "nope"})
        assert unknown.status_code in (400, 404) and set(unknown.json()) == {"error_code", "message"}
        # The native API keeps its own error shape.
        native = httpx.get(f"{server}/api/v1/runs/{'0' * 32}")
        assert native.status_code == 404 and native.json()["error"]["code"] == "NOT_FOUND"


def test_history_paging_bulk_interval_and_nan(server: str, mlflow_client: MlflowClient) -> None:
    experiment_id = mlflow_client.create_experiment("history")
    runs = [mlflow_client.create_run(experiment_id).info.run_id for _ in range(2)]
    for run_id in runs:
        mlflow_client.log_batch(run_id, metrics=[Metric("m", float(s), 1_700_000_000_000 + s, s) for s in range(50)])
    mlflow_client.log_metric(runs[0], "nan", math.nan, step=0)
    assert math.isnan(mlflow_client.get_run(runs[0]).data.metrics["nan"])
    with httpx.Client(base_url=f"{server}/api/2.0/mlflow", timeout=30) as http:
        first = http.get("/metrics/get-history", params={"run_id": runs[0], "metric_key": "m", "max_results": 20})
        body = first.json()
        collected = body["metrics"]
        while body.get("next_page_token"):
            body = http.get(
                "/metrics/get-history",
                params={"run_id": runs[0], "metric_key": "m", "max_results": 20, "page_token": body["next_page_token"]},
            ).json()
            collected += body["metrics"]
        assert [p["step"] for p in collected] == list(range(50))
        bulk = http.get(
            "/metrics/get-history-bulk-interval",
            params=[("run_ids", runs[0]), ("run_ids", runs[1]), ("metric_key", "m"), ("max_results", "10")],
        ).json()["metrics"]
        for run_id in runs:
            steps = [p["step"] for p in bulk if p["run_id"] == run_id]
            assert len(steps) == 10 and steps[0] == 0 and steps[-1] == 49
        window = http.get(
            "/metrics/get-history-bulk-interval",
            params={"run_ids": runs[1], "metric_key": "m", "start_step": 10, "end_step": 12},
        ).json()["metrics"]
        assert [p["step"] for p in window] == [10, 11, 12]


def test_native_runs_show_up_in_mlflow(server: str, mlflow_client: MlflowClient) -> None:
    with ridgeline.start_run(project="native", name="sdk-run", tracking_uri=server) as run:
        run.log_params({"lr": "0.01"})
        run.log_metric("loss", 0.5, step=3)
    experiment = mlflow_client.get_experiment_by_name("native")
    assert experiment is not None
    [found] = mlflow_client.search_runs([experiment.experiment_id], filter_string="params.lr = '0.01'")
    assert found.info.run_id == run.id and found.info.run_name == "sdk-run"
    assert found.data.tags["mlflow.runName"] == "sdk-run" and found.data.metrics == {"loss": 0.5}
