"""MLflow dataset inputs ↔ Ridgeline dataset versions and run inputs.

An MLflow dataset (``name``, ``digest``, ``source_type``, ``source``, ``schema``, ``profile``; the last three
are JSON text) becomes a version of the Ridgeline dataset of that name: the digest is kept as the version's
digest, MLflow's four descriptive strings are kept verbatim inside the version's profile (under
:data:`ORIGINAL`), so they read back exactly as logged, and the columns, row count and a readable source are
derived from them for Ridgeline's pages. The input tag ``mlflow.data.context`` is the input's context.

Versions logged by the Ridgeline SDK read back as MLflow datasets too: their source becomes a ``{"uri": …}``
(``{"url": …}`` for HTTP) source, their columns an ``mlflow_colspec`` schema where every dtype has an MLflow
type, their row count a ``{"num_rows": …}`` profile.
"""

from __future__ import annotations

import json
from typing import Any

from ridgeline.domain import validation as v
from ridgeline.domain.entities import DatasetVersion, RunInput
from ridgeline.domain.errors import InvalidArgument
from ridgeline.services.datasets import InputSpec

CONTEXT_TAG = "mlflow.data.context"
# Key of the version's profile that holds MLflow's own strings (Ridgeline's profile keys never clash with it).
ORIGINAL = "mlflow_dataset"
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
    schema, profile = _json_object(fields.get("schema")), _json_object(fields.get("profile"))
    colspec = schema.get("mlflow_colspec")
    rows = profile.get("num_rows")
    version = {
        "digest": fields["digest"],
        "kind": "dataframe" if colspec is not None else "arrays" if "mlflow_tensorspec" in schema else "files",
        "rows": rows if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0 else None,
        "size_bytes": None,
        "schema": [
            {"name": str(column.get("name", "")), "dtype": str(column.get("type", ""))}
            for column in (colspec if isinstance(colspec, list) else [])
            if isinstance(column, dict)
        ],
        "profile": {ORIGINAL: {key: fields[key] for key in ("source_type", "source", *_OPTIONAL) if key in fields}},
        "source": _readable_source(fields["source_type"], fields["source"]),
    }
    return InputSpec(fields["name"], context, version)


def _json_object(text: str | None) -> dict[str, Any]:
    """MLflow's JSON text as an object to read derived facts from; anything else yields none."""
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _readable_source(source_type: str, source: str) -> str:
    """Where the data came from, for Ridgeline's pages: the source's URI or URL, else its type."""
    found = _json_object(source)
    for key in ("uri", "url", "path"):
        value = found.get(key)
        if isinstance(value, str) and 0 < len(value) <= v.MAX_TAG_VALUE_LENGTH and "\x00" not in value:
            return value
    return source_type


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
