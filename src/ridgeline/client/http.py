"""The HTTP backend: the SDK talking to ``ridgeline server`` over the native REST API."""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import orjson

from ridgeline.domain import columns
from ridgeline.domain.entities import (
    ArtifactFile,
    DatasetVersion,
    LogBatch,
    MetricHistory,
    Project,
    RunInput,
    RunPage,
    RunRecord,
)
from ridgeline.domain.errors import RidgelineError, Unavailable, error_from_dict
from ridgeline.domain.promotion import (
    EvaluationResult,
    EvaluationSpec,
    ModelEvaluation,
    PromotionResult,
    VersionLineage,
    evaluation_from_json,
    promotion_from_json,
    result_from_json,
)
from ridgeline.domain.registry import (
    AliasEvent,
    ModelVersion,
    RegisteredModel,
    check_alias,
    check_model_name,
    check_version,
)
from ridgeline.domain.registry_wire import alias_event_from_json, model_version_from_json, registered_model_from_json
from ridgeline.domain.wire import (
    encode_value,
    page_from_json,
    project_from_json,
    run_from_json,
    version_from_json,
)

if TYPE_CHECKING:
    from ridgeline.client.monitoring_transport import MonitoringTransport

API = "/api/v1"


def _series_json(batch: LogBatch) -> list[dict[str, Any]]:
    return [
        {
            "key": series.key,
            "steps": list(series.steps),
            "values": list(series.values)
            if all(map(math.isfinite, series.values))
            else [encode_value(x) for x in series.values],
            "timestamps": list(series.timestamps),
        }
        for series in batch.metrics
    ]


def _segment(text: str) -> str:
    """``text`` as one URL path segment: every reserved character encoded, and a name made only of dots too,
    which URL normalisation would otherwise take for a ``.`` or ``..`` segment and remove."""
    return quote(text, safe="") if text.strip(".") else "%2E" * len(text)


def _model(name: str, *rest: str | int) -> str:
    """The path of a registered model (or of something under it: ``"versions", 3, "tags", key``). The name is
    checked here, as the server would: an empty or '/'-holding one would make a path to something else."""
    return "/models/" + "/".join(_segment(str(part)) for part in (check_model_name(name), *rest))


