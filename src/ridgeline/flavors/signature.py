"""Model signatures: what a model takes and gives, inferred from an input example, and ``prepare_input``, the one
check every input goes through before a model sees it (``ridgeline.load_model(...).predict`` and the model
server both call it).

Two input kinds:

- a *table*: named, typed columns. ``format`` says what the model is fed: a pandas DataFrame with exactly these
  columns in this order (the example was a DataFrame or a list of dicts), or a 2-D ndarray (the example was a 2-D
  array; its columns are named ``"0"``, ``"1"``, … and taken by position from a DataFrame or a list of rows);
- a *tensor*: a dtype and a shape (``-1`` any size), for examples of three or more dimensions (images, sequences).

See docs/model-format.md for the JSON form.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.spec import ColumnSpec, Signature, Spec, TableSpec, TensorSpec

__all__ = ["ColumnSpec", "Signature", "TableSpec", "TensorSpec", "infer_signature", "infer_spec", "prepare_input"]

_NUMPY: dict[str, Any] = {
    "boolean": np.bool_,
    "integer": np.int32,
    "long": np.int64,
    "float": np.float32,
    "double": np.float64,
    "string": object,
    "datetime": "datetime64[ns]",
}
_FLOATS = ("float", "double")
_INTEGERS = ("integer", "long")
ExtraColumns = Literal["ignore", "error"]


# inference ---------------------------------------------------------------------------------------------------


def infer_signature(example: Any, output: Any = None) -> Signature:
    """The signature of a model from an input example (DataFrame, ndarray or list of dicts) and, when given,
    the model's output on it."""
    return Signature(infer_spec(example, "input_example"), None if output is None else infer_spec(output, "output"))


def infer_spec(data: Any, field: str) -> Spec:
    if isinstance(data, pd.Series):
        data = data.to_numpy()
    if isinstance(data, list) and data and all(isinstance(row, Mapping) for row in data):
        data = pd.DataFrame(data)
    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise InvalidArgument("the example has no rows or no columns", field=field)
        return TableSpec(tuple(_column_spec(str(name), data[name]) for name in data.columns))
    array = _as_array(data, field)
    if array.ndim == 2 and array.dtype.kind in "biuf" and array.shape[1] > 0:
        kind = _dtype_type(array.dtype, field)
        nullable = np.isnan(array).any(axis=0) if array.dtype.kind == "f" else np.zeros(array.shape[1], bool)
        columns = tuple(ColumnSpec(str(i), kind, bool(nullable[i])) for i in range(array.shape[1]))
        return TableSpec(columns, "ndarray")
    return TensorSpec(str(array.dtype), (-1, *array.shape[1:]))


def _as_array(data: Any, field: str) -> np.ndarray[Any, Any]:
    try:
        array = np.asarray(data)
    except ValueError as exc:
        raise InvalidArgument(f"cannot read the {field} as an array: {exc}", field=field) from None
    if array.ndim == 0 or array.shape[0] == 0:
        raise InvalidArgument(f"the {field} is empty or a single value", field=field)
    if array.dtype.kind not in "biufM" and array.ndim > 1:
        raise InvalidArgument(f"the {field} holds {array.dtype} values, not numbers", field=field)
    return array


def _dtype_type(dtype: np.dtype[Any], field: str) -> str:
    if dtype.kind == "b":
        return "boolean"
    if dtype.kind in "iu":
        return "integer" if dtype.itemsize < 4 or dtype == np.int32 else "long"
    if dtype.kind == "f":
        return "float" if dtype.itemsize <= 4 else "double"
    if dtype.kind == "M":
        return "datetime"
    if dtype.kind in "OUS":
        return "string"
    raise InvalidArgument(f"values of type {dtype} cannot be described by a signature", field=field)


