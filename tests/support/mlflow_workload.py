"""Data logged with MLflow's own client, for the importer's tests (tests/cli/test_import_mlflow.py).

Run as a script in its own process, so MLflow's global state and warnings stay out of pytest's:

    python mlflow_workload.py TRACKING_URI base|more|dump WORK_FOLDER

``base`` logs experiments with tags, runs with params, tags, metric histories (NaN and ±inf, points sharing a
step), dataset inputs, artifacts (text, binary, nested folders), a nested run, a deleted run, a failed run, a run
left RUNNING, a deleted experiment, a run in the Default experiment, and a registered model with versions, tags
and aliases. ``more`` adds points to the RUNNING run and finishes it, logs one new run and one new experiment.
Both print the ids they made as JSON. ``dump`` prints everything MLflow's client reads back (every experiment,
run, metric point, dataset input, logged and registered model) as JSON, and downloads each run's artifacts into
``WORK_FOLDER/<run id>/`` and each logged model's into ``WORK_FOLDER/<model id>/``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, ViewType
from sklearn.linear_model import LinearRegression

T0 = 1_700_000_000_000


def base(client: MlflowClient, work: Path) -> dict[str, str]:
    vision = client.create_experiment("vision", tags={"team": "cv", "mlflow.note.content": "Ünïcode notes"})
    mlflow.set_experiment(experiment_id=vision)
    blob = work / "weights.bin"
    blob.write_bytes(bytes(range(256)) * 40 + np.random.default_rng(7).bytes(3000))
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, 1.5, 2.5]})
    dataset = mlflow.data.from_pandas(frame, source="data/train.csv", name="train-split")
    with mlflow.start_run(run_name="parent", description="first try") as parent:
        mlflow.log_params({"lr": 0.1, "arch": "résnet"})
        mlflow.set_tag("stage", "sweep")
        losses = [math.nan] + [1 / (step + 1) for step in range(1, 1500)]
        for start in range(0, len(losses), 500):
            batch = [
                Metric("loss", value, T0 + step, step)
                for step, value in enumerate(losses)
                if start <= step < start + 500
            ]
            client.log_batch(parent.info.run_id, metrics=batch)
        client.log_batch(
            parent.info.run_id,
            metrics=[
                Metric("acc", math.inf, T0 + 1, 1),
                Metric("acc", -math.inf, T0 + 2, 2),
                Metric("tied", 1.0, T0 + 5, 5),
                Metric("tied", 2.0, T0 + 6, 5),
            ],
        )
        mlflow.log_input(dataset, context="training")
        mlflow.log_text("hello artifact", "notes/readme.txt")
        mlflow.log_artifact(str(blob), "blobs/deep/nested")
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_param("fold", "1")
            mlflow.log_input(dataset, context="validation")
        with mlflow.start_run(run_name="modelled", nested=True) as modelled:
            model = LinearRegression().fit([[1.0], [2.0], [3.0]], [1.0, 2.0, 3.0])
            info = mlflow.sklearn.log_model(model, name="model", registered_model_name="churn")
    with mlflow.start_run(run_name="doomed") as doomed:
        mlflow.log_metric("x", 1.0)
        mlflow.log_text("bye", "gone.txt")
    client.delete_run(doomed.info.run_id)
    failed = client.create_run(vision, run_name="failed")
    client.set_terminated(failed.info.run_id, "FAILED")
    live = client.create_run(vision, run_name="live")
    client.log_metric(live.info.run_id, "progress", 0.1, timestamp=T0, step=0)

    client.create_model_version(
        "churn",
        info.model_uri,
        run_id=modelled.info.run_id,
        tags={"validated": "yes"},
        description="second",
        model_id=info.model_id,
    )
    client.set_registered_model_tag("churn", "owner", "ml-team")
    client.update_registered_model("churn", description="Churn model")
    client.set_registered_model_alias("churn", "champion", "1")
    client.set_registered_model_alias("churn", "challenger", "2")

    other = client.create_experiment("other")
    run = client.create_run(other, run_name="elsewhere")
    client.log_metric(run.info.run_id, "acc", 1.0, timestamp=T0, step=0)
    client.set_terminated(run.info.run_id)
    default = client.create_run("0", run_name="in-default")
    client.log_param(default.info.run_id, "p", "v")
    client.set_terminated(default.info.run_id)
    gone = client.create_experiment("gone")
    client.set_terminated(client.create_run(gone, run_name="orphan").info.run_id)
    client.delete_experiment(gone)
    return {
        "parent": parent.info.run_id,
        "child": child.info.run_id,
        "modelled": modelled.info.run_id,
        "doomed": doomed.info.run_id,
        "failed": failed.info.run_id,
        "live": live.info.run_id,
        "logged_model": info.model_id,
    }


def more(client: MlflowClient, work: Path) -> dict[str, str]:
    vision = client.get_experiment_by_name("vision")
    assert vision is not None
    live = client.search_runs([vision.experiment_id], "attributes.run_name = 'live'")[0].info.run_id
    client.log_batch(live, metrics=[Metric("progress", step / 10, T0 + step, step) for step in range(1, 4)])
    client.set_tag(live, "outcome", "done")
    (work / "late.txt").write_text("late artifact")
    client.log_artifact(live, str(work / "late.txt"))
    client.set_terminated(live, "FINISHED")
    newcomer = client.create_run(vision.experiment_id, run_name="newcomer")
    client.log_metric(newcomer.info.run_id, "acc", 0.5, timestamp=T0, step=0)
    client.set_terminated(newcomer.info.run_id)
    fresh = client.create_experiment("fresh")
    client.set_terminated(client.create_run(fresh, run_name="first").info.run_id)
    return {"live": live, "newcomer": newcomer.info.run_id}


def dump(client: MlflowClient, work: Path) -> dict[str, Any]:
    experiments = client.search_experiments(view_type=ViewType.ALL)
    runs = []
    for experiment in experiments:
        for run in client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL):
            run_id = run.info.run_id
            target = work / run_id
            target.mkdir(parents=True)
            if client.list_artifacts(run_id):
                client.download_artifacts(run_id, "", str(target))
            histories = {
                key: [[m.step, m.timestamp, m.value] for m in client.get_metric_history(run_id, key)]
                for key in run.data.metrics
            }
            inputs = [
                {
                    "name": item.dataset.name,
                    "digest": item.dataset.digest,
                    "source_type": item.dataset.source_type,
                    "source": item.dataset.source,
                    "schema": item.dataset.schema,
                    "profile": item.dataset.profile,
                    "context": {tag.key: tag.value for tag in item.tags}.get("mlflow.data.context", ""),
                }
                for item in run.inputs.dataset_inputs
            ]
            runs.append(
                {
                    "id": run_id,
                    "experiment_id": run.info.experiment_id,
                    "name": run.info.run_name,
                    "status": run.info.status,
                    "start_time": run.info.start_time,
                    "end_time": run.info.end_time,
                    "user": run.info.user_id,
                    "deleted": run.info.lifecycle_stage == "deleted",
                    "params": run.data.params,
                    "tags": run.data.tags,
                    "metrics": histories,
                    "inputs": inputs,
                }
            )
    logged = []
    for model in client.search_logged_models([e.experiment_id for e in experiments]):
        target = work / model.model_id
        mlflow.artifacts.download_artifacts(artifact_uri=model.artifact_location, dst_path=str(target))
        logged.append(
            {
                "id": model.model_id,
                "name": model.name,
                "run_id": model.source_run_id,
                "status": str(model.status),
                "params": model.params,
                "tags": model.tags,
            }
        )
    models = [
        {
            "name": model.name,
            "description": model.description,
            "tags": model.tags,
            "aliases": model.aliases,
            "versions": [
                {
                    "version": int(version.version),
                    "source": version.source,
                    "run_id": version.run_id,
                    "description": version.description or "",
                    "tags": version.tags,
                    "model_id": version.model_id,
                    "created_at": version.creation_timestamp,
                }
                for version in client.search_model_versions(f"name = '{model.name}'")
            ],
        }
        for model in client.search_registered_models()
    ]
    return {
        "experiments": [
            {"id": e.experiment_id, "name": e.name, "deleted": e.lifecycle_stage == "deleted", "tags": e.tags}
            for e in experiments
        ],
        "runs": runs,
        "logged_models": logged,
        "models": models,
    }


if __name__ == "__main__":
    uri, phase, folder = sys.argv[1:4]
    mlflow.set_tracking_uri(uri)
    made = {"base": base, "more": more, "dump": dump}[phase](MlflowClient(), Path(folder))
    print(json.dumps(made))
