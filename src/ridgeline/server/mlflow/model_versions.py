"""/api/2.0/mlflow/model-versions/*: numbered versions of registered models, their tags, stages and files."""

from __future__ import annotations

from fastapi import APIRouter

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.registry import LOGGED_MODEL_ID, ModelVersion
from ridgeline.server.deps import LoggedModels, Registry, Tracking, Who
from ridgeline.server.mlflow.errors import MlflowRoute
from ridgeline.server.mlflow.filters import translate, translate_order_by
from ridgeline.server.mlflow.messages import Msg
from ridgeline.server.mlflow.paging import page
from ridgeline.server.mlflow.registry_messages import logged_model_artifact_uri, version_json
from ridgeline.server.responses import JSON
from ridgeline.services.logged_models import LoggedModelService
from ridgeline.services.registry import VersionSpec
from ridgeline.services.tracking import TrackingService

router = APIRouter(prefix="/model-versions", route_class=MlflowRoute)

VERSION_ATTRIBUTES = {
    "name": "name",
    "run_id": "id",
    "status": "status",
    "user_id": "user",
    "creation_timestamp": "start_time",
    "last_updated_timestamp": "end_time",
}
MAX_VERSIONS_PAGE = 200_000


def _json(version: ModelVersion) -> JSON:
    return JSON({"model_version": version_json(version)})


@router.post("/create")
def create_model_version(msg: Msg, registry: Registry, who: Who) -> JSON:
    source = msg.required("source")
    model_id = msg.text("model_id") or None
    if model_id is None and source.startswith("models:/") and LOGGED_MODEL_ID.fullmatch(source[8:].strip("/")):
        # As MLflow's server: a logged-model source must name the model in model_id too.
        raise InvalidArgument("model_id is required when source is a logged model (models:/m-…)", field="model_id")
    version = registry.create_version(
        msg.required("name"),
        VersionSpec(
            source=source,
            run_id=msg.text("run_id") or None,
            logged_model_id=model_id,
            description=msg.text("description") or "",
            tags=msg.key_values("tags"),
        ),
        user=who,
    )
    return _json(version)


@router.get("/get")
def get_model_version(msg: Msg, registry: Registry) -> JSON:
    return _json(registry.get_version(msg.required("name"), msg.required("version")))


@router.api_route("/search", methods=["GET", "POST"])
def search_model_versions(msg: Msg, registry: Registry) -> JSON:
    versions = registry.search_versions(
        translate(msg.text("filter") or "", VERSION_ATTRIBUTES),
        translate_order_by(msg.texts("order_by"), VERSION_ATTRIBUTES),
    )
    chosen, extra = page(versions, msg, default=10_000, maximum=MAX_VERSIONS_PAGE)
    return JSON({"model_versions": [version_json(version) for version in chosen], **extra})


@router.patch("/update")
def update_model_version(msg: Msg, registry: Registry) -> JSON:
    return _json(
        registry.update_version(msg.required("name"), msg.required("version"), description=msg.text("description"))
    )


@router.post("/transition-stage")
def transition_model_version_stage(msg: Msg, registry: Registry) -> JSON:
    archive = msg.raw("archive_existing_versions")
    version = registry.transition_stage(
        msg.required("name"),
        msg.required("version"),
        msg.required("stage"),
        archive_existing=archive is True or str(archive).lower() == "true",
    )
    return _json(version)


@router.delete("/delete")
def delete_model_version(msg: Msg, registry: Registry, who: Who) -> JSON:
    registry.delete_version(msg.required("name"), msg.required("version"), user=who)
    return JSON({})


@router.post("/set-tag")
def set_model_version_tag(msg: Msg, registry: Registry) -> JSON:
    registry.set_version_tag(
        msg.required("name"), msg.required("version"), msg.required("key"), msg.text("value") or ""
    )
    return JSON({})


@router.delete("/delete-tag")
def delete_model_version_tag(msg: Msg, registry: Registry) -> JSON:
    registry.delete_version_tag(msg.required("name"), msg.required("version"), msg.required("key"))
    return JSON({})


def download_uri(version: ModelVersion, tracking: TrackingService, logged_models: LoggedModelService) -> str:
    """Where MLflow's client downloads a version's files: through this server's artifact proxy."""
    if version.logged_model_id is not None:
        return logged_model_artifact_uri(logged_models.get(version.logged_model_id))
    if version.artifact_run_id is not None:
        run = tracking.get_run(version.artifact_run_id)
        folder = f"/{version.artifact_path}" if version.artifact_path else ""
        return f"mlflow-artifacts:/{run.project_id}/{run.id}/artifacts{folder}"
    return version.source


@router.get("/get-download-uri")
def get_model_version_download_uri(
    msg: Msg, registry: Registry, tracking: Tracking, logged_models: LoggedModels
) -> JSON:
    version = registry.get_version(msg.required("name"), msg.required("version"))
    return JSON({"artifact_uri": download_uri(version, tracking, logged_models)})
