"""/api/v1/models, /api/v1/model-versions and /api/v1/resolve: Ridgeline's own view of the model registry.

The same registry the MLflow-compatible API writes (server/mlflow/registered_models.py, model_versions.py), in
Ridgeline's shapes: entities as domain/registry_wire.py encodes them, filters in Ridgeline's grammar, errors as
``{"error": {...}}``. Every write answers with what it changed; deleting a model, a version or an alias
answers 204.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.registry import ModelVersion, RegisteredModel, VersionStatus, check_model_name
from ridgeline.domain.registry_wire import alias_event_to_json, model_version_to_json, registered_model_to_json
from ridgeline.server.api.registry_schemas import (
    AliasHistory,
    AliasTarget,
    ModelCreate,
    ModelList,
    ModelUpdate,
    ModelVersionOut,
    RegisteredModelOut,
    TagValue,
    VersionCreate,
    VersionList,
    VersionUpdate,
)
from ridgeline.server.deps import Registry, Tracking, Who
from ridgeline.server.responses import ERROR_RESPONSES, JSON
from ridgeline.services.registry import VersionSpec, search, version_view

router = APIRouter(tags=["registry"], responses=ERROR_RESPONSES)

_ENCODED_SLASH_IN_NAME = re.compile(r"/models/[^/]*%2f", re.IGNORECASE)


def _model_name(
    request: Request,
    name: Annotated[str, Path(description="the registered model's name, URL-encoded (a space is %20)")],
) -> str:
    # Routing sees the decoded path, so a name sent with an encoded '/' would reach another route:
    # DELETE /models/a%2Fversions%2F1 would delete version 1 of model "a". Names never hold '/'; refuse it.
    raw: bytes = request.scope.get("raw_path", b"")
    if _ENCODED_SLASH_IN_NAME.search(raw.decode("latin-1")):
        raise InvalidArgument("a registered model name may not contain '/'", field="name")
    return name


ModelName = Annotated[str, Depends(_model_name)]
VersionNumber = Annotated[str, Path(description="the version number: 1, 2, …")]
TagKey = Annotated[str, Path(description="the tag key (it may contain '/')")]
AliasName = Annotated[str, Path(description="an alias such as champion: a letter or '_', then letters, digits, _ -")]
Filter = Annotated[
    str | None, Query(description="a filter in Ridgeline's grammar (docs/search.md), e.g. tags.team = 'growth'")
]


def _model(model: RegisteredModel) -> JSON:
    return JSON(registered_model_to_json(model))


def _version(version: ModelVersion, status_code: int = 200) -> JSON:
    return JSON(model_version_to_json(version), status_code=status_code)


def _versions(versions: list[ModelVersion]) -> JSON:
    return JSON({"versions": [model_version_to_json(version) for version in versions]})


# registered models -----------------------------------------------------------------------------------------


@router.get("/models", response_model=ModelList)
def search_models(
    registry: Registry,
    filter: Filter = None,
    order_by: Annotated[
        list[str] | None,
        Query(description="e.g. attributes.start_time desc; repeat for more keys. Default: by name"),
    ] = None,
) -> JSON:
    """Registered models matching `filter`. Attributes: `name`, `id`, `user` (the owner), `start_time` (created)
    and `end_time` (last change), epoch ms; and `tags.KEY`."""
    models = registry.search_models(filter, order_by)
    return JSON({"models": [registered_model_to_json(model) for model in models]})


@router.post("/models", response_model=RegisteredModelOut, status_code=201)
def create_model(body: ModelCreate, registry: Registry, who: Who) -> JSON:
    """Register a model name (no versions yet). 409 ALREADY_EXISTS when the name is taken."""
    model = registry.create_model(body.name, description=body.description, tags=body.tags, owner=who)
    return JSON(registered_model_to_json(model), status_code=201)


@router.get("/models/{name}", response_model=RegisteredModelOut)
def get_model(name: ModelName, registry: Registry) -> JSON:
    return _model(registry.get_model(name))


@router.patch("/models/{name}", response_model=RegisteredModelOut)
def update_model(name: ModelName, body: ModelUpdate, registry: Registry) -> JSON:
    """Change the description, or rename the model (`name`)."""
    if body.name is not None:
        check_model_name(body.name)  # checked here too, so that an error names the body's field
    return _model(registry.update_model(name, description=body.description, new_name=body.name))


@router.delete("/models/{name}", status_code=204)
def delete_model(name: ModelName, registry: Registry) -> Response:
    """Delete the model with its versions, aliases and alias history. The runs keep the versions' files."""
    registry.delete_model(name)
    return Response(status_code=204)


@router.put("/models/{name}/tags/{key:path}", response_model=RegisteredModelOut)
def set_model_tag(name: ModelName, key: TagKey, body: TagValue, registry: Registry) -> JSON:
    registry.set_model_tag(name, key, body.value)
    return _model(registry.get_model(name))


@router.delete("/models/{name}/tags/{key:path}", response_model=RegisteredModelOut)
def delete_model_tag(name: ModelName, key: TagKey, registry: Registry) -> JSON:
    """404 when the model has no such tag."""
    registry.delete_model_tag(name, key)
    return _model(registry.get_model(name))


# versions --------------------------------------------------------------------------------------------------


