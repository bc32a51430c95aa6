"""An MLflow tracking server as a source, read through its REST API (the calls of MLflow's own client,
mlflow/store/tracking/rest_store.py): experiments and runs searched page by page, every deleted one included,
metric histories paged, artifacts listed and downloaded through the server whatever store holds them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ridgeline.domain.outbound import OutboundPolicy
from ridgeline.services.mlflow_import.artifacts import ArtifactAccess, run_files
from ridgeline.services.mlflow_import.http import MlflowHttp
from ridgeline.services.mlflow_import.model import (
    LOGGED_MODEL_STATUS,
    PROMPT_TAG,
    Artifacts,
    DatasetInput,
    Experiment,
    LoggedModelInfo,
    RegisteredModelInfo,
    RunSummary,
    VersionInfo,
    history,
)
from ridgeline.services.outbound import default_policy
from ridgeline.store.metrics import SeriesArrays

API = "/api/2.0/mlflow"
_PAGE = 1000
_HISTORY_PAGE = 25_000
_LOGGED_MODELS_PAGE = 100
_VERSIONS_PAGE = 10_000


def pairs(items: list[dict[str, Any]] | None) -> dict[str, str]:
    """MLflow's repeated ``{key, value}`` messages as a dict."""
    return {item["key"]: item.get("value", "") for item in items or []}


def _int(value: Any) -> int | None:
    # Proto JSON may spell int64 as a string.
    return None if value is None or value == "" else int(value)


def _step_and_time(metric: dict[str, Any]) -> tuple[int, int]:
    return _int(metric.get("step")) or 0, _int(metric.get("timestamp")) or 0