class HttpBackend:
    def __init__(
        self, base_url: str, timeout: float = 30.0, token: str | None = None, workspace: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"User-Agent": "ridgeline-sdk", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if workspace:
            headers["X-Ridgeline-Workspace"] = workspace
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, headers=headers)

    def _call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        # Numpy arrays go as JSON arrays (monitoring batches are columns of them), NaN as null.
        content = None if json is None else orjson.dumps(json, option=orjson.OPT_SERIALIZE_NUMPY)
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            response = self._http.request(method, API + path, content=content, params=params, headers=headers)
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach the tracking server at {self.base_url}: {exc}") from exc
        self._raise_for(response)
        return orjson.loads(response.content) if response.content else {}

    @property
    def monitoring(self) -> MonitoringTransport:
        from ridgeline.client.monitoring_transport import HttpMonitoring

        return HttpMonitoring(self._call)

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        """Turn an error response into the exception it describes (Unavailable for the retryable ones)."""
        status = response.status_code
        if status >= 500 or status in (408, 429):
            raise Unavailable(f"tracking server answered HTTP {status}: {response.text[:200]}")
        if status < 400:
            return
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise RidgelineError(f"tracking server answered HTTP {status} without a JSON error") from None
        raise error_from_dict(data.get("error", {}) if isinstance(data, dict) else {}, status)

    def create_run(
        self,
        project: str,
        run_id: str,
        name: str | None,
        user: str,
        start_time: int,
        parent_run_id: str | None,
    ) -> RunRecord:
        body = {
            "project": project,
            "run_id": run_id,
            "name": name,
            "user": user,
            "start_time": start_time,
            "parent_run_id": parent_run_id,
        }
        return run_from_json(self._call("POST", "/runs", json=body))

    def get_run(self, run_id: str) -> RunRecord:
        return run_from_json(self._call("GET", f"/runs/{run_id}"))

    def resume_run(self, run_id: str) -> RunRecord:
        return run_from_json(self._call("POST", f"/runs/{run_id}/resume"))

    def finish_run(self, run_id: str, status: str, end_time: int) -> RunRecord:
        return run_from_json(
            self._call("POST", f"/runs/{run_id}/finish", json={"status": status, "end_time": end_time})
        )

    def log_batch(self, run_id: str, batch: LogBatch) -> list[dict[str, str]]:
        body = {
            "batch_id": batch.batch_id,
            "params": batch.params,
            "tags": batch.tags,
            "metrics": _series_json(batch),
        }
        result: list[dict[str, str]] = self._call("POST", f"/runs/{run_id}/batches", json=body)["conflicts"]
        return result

    def get_project(self, name: str) -> Project:
        return project_from_json(self._call("GET", "/projects/by-name", params={"name": name}))

    def get_project_by_id(self, project_id: str) -> Project:
        return project_from_json(self._call("GET", f"/projects/{project_id}"))

    def list_projects(self) -> list[Project]:
        return [project_from_json(item) for item in self._call("GET", "/projects")["projects"]]

    def search_runs(
        self,
        projects: list[str],
        filter: str | None,
        order_by: list[str] | None,
        limit: int,
        cursor: str | None,
    ) -> RunPage:
        body = {
            "projects": projects,
            "filter": filter,
            "order_by": order_by,
            "limit": limit,
            "cursor": cursor,
        }
        return page_from_json(self._call("POST", "/runs/search", json=body))

    def metric_history(
        self, run_id: str, key: str, min_step: int | None, max_step: int | None, points: int | None
    ) -> MetricHistory:
        query = {"key": key, "min_step": min_step, "max_step": max_step, "points": points}
        params = {k: v for k, v in query.items() if v is not None}
        path = f"{API}/runs/{run_id}/metrics/history"
        try:
            response = self._http.get(path, params=params, headers={"Accept": columns.MEDIA_TYPE})
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach the tracking server at {self.base_url}: {exc}") from exc
        if response.headers.get("content-type", "").startswith(columns.MEDIA_TYPE):
            return columns.decode(response.content)
        self._raise_for(response)
        raise RidgelineError(f"unexpected history response (HTTP {response.status_code})")

    def upload_artifact(self, run_id: str, path: str, source: Path | bytes) -> ArtifactFile:
        from ridgeline.client import http_artifacts

        response = http_artifacts.upload(self._http, http_artifacts.artifact_url(API, run_id, path), source)
        self._raise_for(response)
        return http_artifacts.stored(response)

    def list_artifacts(self, run_id: str, prefix: str) -> list[ArtifactFile]:
        from ridgeline.domain.wire import artifact_from_json

        files = self._call("GET", f"/runs/{run_id}/artifacts", params={"prefix": prefix} if prefix else None)
        return [artifact_from_json(item) for item in files["files"]]

    def download_artifact(self, run_id: str, path: str, destination: Path) -> None:
        from ridgeline.client import http_artifacts

        refused = http_artifacts.download(self._http, http_artifacts.artifact_url(API, run_id, path), destination)
        if refused is not None:
            self._raise_for(refused)

    def log_dataset_input(self, run_id: str, name: str, context: str, version: dict[str, Any]) -> DatasetVersion:
        body = {**version, "name": name, "context": context}
        return version_from_json(self._call("POST", f"/runs/{run_id}/datasets", json=body))

    def mark_dataset_ready(self, name: str, version: str | None, ready: bool) -> DatasetVersion:
        body = {"name": name, "version": version, "ready": ready}
        return version_from_json(self._call("POST", "/datasets/ready", json=body))

    def run_inputs(self, run_id: str) -> list[RunInput]:
        inputs = self._call("GET", f"/runs/{run_id}/lineage")["inputs"]
        # The lineage leaves profiles out (they can be large); each version is fetched whole, once, for them.
        versions: dict[str, DatasetVersion] = {}
        for item in inputs:
            version_id = item["version"]["id"]
            if version_id not in versions:
                versions[version_id] = version_from_json(self._call("GET", f"/dataset-versions/{version_id}"))
        return [RunInput(run_id, item["context"], versions[item["version"]["id"]]) for item in inputs]

    def create_model(self, name: str, description: str, tags: dict[str, str] | None) -> RegisteredModel:
        body = {"name": name, "description": description, "tags": tags}
        return registered_model_from_json(self._call("POST", "/models", json=body))

    def get_model(self, name: str) -> RegisteredModel:
        return registered_model_from_json(self._call("GET", _model(name)))

    def search_models(self, filter: str | None, order_by: list[str] | None) -> list[RegisteredModel]:
        query = {"filter": filter, "order_by": order_by}
        found = self._call("GET", "/models", params={k: v for k, v in query.items() if v})
        return [registered_model_from_json(item) for item in found["models"]]

    def set_model_tag(self, name: str, key: str, value: str) -> RegisteredModel:
        return registered_model_from_json(self._call("PUT", _model(name, "tags", key), json={"value": value}))

    def create_model_version(
        self, name: str, source: str, run_id: str | None, description: str, tags: dict[str, str] | None
    ) -> ModelVersion:
        body = {"source": source, "run_id": run_id, "description": description, "tags": tags}
        return model_version_from_json(self._call("POST", _model(name, "versions"), json=body))

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return model_version_from_json(self._call("GET", _model(name, "versions", check_version(version))))

    def get_model_versions(self, name: str) -> list[ModelVersion]:
        found = self._call("GET", _model(name, "versions"))
        return [model_version_from_json(item) for item in found["versions"]]

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: str) -> ModelVersion:
        path = _model(name, "versions", check_version(version), "tags", key)
        return model_version_from_json(self._call("PUT", path, json={"value": value}))

    def set_model_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        path = _model(name, "aliases", check_alias(alias))
        return model_version_from_json(self._call("PUT", path, json={"version": version}))

    def delete_model_alias(self, name: str, alias: str) -> None:
        self._call("DELETE", _model(name, "aliases", check_alias(alias)))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return model_version_from_json(self._call("GET", _model(name, "aliases", check_alias(alias))))

    def alias_history(self, name: str, alias: str | None) -> list[AliasEvent]:
        found = self._call("GET", _model(name, "alias-history"), params=None if alias is None else {"alias": alias})
        return [alias_event_from_json(item) for item in found["events"]]

    def resolve_model(self, uri: str) -> ModelVersion:
        return model_version_from_json(self._call("GET", "/resolve", params={"uri": uri}))

    def record_evaluation(self, name: str, spec: EvaluationSpec) -> EvaluationResult:
        body = asdict(spec)
        for key in ("metrics", "champion_metrics"):
            if body[key] is not None:
                body[key] = {metric: encode_value(value) for metric, value in body[key].items()}
        return result_from_json(self._call("POST", _model(name, "evaluations"), json=body))

    def get_evaluation(self, name: str, evaluation_id: str) -> EvaluationResult:
        return result_from_json(self._call("GET", _model(name, "evaluations", evaluation_id)))

    def version_evaluations(self, name: str, version: int, limit: int) -> list[ModelEvaluation]:
        found = self._call("GET", _model(name, "versions", version, "evaluations"), params={"limit": limit})
        return [evaluation_from_json(item) for item in found["evaluations"]]

    def promote_model(self, name: str, version: int, alias: str, require: list[str]) -> PromotionResult:
        body = {"version": version, "alias": alias, "require": require}
        return promotion_from_json(self._call("POST", _model(name, "promote"), json=body))

    def rollback_model(self, name: str, alias: str) -> PromotionResult:
        return promotion_from_json(self._call("POST", _model(name, "rollback"), json={"alias": alias}))

    def version_lineage(self, name: str, version: int) -> VersionLineage:
        found = self._call("GET", _model(name, "versions", version, "lineage"))
        run = None if found["run"] is None else run_from_json(found["run"])
        # The route leaves profiles out; run_inputs reads them, so both backends give whole dataset versions.
        inputs = [] if run is None else self.run_inputs(run.id)
        return VersionLineage(model_version_from_json(found["version"]), run, inputs)

    def dataset_version_models(self, version_id: str) -> list[ModelVersion]:
        found = self._call("GET", f"/dataset-versions/{_segment(version_id)}/model-versions")
        return [model_version_from_json(item) for item in found["versions"]]

    def resolve_dataset_version(self, name: str, version: str | None) -> DatasetVersion:
        params = {"name": name} if version is None else {"name": name, "version": version}
        return version_from_json(self._call("GET", "/datasets/resolve", params=params))

    def close(self) -> None:
        self._http.close()
