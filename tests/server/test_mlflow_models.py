"""MLflow 3's model flow on a real Ridgeline server, unchanged user code: ``mlflow.sklearn.log_model`` with
``registered_model_name``, aliases, and ``mlflow.pyfunc.load_model`` by ``models:/NAME@ALIAS``, by version,
by logged-model id and by ``runs:/``; the files and lineage are then read back through Ridgeline."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

import ridgeline

mlflow = pytest.importorskip("mlflow")
sklearn_datasets = pytest.importorskip("sklearn.datasets")
from mlflow import MlflowClient  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402


def _fit(c: float) -> tuple[LogisticRegression, np.ndarray]:
    features, labels = sklearn_datasets.load_iris(return_X_y=True)
    return LogisticRegression(C=c, max_iter=500).fit(features, labels), features


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_log_register_alias_and_load(server: str, mlflow_client: MlflowClient, tmp_path: Path) -> None:
    mlflow.set_experiment("models")
    first, features = _fit(0.1)
    second, _ = _fit(10.0)
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.9, step=1)
        info = mlflow.sklearn.log_model(first, name="model", registered_model_name="iris", input_example=features[:2])
    with mlflow.start_run():
        mlflow.sklearn.log_model(second, name="model", registered_model_name="iris")
    assert str(info.registered_model_version) == "1"
    mlflow_client.set_registered_model_alias("iris", "champion", "1")

    champion = mlflow.pyfunc.load_model("models:/iris@champion")
    np.testing.assert_array_equal(champion.predict(features), first.predict(features))
    latest = mlflow.pyfunc.load_model("models:/iris/2")
    np.testing.assert_array_equal(latest.predict(features), second.predict(features))
    by_id = mlflow.sklearn.load_model(f"models:/{info.model_id}")
    np.testing.assert_array_equal(by_id.predict(features), first.predict(features))
    by_run = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(by_run.predict(features), first.predict(features))

    # Moving the alias is a deployment: the next load gets the other version.
    mlflow_client.set_registered_model_alias("iris", "champion", "2")
    moved = mlflow.pyfunc.load_model("models:/iris@champion")
    np.testing.assert_array_equal(moved.predict(features), second.predict(features))

    version = mlflow_client.get_model_version("iris", "1")
    assert version.run_id == run.info.run_id and version.source == f"models:/{info.model_id}"
    logged = mlflow_client.get_logged_model(info.model_id)
    assert logged.source_run_id == run.info.run_id and logged.status == "READY"
    assert mlflow_client.get_run(run.info.run_id).outputs.model_outputs[0].model_id == info.model_id

    # Ridgeline's side: the package is a folder of the run's artifacts, byte for byte what MLflow downloads.
    downloaded = Path(mlflow.artifacts.download_artifacts(f"models:/{info.model_id}", dst_path=str(tmp_path / "m")))
    prefix = f"models/{info.model_id}/"
    with httpx.Client(base_url=server) as http:
        listing = http.get(f"/api/v1/runs/{run.info.run_id}/artifacts").json()
        stored = sorted(item["path"] for item in listing["files"] if item["path"].startswith(prefix))
        assert f"{prefix}MLmodel" in stored
        for path in stored:
            body = http.get(f"/api/v1/runs/{run.info.run_id}/artifacts/{path}")
            assert body.content == (downloaded / path.removeprefix(prefix)).read_bytes(), path
    with ridgeline.Client(tracking_uri=server) as client:
        record = client.get_run(run.info.run_id)
    assert record.latest_metrics["acc"].value == 0.9
    # log_model re-sends the run's points linked to the model; the history must not double.
    assert [point.value for point in mlflow_client.get_metric_history(run.info.run_id, "acc")] == [0.9]
