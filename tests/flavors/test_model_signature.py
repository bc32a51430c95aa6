"""Signature inference from examples, and ``prepare_input``: what it turns each input into, and every refusal
naming the column at fault."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ridgeline.domain.errors import InvalidArgument
from ridgeline.flavors.signature import (
    ColumnSpec,
    Signature,
    TableSpec,
    TensorSpec,
    infer_signature,
    prepare_input,
)

EXAMPLE = pd.DataFrame(
    {
        "amount": [12.5, math.nan],
        "count": np.array([1, 2], dtype=np.int64),
        "small": np.array([1, 2], dtype=np.int16),
        "ratio": np.array([0.5, 0.25], dtype=np.float32),
        "country": ["fr", "de"],
        "active": [True, False],
        "when": pd.to_datetime(["2026-01-01", "2026-02-01"]),
    }
)
SIGNATURE = infer_signature(EXAMPLE, np.array([0.1, 0.2]))
ROW = {"amount": 3.0, "count": 4, "small": 1, "ratio": 0.5, "country": "it", "active": True, "when": "2026-03-01"}


def test_table_inference_records_names_types_and_missing_values() -> None:
    assert SIGNATURE.inputs == TableSpec(
        (
            ColumnSpec("amount", "double", True),
            ColumnSpec("count", "long"),
            ColumnSpec("small", "integer"),
            ColumnSpec("ratio", "float"),
            ColumnSpec("country", "string"),
            ColumnSpec("active", "boolean"),
            ColumnSpec("when", "datetime"),
        )
    )
    assert SIGNATURE.outputs == TensorSpec("float64", (-1,))
    assert Signature.from_json(SIGNATURE.to_json()) == SIGNATURE
    records = infer_signature([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    assert records.inputs == TableSpec((ColumnSpec("a", "long"), ColumnSpec("b", "string")))


def test_array_and_tensor_inference() -> None:
    rows = infer_signature(np.array([[1.0, math.nan], [2.0, 3.0]], dtype=np.float32))
    assert rows.inputs == TableSpec((ColumnSpec("0", "float", False), ColumnSpec("1", "float", True)), "ndarray")
    images = infer_signature(np.zeros((2, 1, 4, 4), dtype=np.float32))
    assert images.inputs == TensorSpec("float32", (-1, 1, 4, 4)) and images.outputs is None


@pytest.mark.parametrize(
    "example",
    [pd.DataFrame(), [], np.array(3.0), pd.DataFrame({"a": [1, "x"]}), np.array([["a", "b"]], dtype=object)],
)
def test_examples_that_describe_nothing_are_refused(example: Any) -> None:
    with pytest.raises(InvalidArgument):
        infer_signature(example)


def test_every_input_shape_gives_the_same_frame() -> None:
    frame = pd.DataFrame([ROW]).astype({"when": "datetime64[ns]"})
    outputs = [
        prepare_input([ROW], SIGNATURE),
        prepare_input(frame, SIGNATURE),
        prepare_input({key: [value] for key, value in ROW.items()}, SIGNATURE),
        prepare_input(frame[list(reversed(frame.columns))].assign(extra=1), SIGNATURE),
    ]
    for prepared in outputs:
        assert list(prepared.columns) == list(EXAMPLE.columns)
        assert [str(t) for t in prepared.dtypes[:4]] == ["float64", "int64", "int32", "float32"]
        assert prepared["when"].iloc[0] == pd.Timestamp("2026-03-01")
        assert prepared["country"].iloc[0] == "it" and bool(prepared["active"].iloc[0]) is True
    nullable = prepare_input([{**ROW, "amount": None}], SIGNATURE)
    assert math.isnan(nullable["amount"].iloc[0])
    whole = prepare_input([{**ROW, "count": 7.0}], SIGNATURE)
    assert whole["count"].iloc[0] == 7


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ([{k: v for k, v in ROW.items() if k != "ratio"}], "ratio", "missing column 'ratio'"),
        (pd.DataFrame([ROW]).drop(columns="country"), "country", "missing column 'country'"),
        ([{**ROW, "amount": "12"}], "amount", "takes double values, got '12'"),
        ([{**ROW, "count": 1.5}], "count", "whole numbers"),
        ([{**ROW, "count": None}], "count", "missing value"),
        ([{**ROW, "ratio": math.nan}], "ratio", "missing value"),
        ([{**ROW, "active": 1}], "active", "takes boolean values"),
        ([{**ROW, "country": 3}], "country", "takes string values"),
        ([{**ROW, "when": "not a date"}], "when", "not a date-time"),
        ([{**ROW, "amount": True}], "amount", "got True"),
        (pd.DataFrame([ROW]).assign(count=["x"]), "count", "takes long values"),
        ([ROW, {**ROW, "small": "two"}], "small", "row 1"),
    ],
)
def test_bad_values_are_refused_naming_the_column(data: Any, field: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message) as refused:
        prepare_input(data, SIGNATURE)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "no rows"),
        (pd.DataFrame(columns=list(EXAMPLE.columns)), "no rows"),
        ("amount=1", "not str"),
        (42, "not int"),
        ({"amount": [1.0], "count": [1, 2]}, "all of one length"),
        ([[1.0, 2]], "row 0 has 2 values"),
        (np.zeros((1, 3)), "takes 7 columns, got 3"),
        (np.zeros((1, 2, 7)), "3-D array"),
    ],
)
def test_malformed_inputs_are_refused(data: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        prepare_input(data, SIGNATURE)


def test_extra_columns_are_ignored_unless_refused() -> None:
    assert "extra" not in prepare_input([{**ROW, "extra": 1}], SIGNATURE).columns
    with pytest.raises(InvalidArgument, match="unknown column 'extra'") as refused:
        prepare_input([{**ROW, "extra": 1}], SIGNATURE, extra_columns="error")
    assert refused.value.field == "extra"
    with pytest.raises(InvalidArgument, match="unknown column 'extra'"):
        prepare_input(pd.DataFrame([ROW]).assign(extra=1), SIGNATURE, extra_columns="error")


def test_array_fed_models_get_arrays_of_their_dtype() -> None:
    signature = infer_signature(np.zeros((2, 3), dtype=np.float32))
    prepared = prepare_input([[1, 2, 3]], signature)
    assert prepared.dtype == np.float32 and prepared.shape == (1, 3)
    by_name = prepare_input([{"0": 1.0, "1": 2.0, "2": 3.0}], signature)
    np.testing.assert_array_equal(by_name, prepared)
    with pytest.raises(InvalidArgument, match="missing value") as refused:
        prepare_input(np.array([[1.0, math.nan, 3.0]]), signature)
    assert refused.value.field == "1"


def test_tensors_check_shape_and_dtype() -> None:
    signature = Signature(TensorSpec("float32", (-1, 2, 2)))
    assert prepare_input(np.ones((3, 2, 2)), signature).dtype == np.float32
    assert prepare_input([[1, 2], [3, 4]], signature).shape == (1, 2, 2)  # one instance without its batch axis
    for bad, message in [
        (np.ones((3, 2, 3)), r"shape \[-1, 2, 2\], got \[3, 2, 3\]"),
        ([[1, 2], [3]], "cannot read"),
        ([{"a": 1}], "not named columns"),
        (np.ones((0, 2, 2)), "empty"),
        (np.array([[[True, False], [True, True]]]), "booleans"),
    ]:
        with pytest.raises(InvalidArgument, match=message):
            prepare_input(bad, signature)
    with pytest.raises(InvalidArgument, match="fractional"):
        prepare_input(np.full((1, 2, 2), 0.5), Signature(TensorSpec("int64", (-1, 2, 2))))


@pytest.mark.parametrize(
    "raw",
    [None, {}, {"inputs": {"type": "table", "columns": []}}, {"inputs": {"type": "tensor", "dtype": "nope"}}],
)
def test_malformed_signatures_are_refused(raw: Any) -> None:
    with pytest.raises(InvalidArgument) as refused:
        Signature.from_json(raw)
    assert refused.value.field == "signature"