def _column_spec(name: str, column: pd.Series[Any]) -> ColumnSpec:
    nullable = bool(column.isna().any())
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return ColumnSpec(name, "datetime", nullable)
    if isinstance(dtype, np.dtype) and dtype.kind != "O":
        return ColumnSpec(name, _dtype_type(dtype, name), nullable)
    # Object and pandas extension dtypes: look at the values themselves.
    values = [value for value in column.dropna()]
    if values and all(isinstance(value, bool | np.bool_) for value in values):
        kind = "boolean"
    elif all(isinstance(value, str) for value in values):
        kind = "string"
    elif all(_is_number(value) for value in values):
        kind = "long" if all(isinstance(value, numbers.Integral) for value in values) else "double"
    else:
        raise InvalidArgument(f"column {name!r} mixes value types; give it one type", field=name)
    return ColumnSpec(name, kind, nullable)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


# preparing inputs --------------------------------------------------------------------------------------------


def prepare_input(
    data: Any, signature: Signature, *, extra_columns: ExtraColumns = "ignore", as_array: bool = False
) -> Any:
    """Check ``data`` (a pandas DataFrame, a numpy array, a list of dicts or of rows, or a dict of columns)
    against the signature and turn it into what the model takes: a DataFrame with the signature's columns in
    order, or an ndarray of its dtype.

    Refused with ``InvalidArgument`` naming the column (``field``): a missing column, a value of the wrong type,
    a missing value (None/NaN) in a column that had none in the example, a malformed or empty input, and with
    ``extra_columns="error"`` a column the signature does not know (ignored by default).

    ``as_array`` delivers a table's checked columns as one 2-D array in the signature's order instead of a
    DataFrame (the model's array path, see ``Loaded.predict_array``); columns are still matched by name.
    """
    if isinstance(signature.inputs, TensorSpec):
        return _prepare_tensor(data, signature.inputs)
    spec = signature.inputs
    columns = _columns_of(data, spec, extra_columns)
    if spec.format == "ndarray" or as_array:
        return np.column_stack([_convert(spec_, values) for spec_, values in zip(spec.columns, columns, strict=True)])
    return pd.DataFrame(
        {col.name: _convert(col, values) for col, values in zip(spec.columns, columns, strict=True)}, copy=False
    )


def _columns_of(data: Any, spec: TableSpec, extra: ExtraColumns) -> list[Any]:
    """The values of each signature column, in order (positionally for ndarray-fed models)."""
    names = spec.names
    if isinstance(data, pd.DataFrame):
        _check_rows(len(data))
        if spec.format == "ndarray":
            _check_width(data.shape[1], names)
            return [data.iloc[:, i].to_numpy() for i in range(len(names))]
        by_name = {str(column): column for column in data.columns}
        _check_names(by_name, names, extra)
        return [data[by_name[name]].to_numpy() for name in names]
    if isinstance(data, np.ndarray):
        if data.dtype.names:
            return _columns_of(pd.DataFrame(data), spec, extra)
        rows = data.reshape(1, -1) if data.ndim == 1 else data
        if rows.ndim != 2:
            raise InvalidArgument(f"the model takes rows of {len(names)} columns, got a {data.ndim}-D array")
        _check_rows(rows.shape[0])
        _check_width(rows.shape[1], names)
        return [rows[:, i] for i in range(len(names))]
    if isinstance(data, Mapping):
        lengths = {_column_length(values) for values in data.values()}
        if len(lengths) != 1 or -1 in lengths:
            raise InvalidArgument("a dict of columns maps each column name to a list of values, all of one length")
        _check_rows(lengths.pop())
        by_name = {str(key): key for key in data}
        _check_names(by_name, names, extra)
        return [data[by_name[name]] for name in names]
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        _check_rows(len(data))
        if all(isinstance(row, Mapping) for row in data):
            return _record_columns(data, names, extra)
        if all(isinstance(row, Sequence) and not isinstance(row, str | bytes) for row in data):
            for index, row in enumerate(data):
                if len(row) != len(names):
                    raise InvalidArgument(f"row {index} has {len(row)} values; the model takes {len(names)}")
            return [[row[i] for row in data] for i in range(len(names))]
        if not any(isinstance(value, Sequence | Mapping) and not isinstance(value, str) for value in data):
            # A flat list is one row (an object array: numpy would turn mixed values into strings).
            return _columns_of(_object_array(data).reshape(1, -1), spec, extra)
    raise InvalidArgument(
        f"the model takes a pandas DataFrame, a numpy array or a list of dicts, not {type(data).__name__}"
    )


