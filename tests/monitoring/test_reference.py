"""References: quantile bins with open outer bins, top categories, value conventions and a NaN-free JSON form."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.reference import (
    MAX_CATEGORIES,
    CategoricalReference,
    Kind,
    NumericReference,
    Reference,
)


def _numeric(reference: Reference, name: str) -> NumericReference:
    feature = reference.features[name]
    assert isinstance(feature, NumericReference)
    return feature


def _categorical(reference: Reference, name: str) -> CategoricalReference:
    feature = reference.features[name]
    assert isinstance(feature, CategoricalReference)
    return feature


def _round_trip(reference: Reference) -> Reference:
    return Reference.from_json(json.loads(json.dumps(reference.to_json(), allow_nan=False)))


def test_kinds_are_inferred_from_dtypes_unless_named() -> None:
    columns = {
        "f": np.array([0.5, 1.5, 2.5]),
        "i": np.array([1, 2, 3]),
        "b": np.array([True, False, True]),
        "s": np.array(["x", "y", "x"]),
        "o": np.array(["x", None, "z"], dtype=object),
        "code": np.array([7, 7, 9]),
    }
    reference = Reference.build(columns, kinds={"code": "categorical"})
    kinds = {name: type(feature) for name, feature in reference.features.items()}
    assert kinds == {
        "f": NumericReference,
        "i": NumericReference,
        "b": CategoricalReference,
        "s": CategoricalReference,
        "o": CategoricalReference,
        "code": CategoricalReference,
    }
    assert _categorical(reference, "b").categories == ("True", "False")
    assert _categorical(reference, "code").categories == ("7", "9")
    assert _categorical(reference, "o").missing == 1


def test_numeric_bins_are_the_quantiles_between_open_outer_bins() -> None:
    values = np.arange(1000, dtype=np.float64)
    feature = _numeric(Reference.build({"v": values}, bins=10), "v")
    assert feature.edges[0] == -math.inf and feature.edges[-1] == math.inf
    inner = np.array(feature.edges[1:-1])
    np.testing.assert_allclose(inner[:-1], np.quantile(values, np.linspace(0, 0.9, 10)))
    assert inner[-1] == np.nextafter(999.0, np.inf)
    # The outer bins hold only values beyond the reference's range: none of its own.
    assert feature.counts == (0, *([100] * 10), 0)
    assert (feature.min, feature.max, feature.mean, feature.std) == (0.0, 999.0, values.mean(), values.std())
    assert (feature.count, feature.missing, feature.invalid, feature.present) == (1000, 0, 0, 1000)


def test_tied_quantiles_collapse_and_a_constant_column_has_three_bins() -> None:
    zero_inflated = np.r_[np.zeros(700), np.arange(1.0, 301.0)]
    feature = _numeric(Reference.build({"v": zero_inflated}), "v")
    inner = feature.edges[1:-1]
    assert list(inner) == sorted(set(inner)) and inner.count(0.0) == 1
    assert sum(feature.counts) == 1000 and feature.counts[1] == 700
    constant = _numeric(Reference.build({"v": np.full(50, 4.0)}), "v")
    assert constant.edges == (-math.inf, 4.0, np.nextafter(4.0, np.inf), math.inf)
    assert constant.counts == (0, 50, 0) and constant.std == 0.0


def test_missing_values_type_violations_and_infinities_in_a_numeric_column() -> None:
    values = np.array(
        [1.0, None, math.nan, pd.NA, "1.5", [1, 2], {"a": 1}, 3, np.int64(5), True, math.inf, 10**400], dtype=object
    )
    feature = _numeric(Reference.build({"v": values}, kinds={"v": "numeric"}), "v")
    assert (feature.count, feature.missing, feature.invalid) == (12, 3, 4)
    # The infinity is a value (in the top bin) but stays out of the statistics.
    assert feature.present == 5 and sum(feature.counts) == 5 and feature.counts[-1] == 1
    assert (feature.min, feature.max, feature.mean) == (1.0, 5.0, 2.5)
    strings = _numeric(Reference.build({"v": np.array(["1", "2"], dtype=object)}, kinds={"v": Kind.NUMERIC}), "v")
    assert strings.invalid == 2 and strings.min is None


def test_a_column_without_values_has_one_bin_and_no_statistics() -> None:
    reference = Reference.build({"v": np.array([math.nan, math.nan]), "c": np.array([None, None], dtype=object)})
    feature = _numeric(reference, "v")
    assert feature.edges == (-math.inf, math.inf) and feature.counts == (0,) and feature.missing == 2
    assert (feature.min, feature.max, feature.mean, feature.std) == (None, None, None, None)
    assert _categorical(reference, "c").categories == () and _categorical(reference, "c").missing == 2
    assert _round_trip(reference) == reference


def test_rare_categories_beyond_the_limit_are_lumped_into_other() -> None:
    names = [f"k{i:04d}" for i in range(MAX_CATEGORIES + 20)]
    # 190 categories of 10 values and 30 of 5: ten of the latter are kept, the alphabetically first.
    values = np.array([name for i, name in enumerate(names) for _ in range(10 if i < 190 else 5)])
    np.random.default_rng(0).shuffle(values)
    feature = _categorical(Reference.build({"c": values}), "c")
    assert feature.categories == tuple(names[:MAX_CATEGORIES])
    assert feature.counts[0] == 10 and feature.counts[-1] == 5 and feature.other == 100
    assert sum(feature.counts) + feature.other == feature.present == len(values)


def test_json_round_trip_spells_infinite_edges_and_keeps_the_fingerprint() -> None:
    rng = np.random.default_rng(3)
    reference = Reference.build(
        {
            "x": rng.normal(size=500),
            "n": rng.integers(0, 5, 500),
            "c": rng.choice(np.array(["a", "b"]), 500, p=[0.3, 0.7]),
        }
    )
    data = json.loads(json.dumps(reference.to_json(), allow_nan=False))
    assert data["features"]["x"]["edges"][0] == "-inf" and data["features"]["x"]["edges"][-1] == "inf"
    restored = Reference.from_json(data)
    assert restored == reference and restored.fingerprint == reference.fingerprint
    # A store that reorders object keys (jsonb) keeps the category order, which window counts align with.
    reordered = Reference.from_json(json.loads(json.dumps(data, sort_keys=True)))
    assert _categorical(reordered, "c").categories == ("b", "a") and reordered.fingerprint == reference.fingerprint
    other = Reference.build({"x": rng.normal(size=500)})
    assert other.fingerprint != reference.fingerprint


@pytest.mark.parametrize(
    ("columns", "kwargs"),
    [
        ({}, {}),
        ({"v": [1.0, 2.0]}, {"bins": 1}),
        ({"v": [1.0, 2.0]}, {"bins": "20"}),
        ({"v": [1.0, 2.0]}, {"kinds": {"v": "ordinal"}}),
        ({"v": [1.0, 2.0]}, {"kinds": {"w": "numeric"}}),
        ({"v": np.zeros((2, 2))}, {}),
        ({"v": 3.0}, {}),
        ({"v": "abc"}, {}),
        ({"v": [1.0, 2.0], "w": [1.0]}, {}),
        ({"v": np.array(["2026-01-01"], dtype="datetime64[D]")}, {}),
        ({"v": np.array(["2026-01-01"], dtype="datetime64[D]")}, {"kinds": {"v": "numeric"}}),
        ({"v": np.array(["1.5"])}, {"kinds": {"v": "numeric"}}),
    ],
)
def test_bad_calls_raise_invalid_argument(columns: dict[str, Any], kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        Reference.build(columns, **kwargs)


def test_a_datetime_column_named_categorical_and_plain_lists_are_accepted() -> None:
    reference = Reference.build(
        {"when": np.array(["2026-01-01", "NaT"], dtype="datetime64[D]"), "mixed": [1.5, "a"]},
        kinds={"when": "categorical", "mixed": "numeric"},
    )
    assert _categorical(reference, "when").categories == ("2026-01-01",)
    # A list is read value by value: the string is a violation, not a reason to turn 1.5 into text.
    assert (_numeric(reference, "mixed").present, _numeric(reference, "mixed").invalid) == (1, 1)


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda d: d.pop("features"),
        lambda d: d.update(format=99),
        lambda d: d["features"]["x"].update(kind="text"),
        lambda d: d["features"]["x"].update(edges=["-inf", 1.0, 0.0, "inf"], counts=[0, 3, 0]),
        lambda d: d["features"]["x"].update(edges=[0.0, 1.0, "inf"], counts=[3, 0]),
        lambda d: d["features"]["x"].update(counts=[0, 1, 0]),
        lambda d: d["features"]["x"].update(mean="nan"),
        lambda d: d["features"]["x"].update(count=-1),
        lambda d: d["features"]["c"].update(categories=["a"]),
        lambda d: d["features"]["c"].update(categories=["a", "a"]),
        lambda d: d["features"]["c"].update(categories=["a", 1]),
        lambda d: d["features"]["c"].update(other=5),
    ],
)
def test_malformed_json_raises_invalid_argument(corrupt: Any) -> None:
    data = Reference.build({"x": [1.0, 2.0, 3.0], "c": np.array(["a", "b", "a"])}, bins=2).to_json()
    corrupt(data)
    with pytest.raises(InvalidArgument):
        Reference.from_json(data)
