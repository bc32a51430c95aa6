"""The reference that production data is compared with: per feature, the baseline's distribution in a compact,
JSON-storable form, so drift and data-quality checks never need the baseline data itself.

``Reference.build(columns, kinds=None, bins=20)`` summarises the baseline (usually the training set);
:mod:`ridgeline.monitoring.window` profiles production batches against it, :mod:`~ridgeline.monitoring.drift` and
:mod:`~ridgeline.monitoring.quality` compare the two. ``Reference.fingerprint`` identifies its content: window
profiles carry it, so a profile is never merged with or compared against another reference's.

Value conventions, the same for reference and window data (``numeric_values``, ``category_counts``):

- A column is one-dimensional: a numpy array, a pandas Series, a list or tuple. Columns of one call have one length.
  A list of numbers only reads as a numeric array; any other list is read value by value (an object array).
- Missing: None, float NaN, pandas NA and NaT.
- Kinds: given per column in ``kinds`` ("numeric" or "categorical"), else inferred from the dtype: bool, object and
  string dtypes are categorical, integer and float dtypes numeric; other dtypes (datetime, complex) need a kind,
  and only "categorical" fits them. A reference column can be numeric only with a bool, integer, float or object
  dtype; a window column of another dtype for a numeric feature has every value counted as a type violation.
- A numeric feature holds ints, floats and bools (Python or numpy). Anything else in it (a string, even "1.5", a
  list, a dict) is a type violation: counted in ``invalid``, never raised, and left out of the distribution.
  ±inf are values: they fall in the outer bins, but min, max, mean and std are taken over finite values.
- A categorical feature holds scalars, compared as their ``str()`` (1 and "1" are one category, 1.0 another);
  a non-scalar (list, dict, array) is a type violation.
- ``count`` is every value seen, ``missing`` and ``invalid`` are parts of it, ``present`` the rest: the values
  that make up the distribution.

Numeric features get ``bins`` bins cut at the finite values' quantiles from the min to just above the max,
and two open outer bins for values beyond that range: below the min, above the max (empty in the reference,
so a window's out-of-range values stand apart). Bin ``i`` holds ``edges[i] <= x < edges[i + 1]``; the outer
edges are -inf and +inf, and the top bin holds +inf too, so every value falls in a bin. Equal quantiles collapse
into one edge: a column with many ties has fewer bins, a constant column c has three (below c, c itself, above
c). A column with no finite value has the single bin (-inf, +inf) and no min, max, mean or std.

Categorical features keep the ``MAX_CATEGORIES`` most frequent categories (ties broken by name); the values of
the others are counted together in ``other``. A window's values outside the kept categories are compared with
that bucket.

Orders that matter (edges, categories) are JSON lists, never object keys, so a store that reorders keys
(PostgreSQL's jsonb) keeps them. JSON has no infinities or NaN: such floats are written as the strings "inf",
"-inf" and "nan" (``encode_float``), so the edges start with "-inf" and end with "inf".
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ridgeline.domain.errors import InvalidArgument

Array = NDArray[Any]
JSON_FORMAT = 1
MAX_CATEGORIES = 200
MAX_BINS = 1_000
QUANTILE_SAMPLE = 20_000
# Python and numpy scalars a numeric feature accepts (bool is an int; numpy's bool is not a numpy integer).
_NUMBERS = (int, float, np.integer, np.floating, np.bool_)
# pandas' missing markers, recognised by name: monitoring stays free of a pandas import.
_MISSING_TYPES = frozenset({"NoneType", "NAType", "NaTType"})


class Kind(enum.StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


@dataclass(frozen=True)
class NumericReference:
    name: str
    count: int
    missing: int
    invalid: int
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    min: float | None
    max: float | None
    mean: float | None
    std: float | None

    @property
    def present(self) -> int:
        return self.count - self.missing - self.invalid

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": Kind.NUMERIC.value,
            "count": self.count,
            "missing": self.missing,
            "invalid": self.invalid,
            "edges": [encode_float(edge) for edge in self.edges],
            "counts": list(self.counts),
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "std": self.std,
        }


@dataclass(frozen=True)
class CategoricalReference:
    name: str
    count: int
    missing: int
    invalid: int
    categories: tuple[str, ...]
    counts: tuple[int, ...]
    other: int

    @property
    def present(self) -> int:
        return self.count - self.missing - self.invalid

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": Kind.CATEGORICAL.value,
            "count": self.count,
            "missing": self.missing,
            "invalid": self.invalid,
            "categories": list(self.categories),
            "counts": list(self.counts),
            "other": self.other,
        }


FeatureReference = NumericReference | CategoricalReference


@dataclass(frozen=True)
class Reference:
    features: dict[str, FeatureReference]

    @classmethod
    def build(cls, columns: Mapping[str, Any], kinds: Mapping[str, str] | None = None, bins: int = 20) -> Reference:
        """Summarise equally long columns; ``kinds`` names a column's kind where the dtype would mislead."""
        if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= MAX_BINS:
            raise InvalidArgument(f"bins must be an integer from 2 to {MAX_BINS}, got {bins!r}", field="bins")
        arrays = as_columns(columns)
        if not arrays:
            raise InvalidArgument("a reference needs at least one column", field="columns")
        chosen = dict(kinds or {})
        unknown = sorted(set(chosen) - set(arrays))
        if unknown:
            raise InvalidArgument(f"kinds names columns that are not given: {', '.join(unknown)}", field="kinds")
        features: dict[str, FeatureReference] = {}
        for name, values in arrays.items():
            kind = _kind(name, chosen[name]) if name in chosen else infer_kind(name, values)
            if kind is Kind.NUMERIC and values.dtype.kind not in "biufO":
                raise InvalidArgument(f"column {name!r} of dtype {values.dtype} cannot be numeric", field="kinds")
            features[name] = _numeric(name, values, bins) if kind is Kind.NUMERIC else _categorical(name, values)
        return cls(features)

    @cached_property
    def fingerprint(self) -> str:
        """A digest of the content: equal references have equal fingerprints."""
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def to_json(self) -> dict[str, Any]:
        return {"format": JSON_FORMAT, "features": {name: f.to_json() for name, f in self.features.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reference:
        try:
            if data["format"] != JSON_FORMAT:
                raise ValueError(f"unknown format {data['format']!r}")
            return cls({str(name): _feature_from_json(str(name), f) for name, f in data["features"].items()})
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InvalidArgument(f"malformed reference JSON: {error}", field="reference") from None


def as_columns(columns: Mapping[str, Any]) -> dict[str, Array]:
    """The columns as one-dimensional numpy arrays of one length; InvalidArgument otherwise."""
    if not isinstance(columns, Mapping):
        raise InvalidArgument("columns must map column names to values", field="columns")
    arrays = {str(name): as_column(str(name), values) for name, values in columns.items()}
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidArgument(f"columns differ in length: {lengths}", field="columns")
    return arrays


def as_column(name: str, values: Any) -> Array:
    if isinstance(values, str | bytes | Mapping):
        raise InvalidArgument(f"column {name!r} must be a sequence of values, got {type(values).__name__}")
    if isinstance(values, np.ndarray) or hasattr(values, "__array__"):
        array = np.asarray(values)
    else:
        array = _sequence(name, values)
    if array.ndim != 1:
        raise InvalidArgument(f"column {name!r} must be one-dimensional, got shape {array.shape}", field="columns")
    return array


def _sequence(name: str, values: Any) -> Array:
    """A list of numbers as numpy reads it, anything else value by value: np.asarray would turn [1.5, "a"] into
    two strings, and [[1, 2], [3, 4]] into a table."""
    try:
        array = np.asarray(values)
        if array.ndim == 1 and array.dtype.kind in "biuf":
            return array
    except (ValueError, TypeError, OverflowError):  # a ragged nesting, or values numpy cannot hold together
        pass
    try:
        return np.fromiter(values, dtype=object, count=len(values))
    except TypeError:
        raise InvalidArgument(f"column {name!r} must be a sequence of values", field="columns") from None


def infer_kind(name: str, values: Array) -> Kind:
    if values.dtype.kind in "iuf":
        return Kind.NUMERIC
    if values.dtype.kind in "bOUS":
        return Kind.CATEGORICAL
    raise InvalidArgument(
        f"column {name!r} has dtype {values.dtype}: name its kind (categorical) in kinds", field="kinds"
    )


def numeric_values(values: Array) -> tuple[NDArray[np.float64], int]:
    """The values as floats, NaN where missing or a type violation, and the number of type violations."""
    if values.dtype.kind in "biuf":
        return values.astype(np.float64, copy=False), 0
    if values.dtype.kind != "O":  # strings, dates, complex numbers: every value is a violation
        return np.full(len(values), np.nan), len(values)
    numbers = np.full(len(values), np.nan)
    invalid = 0
    for i, value in enumerate(values.tolist()):
        if isinstance(value, _NUMBERS):
            try:
                numbers[i] = value
            except OverflowError:  # a Python int beyond float range
                invalid += 1
        elif not _is_missing(value):
            invalid += 1
    return numbers, invalid


def categorical_values(values: Array) -> tuple[NDArray[np.str_], int, int]:
    """The present values as strings, the number missing and the number of type violations."""
    if values.dtype.kind == "S":
        values = np.char.decode(values, "utf-8", "replace")
    if values.dtype.kind in "biuU":
        return values.astype(str), 0, 0
    if values.dtype.kind in "fcmM":
        missing = np.isnat(values) if values.dtype.kind in "mM" else np.isnan(values)
        return values[~missing].astype(str), int(missing.sum()), 0
    labels: list[str] = []
    missing_count = invalid = 0
    for value in values.tolist():
        if _is_missing(value):
            missing_count += 1
        elif isinstance(value, str | int | float | np.generic):
            labels.append(str(value))
        else:
            invalid += 1
    return np.array(labels, dtype=str), missing_count, invalid


def bin_counts(inner: NDArray[np.float64], present: NDArray[np.float64]) -> NDArray[np.int64]:
    """How many values fall in each bin: below ``inner[0]``, in each ``[inner[i], inner[i + 1])``, from
    ``inner[-1]`` up. (The same as counting ``searchsorted(inner, present, side="right")``, but one vectorised
    comparison per edge is about twice as fast as a binary search per value for the few edges a profile has.)"""
    at_least = np.array([np.count_nonzero(present >= edge) for edge in inner], dtype=np.int64)
    return -np.diff(np.concatenate(([len(present)], at_least, [0])))


def category_counts(values: Array) -> tuple[dict[str, int], int, int]:
    """How often each present value occurs (as text), the number missing and the number of type violations.

    An object column (what pandas gives for text) is counted by a hash table over its distinct values, each
    classified once, instead of converting and sorting a million strings."""
    if values.dtype.kind == "O":
        try:
            counted = Counter(values.tolist())
        except TypeError:  # unhashable values (lists, dicts): counted one by one below
            counted = None
        if counted is not None:
            labels: defaultdict[str, int] = defaultdict(int)
            missing = invalid = 0
            for value, number in counted.items():
                if _is_missing(value):
                    missing += number
                elif isinstance(value, str | int | float | np.generic):
                    labels[str(value)] += number
                else:
                    invalid += number
            return dict(labels), missing, invalid
    present, missing, invalid = categorical_values(values)
    names, counts = np.unique(present, return_counts=True)
    return dict(zip(names.tolist(), counts.tolist(), strict=True)), missing, invalid


def encode_float(value: float) -> float | str:
    """A float as JSON allows it: a number when finite, else "inf", "-inf" or "nan"."""
    return value if math.isfinite(value) else str(value)


def decode_float(value: Any) -> float:
    if isinstance(value, str) and value not in ("inf", "-inf", "nan"):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


def decode_count(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} must hold non-negative integers, got {value!r}")
    return value


def decode_optional_float(value: Any) -> float | None:
    if value is None:
        return None
    number = decode_float(value)
    if not math.isfinite(number):
        raise ValueError(f"statistics must be finite numbers or null, got {value!r}")
    return number


def _is_missing(value: object) -> bool:
    return type(value).__name__ in _MISSING_TYPES or (isinstance(value, float) and math.isnan(value))


def _kind(name: str, kind: str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        raise InvalidArgument(
            f"kind of column {name!r} must be numeric or categorical, got {kind!r}", field="kinds"
        ) from None


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _numeric(name: str, values: Array, bins: int) -> NumericReference:
    numbers, invalid = numeric_values(values)
    present = numbers[~np.isnan(numbers)]
    finite = present[np.isfinite(present)]
    inner = np.zeros(0)
    moments = (math.nan, math.nan)
    # Values near the float maximum overflow while interpolating or summing; those results are dropped below.
    with np.errstate(over="ignore", invalid="ignore"):
        if len(finite):
            # Edges from an evenly spaced sample of a long column: the bins barely move, the partition is 10x
            # cheaper; the counts are still of every value, and the outer edges are the column's own min and max.
            step = max(1, len(finite) // QUANTILE_SAMPLE)
            quantiles = np.quantile(finite[::step], np.linspace(0, 1, bins + 1))
            quantiles[0], quantiles[-1] = finite.min(), finite.max()
            # The last edge just above the max: the top inner bin holds the max, the outer bin only larger values.
            inner = np.unique(np.append(quantiles[:-1], np.nextafter(quantiles[-1], np.inf)))
            inner = inner[np.isfinite(inner)]
            moments = (float(finite.mean()), float(finite.std()))
    counts = bin_counts(inner, present)
    return NumericReference(
        name=name,
        count=len(values),
        missing=len(values) - len(present) - invalid,
        invalid=invalid,
        edges=(-math.inf, *map(float, inner), math.inf),
        counts=tuple(map(int, counts)),
        min=float(finite.min()) if len(finite) else None,
        max=float(finite.max()) if len(finite) else None,
        mean=_finite(moments[0]),
        std=_finite(moments[1]),
    )


def _categorical(name: str, values: Array) -> CategoricalReference:
    found, missing, invalid = category_counts(values)
    names = sorted(found)
    counts = np.array([found[name] for name in names], dtype=np.int64)
    # Names are sorted, so the stable sort on counts breaks ties by name.
    order = np.argsort(-counts, kind="stable")
    kept = order[:MAX_CATEGORIES]
    return CategoricalReference(
        name=name,
        count=len(values),
        missing=missing,
        invalid=invalid,
        categories=tuple(str(names[i]) for i in kept),
        counts=tuple(int(counts[i]) for i in kept),
        other=int(counts[order[MAX_CATEGORIES:]].sum()),
    )


def _feature_from_json(name: str, data: Mapping[str, Any]) -> FeatureReference:
    counted = {key: decode_count(data[key], key) for key in ("count", "missing", "invalid")}
    feature: FeatureReference
    if data["kind"] == Kind.NUMERIC:
        edges = tuple(decode_float(edge) for edge in data["edges"])
        counts = tuple(decode_count(value, "counts") for value in data["counts"])
        inner = np.array(edges[1:-1])
        if edges[0] != -math.inf or edges[-1] != math.inf or not np.all(np.isfinite(inner)):
            raise ValueError(f"feature {name!r}: edges must run from -inf through finite values to inf")
        if np.any(np.diff(edges) <= 0) or len(counts) != len(edges) - 1:
            raise ValueError(f"feature {name!r}: edges must ascend, with one count per bin")
        low, high, mean, std = (decode_optional_float(data[key]) for key in ("min", "max", "mean", "std"))
        feature = NumericReference(name, **counted, edges=edges, counts=counts, min=low, max=high, mean=mean, std=std)
    elif data["kind"] == Kind.CATEGORICAL:
        categories = tuple(data["categories"])
        counts = tuple(decode_count(value, "counts") for value in data["counts"])
        if not all(isinstance(category, str) for category in categories) or len(set(categories)) != len(counts):
            raise ValueError(f"feature {name!r}: categories must be distinct strings, one count each")
        feature = CategoricalReference(
            name, **counted, categories=categories, counts=counts, other=decode_count(data["other"], "other")
        )
    else:
        raise ValueError(f"feature {name!r} has unknown kind {data['kind']!r}")
    lumped = feature.other if isinstance(feature, CategoricalReference) else 0
    if feature.present < 0 or sum(feature.counts) + lumped != feature.present:
        raise ValueError(f"feature {name!r}: the counts do not add up")
    return feature
