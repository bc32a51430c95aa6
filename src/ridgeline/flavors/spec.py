"""Signature entities and their JSON form (docs/model-format.md): named, typed columns (a table) or a tensor.

Numpy is the only import: reading a signature back needs neither pandas nor a framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ridgeline.domain.errors import InvalidArgument

COLUMN_TYPES: tuple[str, ...] = ("boolean", "integer", "long", "float", "double", "string", "datetime")


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str
    type: str
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class TensorSpec:
    dtype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class TableSpec:
    columns: tuple[ColumnSpec, ...]
    format: Literal["dataframe", "ndarray"] = "dataframe"

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]


Spec = TableSpec | TensorSpec


@dataclass(frozen=True)
class Signature:
    inputs: Spec
    outputs: Spec | None = None

    def to_json(self) -> dict[str, Any]:
        return {"inputs": _spec_to_json(self.inputs), "outputs": _spec_to_json(self.outputs)}

    @classmethod
    def from_json(cls, data: Any) -> Signature:
        """Read the JSON form back; anything malformed is an ``InvalidArgument`` on ``signature``."""
        if not isinstance(data, Mapping) or "inputs" not in data:
            raise InvalidArgument("a signature is an object with 'inputs' (and 'outputs')", field="signature")
        outputs = data.get("outputs")
        return cls(_spec_from_json(data["inputs"]), None if outputs is None else _spec_from_json(outputs))


def _spec_to_json(spec: Spec | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    if isinstance(spec, TensorSpec):
        return {"type": "tensor", "dtype": spec.dtype, "shape": list(spec.shape)}
    columns = [{"name": col.name, "type": col.type, "nullable": col.nullable} for col in spec.columns]
    return {"type": "table", "format": spec.format, "columns": columns}


def _spec_from_json(data: Any) -> Spec:
    try:
        if data["type"] == "tensor":
            shape = tuple(int(size) for size in data["shape"])
            return TensorSpec(str(np.dtype(data["dtype"])), shape)
        if data["type"] == "table" and data.get("format", "dataframe") in ("dataframe", "ndarray"):
            columns = tuple(
                ColumnSpec(str(col["name"]), str(col["type"]), bool(col.get("nullable", False)))
                for col in data["columns"]
            )
            if columns and all(col.type in COLUMN_TYPES for col in columns):
                return TableSpec(columns, data.get("format", "dataframe"))
    except (KeyError, TypeError, ValueError):
        pass
    raise InvalidArgument(f"malformed signature part: {data!r:.200}", field="signature")