def _column_length(values: Any) -> int:
    """The number of values in one column of a dict of columns; -1 for what is not a column."""
    if isinstance(values, Sequence | np.ndarray | pd.Series) and not isinstance(values, str | bytes):
        return len(values)
    return -1


def _record_columns(rows: Sequence[Mapping[str, Any]], names: list[str], extra: ExtraColumns) -> list[list[Any]]:
    known = set(names)
    columns: list[list[Any]] = [[] for _ in names]
    for index, row in enumerate(rows):
        for column, name in zip(columns, names, strict=True):
            try:
                column.append(row[name])
            except KeyError:
                raise InvalidArgument(f"missing column {name!r} (row {index})", field=name) from None
        if extra == "error" and len(row) > len(names):
            unknown = next(str(key) for key in row if key not in known)
            raise InvalidArgument(f"unknown column {unknown!r} (row {index}); the model takes {names}", field=unknown)
    return columns


def _check_rows(count: int) -> None:
    if count == 0:
        raise InvalidArgument("the input has no rows")


def _check_width(width: int, names: list[str]) -> None:
    if width != len(names):
        raise InvalidArgument(f"the model takes {len(names)} columns, got {width}")


def _check_names(present: Mapping[str, Any], names: list[str], extra: ExtraColumns) -> None:
    missing = [name for name in names if name not in present]
    if missing:
        raise InvalidArgument(f"missing column {missing[0]!r} (the model takes {names})", field=missing[0])
    if extra == "error" and len(present) > len(names):
        unknown = next(name for name in present if name not in set(names))
        raise InvalidArgument(f"unknown column {unknown!r}; the model takes {names}", field=unknown)


def _convert(spec: ColumnSpec, values: Any) -> np.ndarray[Any, Any]:
    """One column as an array of the signature's type; every refusal names the column and the first bad row."""
    array = values if isinstance(values, np.ndarray) else _plain_numbers(spec, values)
    if array is None:
        array = _object_array(values)
    kind = array.dtype.kind
    if kind == "O":
        array = _from_objects(spec, array)
        kind = array.dtype.kind
    if spec.type in _FLOATS:
        if kind not in "iuf":
            _wrong_type(spec, array)
        converted = array.astype(_NUMPY[spec.type], copy=False)
        if not spec.nullable and kind == "f":
            _refuse_missing(spec, np.isnan(converted))
        return converted
    if spec.type in _INTEGERS:
        if kind == "f":
            _refuse_missing(spec, np.isnan(array))
            fractional = array != np.floor(array)
            if fractional.any():
                row = int(np.argmax(fractional))
                raise InvalidArgument(
                    f"column {spec.name!r} takes whole numbers, got {array[row]!r} (row {row})", field=spec.name
                )
        elif kind not in "iu":
            _wrong_type(spec, array)
        return array.astype(_NUMPY[spec.type], copy=False)
    if spec.type == "boolean":
        if kind != "b":
            _wrong_type(spec, array)
        return array
    if spec.type == "string":
        if kind not in "USO":  # objects here were checked one by one: strings (and None where nullable)
            _wrong_type(spec, array)
        return array.astype(object)
    if kind not in "MUS":
        _wrong_type(spec, array)
    try:
        return array.astype(_NUMPY["datetime"])
    except ValueError as exc:
        raise InvalidArgument(f"column {spec.name!r}: not a date-time: {exc}", field=spec.name) from None