@router.get("/models/{name}/versions", response_model=VersionList)
def list_versions(name: ModelName, registry: Registry) -> JSON:
    """Every version of the model, newest first."""
    return _versions(registry.versions(name))


@router.post("/models/{name}/versions", response_model=ModelVersionOut, status_code=201)
def create_version(name: ModelName, body: VersionCreate, registry: Registry, who: Who) -> JSON:
    """Register the next version from `source`; the producing run's latest metrics and git commit are copied."""
    spec = VersionSpec(source=body.source, run_id=body.run_id, description=body.description, tags=body.tags)
    return _version(registry.create_version(name, spec, user=who), status_code=201)


@router.get("/models/{name}/versions/{version}", response_model=ModelVersionOut)
def get_version(name: ModelName, version: VersionNumber, registry: Registry) -> JSON:
    return _version(registry.get_version(name, version))


@router.patch("/models/{name}/versions/{version}", response_model=ModelVersionOut)
def update_version(name: ModelName, version: VersionNumber, body: VersionUpdate, registry: Registry) -> JSON:
    status = None if body.status is None else VersionStatus(body.status)
    updated = registry.update_version(
        name, version, description=body.description, status=status, status_message=body.status_message
    )
    return _version(updated)


@router.delete("/models/{name}/versions/{version}", status_code=204)
def delete_version(name: ModelName, version: VersionNumber, registry: Registry, who: Who) -> Response:
    """Delete the version; aliases pointing at it are deleted too (recorded in the alias history). Its number
    is never given out again, and its run keeps the files."""
    registry.delete_version(name, version, user=who)
    return Response(status_code=204)


@router.put("/models/{name}/versions/{version}/tags/{key:path}", response_model=ModelVersionOut)
def set_version_tag(name: ModelName, version: VersionNumber, key: TagKey, body: TagValue, registry: Registry) -> JSON:
    registry.set_version_tag(name, version, key, body.value)
    return _version(registry.get_version(name, version))


@router.delete("/models/{name}/versions/{version}/tags/{key:path}", response_model=ModelVersionOut)
def delete_version_tag(name: ModelName, version: VersionNumber, key: TagKey, registry: Registry) -> JSON:
    """404 when the version has no such tag."""
    registry.delete_version_tag(name, version, key)
    return _version(registry.get_version(name, version))


# aliases ---------------------------------------------------------------------------------------------------


@router.put("/models/{name}/aliases/{alias}", response_model=ModelVersionOut)
def set_alias(name: ModelName, alias: AliasName, body: AliasTarget, registry: Registry, who: Who) -> JSON:
    """Point the alias at a version, creating or moving it; answers that version. `latest` and `v<N>` are
    reserved (they name versions in models:/ URIs)."""
    registry.set_alias(name, alias, body.version, user=who)
    return _version(registry.get_version_by_alias(name, alias))


@router.get("/models/{name}/aliases/{alias}", response_model=ModelVersionOut)
def get_alias(name: ModelName, alias: AliasName, registry: Registry) -> JSON:
    """The version the alias points at; 404 when the model has no such alias."""
    return _version(registry.get_version_by_alias(name, alias))


@router.delete("/models/{name}/aliases/{alias}", status_code=204)
def delete_alias(name: ModelName, alias: AliasName, registry: Registry, who: Who) -> Response:
    """Remove the alias (the version stays); 404 when the model has no such alias."""
    registry.delete_alias(name, alias, user=who)
    return Response(status_code=204)


@router.get("/models/{name}/alias-history", response_model=AliasHistory)
def alias_history(
    name: ModelName,
    registry: Registry,
    alias: Annotated[str | None, Query(description="only this alias's moves")] = None,
) -> JSON:
    """Every move of the model's aliases, oldest first: creation (`from_version` null), moves, and deletion
    (`to_version` null, also when the version it pointed at was deleted), with who and when."""
    events = registry.alias_history(name, alias)
    return JSON({"events": [alias_event_to_json(event) for event in events]})


# lookups across models -------------------------------------------------------------------------------------


@router.get("/model-versions", response_model=VersionList)
def search_versions(
    registry: Registry,
    tracking: Tracking,
    run_id: Annotated[
        list[str] | None, Query(description="only versions registered from this run (lineage); repeatable")
    ] = None,
    filter: Filter = None,
    order_by: Annotated[
        list[str] | None, Query(description="e.g. metrics.acc desc; default: by model name, then newest version first")
    ] = None,
) -> JSON:
    """Versions of every model matching `filter`. Attributes: `name` (the model's), `run_id`, `status`, `user`
    (who registered it), `start_time`/`end_time`; `tags.KEY` and `metrics.KEY` (copied from the run)."""
    if not run_id:
        return _versions(registry.search_versions(filter, order_by))
    for each in run_id:
        tracking.get_run(each)  # an unknown run is a 404, not an empty lineage
    found = registry.versions_of_runs(run_id)
    return _versions(search(found, [version_view(version) for version in found], filter, order_by))


@router.get("/resolve", response_model=ModelVersionOut)
def resolve(
    uri: Annotated[
        str, Query(description="models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/latest or models:/NAME/STAGE")
    ],
    registry: Registry,
) -> JSON:
    """The version a models:/ URI names (URL-encode the URI: '@' and spaces are fine that way)."""
    return _version(registry.resolve(uri))
