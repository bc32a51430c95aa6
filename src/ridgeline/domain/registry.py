"""Model registry entities: registered models, their numbered versions, aliases and the history of alias moves,
and logged models (a model package saved by a run, before or without registration), plus model URIs."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from ridgeline.domain.errors import InvalidArgument

MAX_MODEL_NAME_LENGTH = 250
MAX_ALIAS_LENGTH = 250
MAX_DESCRIPTION_LENGTH = 100_000
# Aliases are identifiers; MLflow reserves "latest" and version-like spellings ("v3") for its own URIs.
_ALIAS = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_RESERVED_ALIAS = re.compile(r"latest|v\d+", re.IGNORECASE)
LOGGED_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")


class VersionStatus(enum.StrEnum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


class LoggedModelStatus(enum.StrEnum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


# MLflow's deprecated stages, kept so `transition_model_version_stage` and `models:/NAME/Production` still work.
STAGES = ("None", "Staging", "Production", "Archived")


@dataclass(frozen=True)
class RegisteredModel:
    id: str
    name: str
    description: str
    owner: str
    created_at: int
    updated_at: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_version: int | None = None


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model; its files are ``artifact_path`` in run ``artifact_run_id``."""

    id: str
    model_id: str
    model_name: str
    version: int
    source: str
    run_id: str | None
    artifact_run_id: str | None
    artifact_path: str
    logged_model_id: str | None
    status: VersionStatus
    status_message: str
    stage: str
    description: str
    flavor: str | None
    signature: dict[str, Any] | None
    metrics: dict[str, float]
    git_commit: str | None
    created_by: str
    created_at: int
    updated_at: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AliasEvent:
    """One move of an alias: ``from_version`` None is its creation, ``to_version`` None its deletion."""

    model_name: str
    alias: str
    from_version: int | None
    to_version: int | None
    actor: str
    at: int


@dataclass(frozen=True)
class LoggedModel:
    id: str
    project_id: str
    run_id: str
    name: str
    artifact_path: str
    status: LoggedModelStatus
    status_message: str
    model_type: str
    created_at: int
    updated_at: int
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelUri:
    """A parsed ``models:/`` URI: exactly one of ``version``, ``alias``, ``stage`` or ``logged_model_id``."""

    name: str | None = None
    version: int | None = None
    alias: str | None = None
    stage: str | None = None
    logged_model_id: str | None = None


def check_model_name(value: object, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument("a registered model name is a non-empty string", field=field)
    if value != value.strip():
        raise InvalidArgument(f"registered model name {value!r} may not start or end with spaces", field=field)
    if len(value) > MAX_MODEL_NAME_LENGTH:
        raise InvalidArgument(f"a registered model name has at most {MAX_MODEL_NAME_LENGTH} characters", field=field)
    if "/" in value or "@" in value or any(ord(char) < 32 for char in value):
        raise InvalidArgument(
            f"registered model name {value!r} may not contain '/', '@' or control characters "
            "(they would break models:/ URIs)",
            field=field,
        )
    return value


def check_alias(value: object, field: str = "alias") -> str:
    if not isinstance(value, str) or not _ALIAS.fullmatch(value) or len(value) > MAX_ALIAS_LENGTH:
        raise InvalidArgument(
            f"alias {value!r} must start with a letter or '_' and hold only letters, digits, '_' and '-'", field=field
        )
    if _RESERVED_ALIAS.fullmatch(value):
        raise InvalidArgument(f"alias {value!r} is reserved (latest and v<N> name versions in URIs)", field=field)
    return value


def check_version(value: object, field: str = "version") -> int:
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text.isdigit() or int(text) < 1:
        raise InvalidArgument(f"a model version is a positive integer, got {value!r}", field=field)
    return int(text)


def parse_model_uri(uri: str) -> ModelUri:
    """``models:/NAME/VERSION``, ``models:/NAME@ALIAS``, ``models:/NAME/STAGE``, ``models:/NAME/latest`` or
    ``models:/m-<id>`` (a logged model)."""
    if not uri.startswith("models:/"):
        raise InvalidArgument(f"{uri!r} is not a models:/ URI", field="uri")
    rest = uri[len("models:/") :].strip("/")
    if LOGGED_MODEL_ID.fullmatch(rest):
        return ModelUri(logged_model_id=rest)
    if "@" in rest:
        name, alias = rest.rsplit("@", 1)
        return ModelUri(name=check_model_name(name, "uri"), alias=check_alias(alias, "uri"))
    name, _, selector = rest.rpartition("/")
    if not name or not selector:
        raise InvalidArgument(
            f"{uri!r} names no version: use models:/NAME/VERSION, models:/NAME@ALIAS or models:/NAME/latest",
            field="uri",
        )
    check_model_name(name, "uri")
    if selector.isdigit():
        return ModelUri(name=name, version=check_version(selector, "uri"))
    if selector.lower() == "latest":
        return ModelUri(name=name)
    stage = next((stage for stage in STAGES if stage.lower() == selector.lower()), None)
    if stage is None:
        raise InvalidArgument(f"{uri!r}: {selector!r} is not a version number, 'latest' or a stage", field="uri")
    return ModelUri(name=name, stage=stage)