def _plain_numbers(spec: ColumnSpec, values: Any) -> np.ndarray[Any, Any] | None:
    """A list of plain Python numbers (what JSON gives) for a numeric column, converted in one step rather than
    inspected value by value; None for anything else (bools, None, strings, huge ints), which the general path
    checks and refuses with the row at fault."""
    if (spec.type not in _FLOATS and spec.type not in _INTEGERS) or not isinstance(values, list):
        return None
    accepted = (int,) if spec.type in _INTEGERS else (int, float)
    if not all(type(value) in accepted for value in values):
        return None
    try:
        return np.array(values, dtype=np.int64 if spec.type in _INTEGERS else np.float64)
    except OverflowError:
        return None


def _object_array(values: Any) -> np.ndarray[Any, Any]:
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return array


def _from_objects(spec: ColumnSpec, array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Python values (JSON, list of dicts, object columns) checked one by one: None/NaN only where nullable."""
    numeric = spec.type in _FLOATS or spec.type in _INTEGERS
    missing = {i for i, value in enumerate(array) if value is None or (isinstance(value, float) and math.isnan(value))}
    if missing and not (spec.nullable and spec.type in (*_FLOATS, "string", "datetime")):
        _missing_error(spec, min(missing))
    for row, value in enumerate(array):
        if row in missing:
            continue
        if numeric:
            ok = _is_number(value)
        elif spec.type == "boolean":
            ok = isinstance(value, bool | np.bool_)
        elif spec.type == "string":
            ok = isinstance(value, str)
        else:
            ok = isinstance(value, str | np.datetime64) or hasattr(value, "isoformat")
        if not ok:
            _wrong_type(spec, array, row)
    if spec.type == "string":
        return array
    if spec.type == "datetime":
        return np.array([np.datetime64("NaT") if i in missing else _datetime(spec, v) for i, v in enumerate(array)])
    if numeric:
        return np.array([math.nan if i in missing else value for i, value in enumerate(array)])
    return array.astype(np.bool_)


def _datetime(spec: ColumnSpec, value: Any) -> np.datetime64:
    try:
        return np.datetime64(pd.Timestamp(value).tz_localize(None), "ns")
    except ValueError:
        raise InvalidArgument(f"column {spec.name!r}: {value!r:.80} is not a date-time", field=spec.name) from None


def _wrong_type(spec: ColumnSpec, array: np.ndarray[Any, Any], row: int | None = None) -> None:
    if row is None:
        raise InvalidArgument(f"column {spec.name!r} takes {spec.type} values, got {array.dtype}", field=spec.name)
    value = array[row]
    raise InvalidArgument(
        f"column {spec.name!r} takes {spec.type} values, got {value!r:.80} ({type(value).__name__}, row {row})",
        field=spec.name,
    )


def _refuse_missing(spec: ColumnSpec, mask: np.ndarray[Any, Any]) -> None:
    if mask.any():
        _missing_error(spec, int(np.argmax(mask)))


def _missing_error(spec: ColumnSpec, row: int) -> None:
    raise InvalidArgument(
        f"column {spec.name!r} has a missing value (None/NaN) at row {row}; the example had none there",
        field=spec.name,
    )


def _prepare_tensor(data: Any, spec: TensorSpec) -> np.ndarray[Any, Any]:
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        raise InvalidArgument(f"the model takes a tensor of shape {list(spec.shape)}, not named columns")
    if isinstance(data, pd.DataFrame):
        data = data.to_numpy()
    array = _as_array(data, "input")
    if array.ndim == len(spec.shape) - 1:
        array = array[np.newaxis]
    if array.ndim != len(spec.shape) or any(
        want not in (-1, got) for want, got in zip(spec.shape[1:], array.shape[1:], strict=True)
    ):
        raise InvalidArgument(f"the model takes a tensor of shape {list(spec.shape)}, got {list(array.shape)}")
    target = np.dtype(spec.dtype)
    if array.dtype.kind == "f" and target.kind in "iu" and (array != np.floor(array)).any():
        raise InvalidArgument(f"the model takes {target} values; got fractional numbers")
    if array.dtype.kind == "b" and target.kind != "b":
        raise InvalidArgument(f"the model takes {target} values, got booleans")
    return array.astype(target, copy=False)
