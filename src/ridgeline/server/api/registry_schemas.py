"""Request and response schemas of the native registry API (/api/v1/models, …); responses are for the docs only,
the bodies themselves come from domain/registry_wire.py."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ridgeline.server.schemas import Strict

_TAGS = "tags as {key: value}: keys as for run tags (letters, digits, '_ - . / :' and inner spaces), text values"


class ModelCreate(Strict):
    name: str = Field(
        description="1-250 characters; spaces, dots and dashes are fine, '/', '@' and control characters are not "
        "(they would break models:/ URIs)"
    )
    description: str = ""
    tags: dict[str, str] | None = Field(None, description=_TAGS)


class ModelUpdate(Strict):
    name: str | None = Field(None, description="a new name (a rename); versions, aliases and tags follow the model")
    description: str | None = None


class TagValue(Strict):
    value: str = Field(description="at most 8000 characters")


class VersionCreate(Strict):
    source: str = Field(
        description="where the version's files are: runs:/RUN_ID/PATH, models:/m-<id> (a logged model), "
        "models:/NAME/VERSION or @ALIAS (the files of another version), or mlflow-artifacts:/EXP/RUN/artifacts/PATH"
    )
    run_id: str | None = Field(
        None,
        description="the run that produced it (lineage; its latest metrics and git commit are copied); "
        "default: the run the source names",
    )
    description: str = ""
    tags: dict[str, str] | None = Field(None, description=_TAGS)


class VersionUpdate(Strict):
    description: str | None = None
    status: Literal["PENDING", "READY", "FAILED"] | None = Field(None, description="where registration stands")
    status_message: str | None = Field(None, description="why, when the status is FAILED")


class AliasTarget(Strict):
    version: int = Field(ge=1, description="the version number the alias points at from now on")


class RegisteredModelOut(BaseModel):
    id: str
    name: str
    description: str
    owner: str = Field(description="who created it")
    created_at: int = Field(description="epoch milliseconds")
    updated_at: int = Field(description="epoch milliseconds of the last change, a new version included")
    tags: dict[str, str]
    aliases: dict[str, int] = Field(description="alias → version number, by alias")
    latest_version: int | None = Field(description="the highest version number there is; null with no version")


class ModelVersionOut(BaseModel):
    id: str
    model_id: str
    model_name: str
    version: int = Field(description="numbered from 1 per model; a number is never reused, even after a delete")
    source: str = Field(description="the source it was registered from")
    run_id: str | None = Field(description="the run that produced it (lineage)")
    artifact_run_id: str | None = Field(description="the run whose artifacts hold its files")
    artifact_path: str = Field(description="the folder of those artifacts holding its files")
    logged_model_id: str | None = Field(description="the logged model (models:/m-…) it was registered from")
    status: Literal["PENDING", "READY", "FAILED"]
    status_message: str
    stage: str = Field(description="MLflow's deprecated stage: None, Staging, Production or Archived")
    description: str
    flavor: str | None
    signature: dict[str, Any] | None
    metrics: dict[str, float | str] = Field(
        description="the run's latest metric values when registered; non-finite ones as 'NaN', 'Infinity', …"
    )
    git_commit: str | None = Field(description="the commit the run recorded, if any")
    created_by: str
    created_at: int
    updated_at: int
    tags: dict[str, str]
    aliases: list[str] = Field(description="the aliases pointing at this version, sorted")


class AliasEventOut(BaseModel):
    model_name: str
    alias: str
    from_version: int | None = Field(description="where it pointed before; null when the alias was created")
    to_version: int | None = Field(description="where it points after; null when the alias was deleted")
    actor: str = Field(description="who moved it")
    at: int = Field(description="epoch milliseconds")


class ModelList(BaseModel):
    models: list[RegisteredModelOut]


class VersionList(BaseModel):
    versions: list[ModelVersionOut]


class AliasHistory(BaseModel):
    events: list[AliasEventOut] = Field(description="oldest first")
