"""Registry and logged-model entities in MLflow's proto3 JSON shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ridgeline.domain.registry import LoggedModel, LoggedModelStatus, ModelVersion, RegisteredModel, VersionStatus

_VERSION_STATUS = {
    VersionStatus.PENDING: "PENDING_REGISTRATION",
    VersionStatus.READY: "READY",
    VersionStatus.FAILED: "FAILED_REGISTRATION",
}
LOGGED_MODEL_STATUS = {
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}


def pairs(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in values.items()]


def version_json(version: ModelVersion) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": version.model_name,
        "version": str(version.version),
        "creation_timestamp": version.created_at,
        "last_updated_timestamp": version.updated_at,
        "user_id": version.created_by,
        "current_stage": version.stage,
        "description": version.description,
        "source": version.source,
        "run_id": version.run_id or "",
        "status": _VERSION_STATUS[version.status],
        "status_message": version.status_message,
        "tags": pairs(version.tags),
        "run_link": "",
        "aliases": version.aliases,
    }
    if version.logged_model_id is not None:
        body["model_id"] = version.logged_model_id
    return body


def registered_model_json(model: RegisteredModel, latest: list[ModelVersion]) -> dict[str, Any]:
    return {
        "name": model.name,
        "creation_timestamp": model.created_at,
        "last_updated_timestamp": model.updated_at,
        "description": model.description,
        "user_id": model.owner,
        "latest_versions": [version_json(version) for version in latest],
        "tags": pairs(model.tags),
        "aliases": [{"alias": alias, "version": str(number)} for alias, number in model.aliases.items()],
    }


def logged_model_artifact_uri(model: LoggedModel) -> str:
    return f"mlflow-artifacts:/{model.project_id}/models/{model.id}/artifacts"


def logged_model_json(model: LoggedModel) -> dict[str, Any]:
    return {
        "info": {
            "model_id": model.id,
            "experiment_id": model.project_id,
            "name": model.name,
            "artifact_uri": logged_model_artifact_uri(model),
            "status": LOGGED_MODEL_STATUS[model.status],
            "status_message": model.status_message,
            "source_run_id": model.run_id,
            "creation_timestamp_ms": model.created_at,
            "last_updated_timestamp_ms": model.updated_at,
            "model_type": model.model_type,
            "tags": pairs(model.tags),
        },
        "data": {"params": pairs(model.params), "metrics": []},
    }
