"""MLflow datasets as Ridgeline dataset versions: one mapping for every way they arrive.

An MLflow dataset (``name``, ``digest``, ``source_type``, ``source``, ``schema``, ``profile``; the last three are
JSON text) becomes a version of the Ridgeline dataset of that name: the digest is kept as the version's digest,
MLflow's four descriptive strings are kept verbatim inside the version's profile (under :data:`ORIGINAL`), so they
read back exactly as logged, and the columns, row count and a readable source are derived from them for
Ridgeline's pages. The input tag ``mlflow.data.context`` is the input's context.

``ridgeline import mlflow`` uses it; the MLflow-compatible API's ``runs/log-inputs`` (server/mlflow/inputs.py)
stores the same shape, so a dataset reads back the same whichever way it came in.
"""

from __future__ import annotations

import json
from typing import Any

from ridgeline.domain import validation as v

CONTEXT_TAG = "mlflow.data.context"
# Key of the version's profile that holds MLflow's own strings (Ridgeline's profile keys never clash with it).
ORIGINAL = "mlflow_dataset"


def version_of(digest: str, source_type: str, source: str, schema: str | None, profile: str | None) -> dict[str, Any]:
    """The Ridgeline version description (services/dataset_description.py's shape) of an MLflow dataset."""
    described = {"source_type": source_type, "source": source}
    described |= {name: text for name, text in (("schema", schema), ("profile", profile)) if text}
    parsed_schema, parsed_profile = _json_object(schema), _json_object(profile)
    colspec = parsed_schema.get("mlflow_colspec")
    rows = parsed_profile.get("num_rows")
    return {
        "digest": digest,
        "kind": "dataframe" if colspec is not None else "arrays" if "mlflow_tensorspec" in parsed_schema else "files",
        "rows": rows if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0 else None,
        "size_bytes": None,
        "schema": [
            {"name": str(column.get("name", "")), "dtype": str(column.get("type", ""))}
            for column in (colspec if isinstance(colspec, list) else [])
            if isinstance(column, dict)
        ],
        "profile": {ORIGINAL: described},
        "source": _readable_source(source_type, source),
    }


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
