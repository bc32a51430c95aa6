"""/api/2.0/mlflow/registered-models/*: registered models, their tags and aliases."""

from __future__ import annotations

from fastapi import APIRouter

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.registry import RegisteredModel
from ridgeline.server.deps import Registry, Who
from ridgeline.server.mlflow.errors import MlflowRoute
from ridgeline.server.mlflow.filters import translate, translate_order_by
from ridgeline.server.mlflow.messages import Msg
from ridgeline.server.mlflow.paging import page
from ridgeline.server.mlflow.registry_messages import registered_model_json, version_json
from ridgeline.server.responses import JSON
from ridgeline.services.registry import RegistryService

router = APIRouter(prefix="/registered-models", route_class=MlflowRoute)

MODEL_ATTRIBUTES = {
    "name": "name",
    "creation_timestamp": "start_time",
    "last_updated_timestamp": "end_time",
}
# MLflow's client appends "tag.`mlflow.prompt.is_prompt` != 'true'" to every search; Ridgeline has no prompts,
# so every model reads as "not a prompt" even without the tag.
_NOT_A_PROMPT = {"mlflow.prompt.is_prompt": "false"}
MAX_MODELS_PAGE = 1000


def _json(registry: RegistryService, model: RegisteredModel) -> JSON:
    return JSON({"registered_model": registered_model_json(model, registry.latest_versions(model.name))})


@router.post("/create")
def create_registered_model(msg: Msg, registry: Registry, who: Who) -> JSON:
    model = registry.create_model(
        msg.required("name"),
        description=msg.text("description") or "",
        tags=msg.key_values("tags"),
        owner=who,
    )
    return _json(registry, model)


@router.get("/get")
def get_registered_model(msg: Msg, registry: Registry) -> JSON:
    return _json(registry, registry.get_model(msg.required("name")))


@router.api_route("/search", methods=["GET", "POST"])
def search_registered_models(msg: Msg, registry: Registry) -> JSON:
    models = registry.search_models(
        translate(msg.text("filter") or "", MODEL_ATTRIBUTES),
        translate_order_by(msg.texts("order_by"), MODEL_ATTRIBUTES),
        tag_defaults=_NOT_A_PROMPT,
    )
    chosen, extra = page(models, msg, default=100, maximum=MAX_MODELS_PAGE)
    return JSON(
        {
            "registered_models": [
                registered_model_json(model, registry.latest_versions(model.name)) for model in chosen
            ],
            **extra,
        }
    )


@router.patch("/update")
def update_registered_model(msg: Msg, registry: Registry) -> JSON:
    return _json(registry, registry.update_model(msg.required("name"), description=msg.text("description")))


@router.post("/rename")
def rename_registered_model(msg: Msg, registry: Registry) -> JSON:
    return _json(registry, registry.update_model(msg.required("name"), new_name=msg.required("new_name")))


@router.delete("/delete")
def delete_registered_model(msg: Msg, registry: Registry) -> JSON:
    registry.delete_model(msg.required("name"))
    return JSON({})


@router.post("/set-tag")
def set_registered_model_tag(msg: Msg, registry: Registry) -> JSON:
    registry.set_model_tag(msg.required("name"), msg.required("key"), msg.text("value") or "")
    return JSON({})


@router.delete("/delete-tag")
def delete_registered_model_tag(msg: Msg, registry: Registry) -> JSON:
    registry.delete_model_tag(msg.required("name"), msg.required("key"))
    return JSON({})


@router.post("/alias")
def set_registered_model_alias(msg: Msg, registry: Registry, who: Who) -> JSON:
    registry.set_alias(msg.required("name"), msg.required("alias"), msg.required("version"), user=who)
    return JSON({})


@router.delete("/alias")
def delete_registered_model_alias(msg: Msg, registry: Registry, who: Who) -> JSON:
    registry.delete_alias(msg.required("name"), msg.required("alias"), user=who)
    return JSON({})


@router.get("/alias")
def get_model_version_by_alias(msg: Msg, registry: Registry) -> JSON:
    name, alias = msg.required("name"), msg.required("alias")
    model = registry.get_model(name)
    if alias not in model.aliases:
        # MLflow's reference server answers an unknown alias this way, not with a 404.
        raise InvalidArgument(f"Registered model alias {alias} not found.", field="alias")
    return JSON({"model_version": version_json(registry.get_version_by_alias(name, alias))})


@router.api_route("/get-latest-versions", methods=["GET", "POST"])
def get_latest_versions(msg: Msg, registry: Registry) -> JSON:
    versions = registry.latest_versions(msg.required("name"), msg.texts("stages") or None)
    return JSON({"model_versions": [version_json(version) for version in versions]})
