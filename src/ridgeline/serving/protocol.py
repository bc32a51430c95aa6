"""MLflow's scoring protocol: request bodies into model input, predictions into response bodies.

Accepted on ``POST /invocations`` (as ``mlflow models serve`` accepts them):

- ``application/json`` with exactly one of ``dataframe_split`` (``{"columns": [...], "data": [[...]]}``),
  ``dataframe_records`` (``[{column: value}, ...]``), ``instances`` or ``inputs`` (a list of records, a list of
  rows or scalars for array models, or ``{column: [values]}``);
- ``text/csv`` with a header row.

Everything else is refused with a 4xx that names the problem, before a model sees it.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import orjson

from ridgeline.domain.errors import InvalidArgument, RidgelineError

if TYPE_CHECKING:
    import pandas as pd

# What a request carries, as close to the wire as possible: prepare_input takes records and columns directly,
# which is faster than building a DataFrame first for one-row requests.
Input = Any  # pd.DataFrame | np.ndarray | list[dict[str, Any]] | dict[str, list[Any]]

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
JSON_TYPE = "application/json"
CSV_TYPE = "text/csv"
_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


class UnsupportedMediaType(RidgelineError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


def _media_type(content_type: str | None) -> str:
    if not content_type:
        raise UnsupportedMediaType(
            f"a Content-Type header is required: {JSON_TYPE} or {CSV_TYPE}", field="content-type"
        )
    kind, _, parameters = content_type.partition(";")
    for parameter in parameters.split(";"):
        key, _, value = parameter.strip().partition("=")
        if key and (key.lower() != "charset" or value.strip().strip('"').lower() not in ("utf-8", "utf8")):
            raise UnsupportedMediaType(
                f"unsupported Content-Type parameter {parameter.strip()!r}: only charset=utf-8", field="content-type"
            )
    kind = kind.strip().lower()
    if kind not in (JSON_TYPE, CSV_TYPE):
        raise UnsupportedMediaType(
            f"Content-Type {kind!r} is not accepted: send {JSON_TYPE} (MLflow's scoring protocol) or {CSV_TYPE}"
            + ("; the server never unpickles" if "pickle" in kind or "octet" in kind else ""),
            field="content-type",
        )
    return kind


def parse(body: bytes, content_type: str | None) -> Input:
    """The model input a request carries: a DataFrame (split, CSV), records, columns, or an array of plain rows."""
    kind = _media_type(content_type)
    if not body.strip():
        raise InvalidArgument("the request body is empty", field="body")
    if body.startswith(_PICKLE_MAGIC):
        raise InvalidArgument(
            "the body looks like Python pickle bytes; the server never unpickles: send JSON or CSV", field="body"
        )
    return _parse_csv(body) if kind == CSV_TYPE else _parse_json(body)


def _parse_csv(body: bytes) -> pd.DataFrame:
    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(body), encoding="utf-8")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InvalidArgument(f"the body is not valid CSV with a header row: {exc}", field="body") from None
    if frame.empty:
        raise InvalidArgument("the CSV body has a header but no rows", field="body")
    return frame


def _parse_json(body: bytes) -> Input:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidArgument(f"the body is not valid JSON: {exc}", field="body") from None
    if not isinstance(document, dict):
        raise InvalidArgument(
            f"the JSON body must be an object with one of the keys {', '.join(FORMATS)}", field="body"
        )
    keys = [key for key in document if key in FORMATS]
    unknown = sorted(set(document) - set(FORMATS))
    if len(keys) != 1 or unknown:
        found = ", ".join(sorted(document)) or "none"
        raise InvalidArgument(
            f"the JSON body must hold exactly one of {', '.join(FORMATS)} and nothing else; it has: {found}",
            field="body",
        )
    key = keys[0]
    value = document[key]
    if key == "dataframe_split":
        return _from_split(value)
    if key == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(record, dict) for record in value):
            raise InvalidArgument("dataframe_records must be a list of objects {column: value}", field=key)
        return _records(value, key)
    return _from_tensor_input(value, key)


def _records(records: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    if not records:
        raise InvalidArgument(f"{field} holds no rows", field=field)
    return records


def _columns(columns: dict[str, Any], field: str) -> dict[str, list[Any]]:
    lengths = {len(values) if isinstance(values, list) else -1 for values in columns.values()}
    if not columns or -1 in lengths or len(lengths) != 1:
        raise InvalidArgument(f"{field} as columns must map each column to a list, all of the same length", field=field)
    if lengths == {0}:
        raise InvalidArgument(f"{field} holds no rows", field=field)
    return columns


def as_frame(data: Input) -> Any:
    """The input as a DataFrame (records and columns) or array, for a model without a signature."""
    import pandas as pd

    if isinstance(data, list):
        return pd.DataFrame.from_records(data)
    if isinstance(data, dict):
        return pd.DataFrame(data)
    return data


def _from_split(value: Any) -> Input:
    """Columns by name when the split names them (no DataFrame built here: prepare_input takes columns faster),
    else a DataFrame with positional columns as MLflow makes one."""
    import pandas as pd

    field = "dataframe_split"
    if not isinstance(value, dict) or not set(value) <= {"columns", "data", "index"} or "data" not in value:
        raise InvalidArgument(f'{field} must be {{"columns": [...], "data": [[...], ...]}}', field=field)
    columns, rows = value.get("columns"), value["data"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise InvalidArgument(f"{field}.data must be a list of rows (lists)", field=f"{field}.data")
    if not rows:
        raise InvalidArgument(f"{field} holds no rows", field=f"{field}.data")
    if columns is None:
        return pd.DataFrame(rows)
    if not isinstance(columns, list) or not all(isinstance(name, str) for name in columns):
        raise InvalidArgument(f"{field}.columns must be a list of names", field=f"{field}.columns")
    if len(set(columns)) != len(columns):
        raise InvalidArgument(f"{field}.columns names a column twice", field=f"{field}.columns")
    wrong = next((i for i, row in enumerate(rows) if len(row) != len(columns)), None)
    if wrong is not None:
        raise InvalidArgument(
            f"{field}.data row {wrong} has {len(rows[wrong])} values for {len(columns)} columns",
            field=f"{field}.data",
        )
    return {name: list(values) for name, values in zip(columns, zip(*rows, strict=True), strict=True)}


def _from_tensor_input(value: Any, field: str) -> Input:
    import numpy as np

    if isinstance(value, dict):
        return _columns(value, field)
    if not isinstance(value, list) or not value:
        raise InvalidArgument(
            f"{field} must be a non-empty list (of records or rows) or {{column: [values]}}", field=field
        )
    if all(isinstance(item, dict) for item in value):
        return _records(value, field)
    if any(isinstance(item, dict) for item in value):
        raise InvalidArgument(f"{field} mixes records (objects) with other values", field=field)
    try:
        array = np.asarray(value)
    except ValueError as exc:
        raise InvalidArgument(f"{field} is not a regular array (rows of unequal length?): {exc}", field=field) from None
    if array.dtype == object:
        raise InvalidArgument(f"{field} is not a regular array of numbers or strings", field=field)
    return array


def render(predictions: Any, extra: dict[str, Any]) -> bytes:
    """``{"predictions": [...], **extra}``: a DataFrame as records, a Series or array as a list."""
    return orjson.dumps({"predictions": jsonable(predictions), **extra}, option=orjson.OPT_SERIALIZE_NUMPY)


def jsonable(predictions: Any) -> Any:
    import numpy as np

    if hasattr(predictions, "to_dict") and hasattr(predictions, "columns"):
        return predictions.to_dict(orient="records")
    if hasattr(predictions, "to_numpy"):
        predictions = predictions.to_numpy()
    if isinstance(predictions, np.ndarray):
        # orjson serialises native-endian numeric arrays itself; object/string arrays need lists.
        return (
            predictions if predictions.dtype.kind in "biuf" and predictions.flags.c_contiguous else predictions.tolist()
        )
    return predictions
