"""MLflow dataset inputs ↔ Ridgeline dataset versions and run inputs.

log-inputs requests are checked here and mapped by services/mlflow_datasets.py (the one mapping the importer
uses too): the version keeps MLflow's strings verbatim and derives columns, rows and a readable source.

Versions logged by the Ridgeline SDK read back as MLflow datasets too: their source becomes a ``{"uri": …}``
(``{"url": …}`` for HTTP) source, their columns an ``mlflow_colspec`` schema where every dtype has an MLflow
type, their row count a ``{"num_rows": …}`` profile.
"""

from __future__ import annotations

import json
from typing import Any

from ridgeline.domain.entities import DatasetVersion, RunInput
from ridgeline.domain.errors import InvalidArgument
from ridgeline.services.datasets import InputSpec
from ridgeline.services.mlflow_datasets import CONTEXT_TAG, ORIGINAL, version_of

_REQUIRED = ("name", "digest", "source_type", "source")
_OPTIONAL = ("schema", "profile")
# numpy/pandas dtype → MLflow's column type (mlflow.types.DataType), for SDK-logged versions.
_MLFLOW_TYPES = {
    "bool": "boolean",
    "int8": "integer",
    "int16": "integer",
    "int32": "integer",
    "int64": "long",
    "uint8": "integer",
    "uint16": "integer",
    "uint32": "long",
    "float16": "float",
    "float32": "float",
    "float64": "double",
    "object": "string",
    "str": "string",
    "string": "string",
    "category": "string",
    **{f"datetime64[{unit}]": "datetime" for unit in ("s", "ms", "us", "ns")},
}


def input_spec(dataset: Any, tags: dict[str, str], where: str) -> InputSpec:
    """The Ridgeline input for one ``DatasetInput`` of a log-inputs request (``where`` names it in errors)."""
    if not isinstance(dataset, dict):
        raise InvalidArgument(f"{where}.dataset must be an object", field=f"{where}.dataset")
    fields: dict[str, str] = {}
    for name in (*_REQUIRED, *_OPTIONAL):
        value = dataset.get(name)
        if value is None or (value == "" and name in _OPTIONAL):
            if name in _REQUIRED:
                raise InvalidArgument(f"{where}.dataset.{name} is required", field=f"{where}.dataset.{name}")
            continue
        if not isinstance(value, str) or (name in _REQUIRED and not value):
            raise InvalidArgument(f"{where}.dataset.{name} must be a non-empty string", field=f"{where}.dataset.{name}")
        fields[name] = value
    context = tags.pop(CONTEXT_TAG, "")
    if tags:
        raise InvalidArgument(
            f"{where}.tags: only the {CONTEXT_TAG} tag of a dataset input is kept; got {', '.join(sorted(tags))}",
            field=f"{where}.tags",
        )
    version = version_of(
        fields["digest"], fields["source_type"], fields["source"], fields.get("schema"), fields.get("profile")
    )
    return InputSpec(fields["name"], context, version)


def dataset_input_json(item: RunInput) -> dict[str, Any]:
    """One entry of ``run.inputs.dataset_inputs`` in MLflow's proto3 JSON shape."""
    version = item.version
    original = (version.profile or {}).get(ORIGINAL)
    described = original if isinstance(original, dict) else _described(version)
    return {
        "tags": [{"key": CONTEXT_TAG, "value": item.context}] if item.context else [],
        "dataset": {"name": version.dataset_name, "digest": version.digest, **described},
    }


def _described(version: DatasetVersion) -> dict[str, str]:
    """MLflow's descriptive strings for a version the Ridgeline SDK logged."""
    scheme = version.source.split("://", 1)[0].lower() if "://" in version.source else ""
    source_type = "http" if scheme in ("http", "https") else scheme or "local"
    described = {
        "source_type": source_type,
        "source": json.dumps({"url" if source_type == "http" else "uri": version.source}),
    }
    types = [_MLFLOW_TYPES.get(str(column.get("dtype", ""))) for column in version.schema]
    if version.kind != "arrays" and types and all(types):
        colspec = [
            {"type": kind, "name": column.get("name", ""), "required": True}
            for kind, column in zip(types, version.schema, strict=True)
        ]
        described["schema"] = json.dumps({"mlflow_colspec": colspec})
    if version.rows is not None:
        described["profile"] = json.dumps({"num_rows": version.rows})
    return described