class ServerSource:
    def __init__(self, url: str, outbound: OutboundPolicy | None = None) -> None:
        """``outbound``: the policy its requests follow; None, the one ``RIDGELINE_OUTBOUND_ALLOW`` sets now."""
        policy = default_policy() if outbound is None else outbound
        self.http = MlflowHttp(url, policy)
        self.label = self.http.url
        self.access = ArtifactAccess(server=self.http, outbound=policy)
        # Fails early, with one clear line, when nothing or something else answers there.
        self.http.call("POST", f"{API}/experiments/search", body={"max_results": 1})

    def pages(self, method: str, path: str, request: dict[str, Any], field: str) -> Iterator[dict[str, Any]]:
        """Every item of a paged search, following ``next_page_token``."""
        token = ""
        while True:
            message = {**request, "page_token": token} if token else request
            if method == "GET":
                answer = self.http.call(method, path, params=message)
            else:
                answer = self.http.call(method, path, body=message)
            yield from answer.get(field, [])
            token = answer.get("next_page_token", "")
            if not token:
                return

    def experiments(self) -> list[Experiment]:
        request = {"max_results": _PAGE, "view_type": "ALL"}
        return [
            Experiment(
                id=str(item["experiment_id"]),
                name=item["name"],
                deleted=item.get("lifecycle_stage") == "deleted",
                creation_time=_int(item.get("creation_time")),
                last_update_time=_int(item.get("last_update_time")),
                tags=pairs(item.get("tags")),
            )
            for item in self.pages("POST", f"{API}/experiments/search", request, "experiments")
        ]

    def runs(self, experiment: Experiment) -> Iterator[RunSummary]:
        request = {"experiment_ids": [experiment.id], "run_view_type": "ALL", "max_results": _PAGE}
        for item in self.pages("POST", f"{API}/runs/search", request, "runs"):
            info, data = item["info"], item.get("data", {})
            yield RunSummary(
                id=info["run_id"],
                experiment_id=str(info["experiment_id"]),
                name=info.get("run_name", ""),
                status=info.get("status", "RUNNING"),
                start_time=_int(info.get("start_time")),
                end_time=_int(info.get("end_time")),
                user=info.get("user_id", ""),
                deleted=info.get("lifecycle_stage") == "deleted",
                # The API does not say when a run was deleted.
                deleted_time=None,
                artifact_uri=info.get("artifact_uri", ""),
                params=pairs(data.get("params")),
                tags=pairs(data.get("tags")),
                latest={
                    m["key"]: (_int(m.get("step")) or 0, _int(m.get("timestamp")) or 0) for m in data.get("metrics", [])
                },
                inputs=[_dataset(entry) for entry in item.get("inputs", {}).get("dataset_inputs", [])],
            )

    def histories(self, run: RunSummary) -> dict[str, SeriesArrays]:
        found = {}
        for key in run.latest:
            request = {"run_id": run.id, "metric_key": key, "max_results": _HISTORY_PAGE}
            points = self.pages("GET", f"{API}/metrics/get-history", request, "metrics")
            found[key] = history((*_step_and_time(p), float(p.get("value", 0.0))) for p in points)
        return found

    def artifacts(self, run: RunSummary) -> Artifacts:
        return run_files(self.http, run.id)

    def logged_models(self, experiment: Experiment) -> list[LoggedModelInfo]:
        request = {"experiment_ids": [experiment.id], "max_results": _LOGGED_MODELS_PAGE}
        found = []
        for item in self.pages("POST", f"{API}/logged-models/search", request, "models"):
            info = item["info"]
            found.append(
                LoggedModelInfo(
                    id=info["model_id"],
                    experiment_id=str(info["experiment_id"]),
                    name=info.get("name", ""),
                    artifact_uri=info.get("artifact_uri", ""),
                    created=_int(info.get("creation_timestamp_ms")),
                    status=LOGGED_MODEL_STATUS.get(info.get("status", ""), "PENDING"),
                    model_type=info.get("model_type", ""),
                    run_id=info.get("source_run_id") or None,
                    params=pairs(item.get("data", {}).get("params")),
                    tags=pairs(info.get("tags")),
                )
            )
        return found

    def model_files(self, model: LoggedModelInfo) -> Artifacts:
        return self.access.files(model.artifact_uri)

    def registered_models(self) -> list[RegisteredModelInfo]:
        versions: dict[str, list[VersionInfo]] = {}
        request = {"max_results": _VERSIONS_PAGE}
        for item in self.pages("GET", f"{API}/model-versions/search", request, "model_versions"):
            versions.setdefault(item["name"], []).append(
                VersionInfo(
                    version=int(item["version"]),
                    created=_int(item.get("creation_timestamp")),
                    description=item.get("description", ""),
                    user=item.get("user_id", ""),
                    stage=item.get("current_stage", "None"),
                    source=item.get("source", ""),
                    run_id=item.get("run_id") or None,
                    status=item.get("status", "READY"),
                    model_id=item.get("model_id") or None,
                    tags=pairs(item.get("tags")),
                )
            )
        models = []
        for item in self.pages("GET", f"{API}/registered-models/search", {"max_results": _PAGE}, "registered_models"):
            tags = pairs(item.get("tags"))
            if tags.get(PROMPT_TAG) == "true":
                continue
            models.append(
                RegisteredModelInfo(
                    name=item["name"],
                    description=item.get("description", ""),
                    created=_int(item.get("creation_timestamp")),
                    updated=_int(item.get("last_updated_timestamp")),
                    tags=tags,
                    aliases={alias["alias"]: int(alias["version"]) for alias in item.get("aliases", [])},
                    versions=sorted(versions.get(item["name"], []), key=lambda version: version.version),
                )
            )
        return models

    def close(self) -> None:
        self.http.close()


def _dataset(entry: dict[str, Any]) -> DatasetInput:
    dataset = entry["dataset"]
    return DatasetInput(
        name=dataset["name"],
        digest=dataset["digest"],
        source_type=dataset.get("source_type", ""),
        source=dataset.get("source", ""),
        schema=dataset.get("schema"),
        profile=dataset.get("profile"),
        tags=pairs(entry.get("tags")),
    )
