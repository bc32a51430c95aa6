"""/api/2.0/mlflow/logged-models/* and runs/outputs: MLflow 3's logged models, which ``log_model`` creates
before it uploads the model's files and which ``models:/m-…`` and registered versions point at."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ridgeline.domain.errors import InvalidArgument
from ridgeline.server.deps import LoggedModels, Tracking, Who
from ridgeline.server.mlflow.errors import MlflowRoute
from ridgeline.server.mlflow.experiments import project_for
from ridgeline.server.mlflow.filters import translate
from ridgeline.server.mlflow.messages import Msg
from ridgeline.server.mlflow.paging import page
from ridgeline.server.mlflow.registry_messages import LOGGED_MODEL_STATUS, logged_model_json
from ridgeline.server.responses import JSON
from ridgeline.services.logged_models import logged_model_view
from ridgeline.services.registry import search

router = APIRouter(prefix="/logged-models", route_class=MlflowRoute)
outputs_router = APIRouter(prefix="/runs", route_class=MlflowRoute)

LOGGED_MODEL_ATTRIBUTES = {
    "name": "name",
    "model_id": "id",
    "status": "status",
    "experiment_id": "project_id",
    "creation_timestamp": "start_time",
    "creation_time": "start_time",
    "last_updated_timestamp": "end_time",
}
_STATUSES = {name: status for status, name in LOGGED_MODEL_STATUS.items()}
MAX_LOGGED_MODELS_PAGE = 1000


def _json(model: Any) -> JSON:
    return JSON({"model": logged_model_json(model)})


@router.post("")
def create_logged_model(msg: Msg, tracking: Tracking, logged_models: LoggedModels, who: Who) -> JSON:
    project = project_for(tracking, msg.required("experiment_id"))
    model = logged_models.create(
        project.id,
        msg.text("name") or "model",
        run_id=msg.text("source_run_id") or None,
        params=msg.key_values("params"),
        tags=msg.key_values("tags"),
        model_type=msg.text("model_type") or "",
        user=who,
    )
    return _json(model)


@router.post("/search")
def search_logged_models(msg: Msg, tracking: Tracking, logged_models: LoggedModels) -> JSON:
    project_ids = [project_for(tracking, experiment_id).id for experiment_id in msg.texts("experiment_ids")]
    if not project_ids:
        raise InvalidArgument("experiment_ids must name at least one experiment", field="experiment_ids")
    order_by: list[str] = []
    for index, item in enumerate(msg.objects("order_by")):
        field = item.get("field_name")
        if not isinstance(field, str) or not field:
            raise InvalidArgument("order_by[].field_name must be a string", field=f"order_by[{index}].field_name")
        order_by.append(f"{field} {'ASC' if item.get('ascending', True) else 'DESC'}")
    models = logged_models.of_projects(project_ids)
    found = search(
        models,
        [logged_model_view(model) for model in models],
        translate(msg.text("filter") or "", LOGGED_MODEL_ATTRIBUTES),
        [translate(clause, LOGGED_MODEL_ATTRIBUTES, "order_by") for clause in order_by],
    )
    chosen, extra = page(found, msg, default=100, maximum=MAX_LOGGED_MODELS_PAGE)
    return JSON({"models": [logged_model_json(model) for model in chosen], **extra})


@router.get("/{model_id}")
def get_logged_model(model_id: str, logged_models: LoggedModels) -> JSON:
    return _json(logged_models.get(model_id))


@router.patch("/{model_id}")
def finalize_logged_model(model_id: str, msg: Msg, logged_models: LoggedModels) -> JSON:
    status = _STATUSES.get(msg.required("status"))
    if status is None:
        raise InvalidArgument(f"status must be one of {', '.join(_STATUSES)}", field="status")
    return _json(logged_models.finalize(model_id, status))


@router.delete("/{model_id}")
def delete_logged_model(model_id: str, logged_models: LoggedModels) -> JSON:
    logged_models.delete(model_id)
    return JSON({})


@router.patch("/{model_id}/tags")
def set_logged_model_tags(model_id: str, msg: Msg, logged_models: LoggedModels) -> JSON:
    logged_models.set_tags(model_id, msg.key_values("tags"))
    return JSON({})


@router.delete("/{model_id}/tags/{key:path}")
def delete_logged_model_tag(model_id: str, key: str, logged_models: LoggedModels) -> JSON:
    logged_models.delete_tag(model_id, key)
    return JSON({})


@router.post("/{model_id}/params")
def log_logged_model_params(model_id: str, msg: Msg, logged_models: LoggedModels) -> JSON:
    logged_models.log_params(model_id, msg.key_values("params"))
    return JSON({})


@outputs_router.post("/outputs")
def log_outputs(msg: Msg, tracking: Tracking, logged_models: LoggedModels) -> JSON:
    """Link models to a run as its outputs. A logged model already belongs to the run that saved it, so this
    only checks that the run and the models exist."""
    tracking.get_run(msg.required("run_id"))
    for index, item in enumerate(msg.objects("models")):
        model_id = item.get("model_id")
        if not isinstance(model_id, str):
            raise InvalidArgument("models[].model_id must be a string", field=f"models[{index}].model_id")
        logged_models.get(model_id)
    return JSON({})
