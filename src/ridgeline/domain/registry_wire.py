"""JSON shapes of the native registry API, shared by the server (encoding) and the SDK (decoding); pure functions.

Keys are the entities' field names, so the wire form and the dataclasses cannot drift apart silently; only
values JSON cannot carry as they are change form (enums as their text, non-finite metrics as strings).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from ridgeline.domain.registry import AliasEvent, ModelVersion, RegisteredModel, VersionStatus
from ridgeline.domain.wire import decode_value, encode_value

E = TypeVar("E", RegisteredModel, ModelVersion, AliasEvent)


def _to_json(entity: RegisteredModel | ModelVersion | AliasEvent) -> dict[str, Any]:
    return {item.name: getattr(entity, item.name) for item in fields(entity)}


def _from_json(cls: type[E], data: dict[str, Any], **decoded: Any) -> E:
    # Keys a newer server adds are skipped, so an older SDK keeps reading it.
    known = {item.name: data[item.name] for item in fields(cls) if item.name in data}
    return cls(**{**known, **decoded})


def registered_model_to_json(model: RegisteredModel) -> dict[str, Any]:
    return _to_json(model)


def registered_model_from_json(data: dict[str, Any]) -> RegisteredModel:
    return _from_json(RegisteredModel, data)


def model_version_to_json(version: ModelVersion) -> dict[str, Any]:
    body = _to_json(version)
    body["status"] = version.status.value
    body["metrics"] = {key: encode_value(value) for key, value in version.metrics.items()}
    return body


def model_version_from_json(data: dict[str, Any]) -> ModelVersion:
    return _from_json(
        ModelVersion,
        data,
        status=VersionStatus(data["status"]),
        metrics={key: decode_value(value) for key, value in data.get("metrics", {}).items()},
    )


def alias_event_to_json(event: AliasEvent) -> dict[str, Any]:
    return _to_json(event)


def alias_event_from_json(data: dict[str, Any]) -> AliasEvent:
    return _from_json(AliasEvent, data)
