"""Mergeable profiles of production data against a :class:`~ridgeline.monitoring.reference.Reference`.

``WindowProfile.of(reference, columns)`` profiles one batch; ``a.merge(b)`` combines two profiles of the same
reference into the profile of both batches, so a time window is the merge of its batches (or of its hours) in any
order and grouping: merge is associative and commutative, and the merged counts, bins, categories, min and max
equal a single pass over all the data exactly (the float sums up to rounding). ``WindowProfile.empty(reference)``
is the neutral element. Drift (:mod:`~ridgeline.monitoring.drift`) and quality (:mod:`~ridgeline.monitoring.quality`)
read a profile together with its reference.

Value conventions (missing values, type violations, kinds) are the reference module's. Per feature:

- ``count`` every value seen, of which ``missing`` and ``invalid`` (type violations); ``present`` the rest.
- Numeric: ``bins`` counts on the reference's edges (every present value falls in one, ±inf in the outer ones);
  ``infinite``; ``out_of_range``: present values below the reference's min or above its max, the outer bins
  (±inf included; all present values when the reference has no finite value); ``min`` and ``max`` of the finite
  values (None without one);
  ``total`` and ``total_sq``: the sums of ``x - center`` and its square over the finite values, where ``center``
  is the reference mean. Summing around the reference mean rather than zero keeps the variance accurate when the
  mean is large against the spread. Sums that overflow stay ±inf or NaN, and ``mean`` and ``std`` are then None.
- Categorical: ``counts``, aligned with the reference's categories; ``unseen``: the values outside them, by
  category. At most ``MAX_CATEGORIES`` unseen categories are named: the alphabetically first, a choice that,
  unlike the most frequent, survives merging exactly; the others' values are counted in ``unseen_other``.

A reference feature absent from the columns is counted as missing in every row of the batch; columns the reference
does not know are ignored. JSON floats follow the reference module's encoding ("inf", "-inf" and "nan" as strings).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.reference import (
    JSON_FORMAT,
    MAX_CATEGORIES,
    Array,
    CategoricalReference,
    Kind,
    NumericReference,
    Reference,
    as_columns,
    bin_counts,
    category_counts,
    decode_count,
    decode_float,
    decode_optional_float,
    encode_float,
    numeric_values,
)


@dataclass(frozen=True)
class NumericWindow:
    count: int
    missing: int
    invalid: int
    bins: tuple[int, ...]
    infinite: int
    min: float | None
    max: float | None
    center: float
    total: float
    total_sq: float

    @property
    def present(self) -> int:
        return self.count - self.missing - self.invalid

    @property
    def out_of_range(self) -> int:
        return self.bins[0] + self.bins[-1] if len(self.bins) > 1 else self.present

    @property
    def mean(self) -> float | None:
        finite = self.present - self.infinite
        return _finite(self.center + self.total / finite) if finite else None

    @property
    def std(self) -> float | None:
        """The population standard deviation of the finite values."""
        finite = self.present - self.infinite
        if not finite:
            return None
        offset = self.total / finite
        # Multiplication, not ** 2: a Python float power raises on overflow where a product gives inf.
        variance = self.total_sq / finite - offset * offset
        return _finite(math.sqrt(max(variance, 0.0))) if math.isfinite(variance) else None

    def merge(self, other: FeatureWindow) -> NumericWindow:
        if not isinstance(other, NumericWindow) or len(self.bins) != len(other.bins) or self.center != other.center:
            raise InvalidArgument("numeric profiles of different references cannot be merged", field="window")
        return NumericWindow(
            count=self.count + other.count,
            missing=self.missing + other.missing,
            invalid=self.invalid + other.invalid,
            bins=tuple(a + b for a, b in zip(self.bins, other.bins, strict=True)),
            infinite=self.infinite + other.infinite,
            min=_extreme(min, self.min, other.min),
            max=_extreme(max, self.max, other.max),
            center=self.center,
            total=self.total + other.total,
            total_sq=self.total_sq + other.total_sq,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": Kind.NUMERIC.value,
            "count": self.count,
            "missing": self.missing,
            "invalid": self.invalid,
            "bins": list(self.bins),
            "infinite": self.infinite,
            "min": self.min,
            "max": self.max,
            "center": self.center,
            "sum": encode_float(self.total),
            "sum_sq": encode_float(self.total_sq),
        }


@dataclass(frozen=True)
class CategoricalWindow:
    count: int
    missing: int
    invalid: int
    counts: tuple[int, ...]
    unseen: dict[str, int]
    unseen_other: int

    @property
    def present(self) -> int:
        return self.count - self.missing - self.invalid

    @property
    def unseen_total(self) -> int:
        return sum(self.unseen.values()) + self.unseen_other

    def merge(self, other: FeatureWindow) -> CategoricalWindow:
        if not isinstance(other, CategoricalWindow) or len(self.counts) != len(other.counts):
            raise InvalidArgument("categorical profiles of different references cannot be merged", field="window")
        unseen = dict(self.unseen)
        for name, value in other.unseen.items():
            unseen[name] = unseen.get(name, 0) + value
        named, dropped = _cap(unseen)
        return CategoricalWindow(
            count=self.count + other.count,
            missing=self.missing + other.missing,
            invalid=self.invalid + other.invalid,
            counts=tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),
            unseen=named,
            unseen_other=self.unseen_other + other.unseen_other + dropped,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": Kind.CATEGORICAL.value,
            "count": self.count,
            "missing": self.missing,
            "invalid": self.invalid,
            "counts": list(self.counts),
            "unseen": dict(self.unseen),
            "unseen_other": self.unseen_other,
        }


FeatureWindow = NumericWindow | CategoricalWindow


@dataclass(frozen=True)
class WindowProfile:
    reference: str
    rows: int
    features: dict[str, FeatureWindow]

    @classmethod
    def of(cls, reference: Reference, columns: Mapping[str, Any]) -> WindowProfile:
        """The profile of one batch of equally long columns."""
        arrays = as_columns(columns)
        rows = len(next(iter(arrays.values()))) if arrays else 0
        features: dict[str, FeatureWindow] = {}
        for name, ref in reference.features.items():
            values = arrays.get(name)
            if values is None:
                features[name] = replace(_empty(ref), count=rows, missing=rows)
            elif isinstance(ref, NumericReference):
                features[name] = _numeric(ref, values)
            else:
                features[name] = _categorical(ref, values)
        return cls(reference.fingerprint, rows, features)

    @classmethod
    def empty(cls, reference: Reference) -> WindowProfile:
        return cls(reference.fingerprint, 0, {name: _empty(ref) for name, ref in reference.features.items()})

    def merge(self, other: WindowProfile) -> WindowProfile:
        if self.reference != other.reference or self.features.keys() != other.features.keys():
            raise InvalidArgument("window profiles of different references cannot be merged", field="window")
        features: dict[str, FeatureWindow] = {}
        for name, mine in self.features.items():
            features[name] = mine.merge(other.features[name])
        return WindowProfile(self.reference, self.rows + other.rows, features)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": JSON_FORMAT,
            "reference": self.reference,
            "rows": self.rows,
            "features": {name: feature.to_json() for name, feature in self.features.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WindowProfile:
        try:
            if data["format"] != JSON_FORMAT:
                raise ValueError(f"unknown format {data['format']!r}")
            features = {str(name): _feature_from_json(str(name), f) for name, f in data["features"].items()}
            return cls(str(data["reference"]), decode_count(data["rows"], "rows"), features)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InvalidArgument(f"malformed window profile JSON: {error}", field="window") from None


def _numeric(ref: NumericReference, values: Array) -> NumericWindow:
    numbers, invalid = numeric_values(values)
    missing = np.isnan(numbers)
    present = numbers[~missing] if missing.any() else numbers
    finite_mask = np.isfinite(present)
    finite = present if finite_mask.all() else present[finite_mask]
    bins = bin_counts(np.array(ref.edges[1:-1]), present)
    center = _center(ref)
    # Huge values may overflow the sums: they stay ±inf or NaN (documented) instead of warning.
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = finite - center
        # einsum, not np.dot: dot goes to the BLAS library, whose threads wait for a busy second core (40-190 ms
        # instead of 0.02 ms for 50,000 values on a loaded 2-core machine).
        total, total_sq = float(shifted.sum()), float(np.einsum("i,i->", shifted, shifted))
    return NumericWindow(
        count=len(values),
        missing=int(missing.sum()) - invalid,
        invalid=invalid,
        bins=tuple(map(int, bins)),
        infinite=len(present) - len(finite),
        min=float(finite.min()) if len(finite) else None,
        max=float(finite.max()) if len(finite) else None,
        center=center,
        total=total,
        total_sq=total_sq,
    )


def _categorical(ref: CategoricalReference, values: Array) -> CategoricalWindow:
    found, missing, invalid = category_counts(values)
    index = {category: i for i, category in enumerate(ref.categories)}
    aligned = [0] * len(ref.categories)
    unseen: dict[str, int] = {}
    for name, number in sorted(found.items()):
        position = index.get(name)
        if position is None:
            unseen[name] = number
        else:
            aligned[position] = number
    named, dropped = _cap(unseen)
    return CategoricalWindow(len(values), missing, invalid, tuple(aligned), named, dropped)


def _empty(ref: NumericReference | CategoricalReference) -> FeatureWindow:
    if isinstance(ref, NumericReference):
        return NumericWindow(0, 0, 0, (0,) * len(ref.counts), 0, None, None, _center(ref), 0.0, 0.0)
    return CategoricalWindow(0, 0, 0, (0,) * len(ref.categories), {}, 0)


def _center(ref: NumericReference) -> float:
    return ref.mean if ref.mean is not None else 0.0


def _cap(unseen: dict[str, int]) -> tuple[dict[str, int], int]:
    """The alphabetically first MAX_CATEGORIES categories, sorted, and the number of values of the others."""
    names = sorted(unseen)
    return {name: unseen[name] for name in names[:MAX_CATEGORIES]}, sum(unseen[name] for name in names[MAX_CATEGORIES:])


def _extreme(pick: Callable[[float, float], float], a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    return pick(a, b)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _feature_from_json(name: str, data: Mapping[str, Any]) -> FeatureWindow:
    count, missing, invalid = (decode_count(data[key], key) for key in ("count", "missing", "invalid"))
    feature: FeatureWindow
    if data["kind"] == Kind.NUMERIC:
        feature = NumericWindow(
            count=count,
            missing=missing,
            invalid=invalid,
            bins=tuple(decode_count(value, "bins") for value in data["bins"]),
            infinite=decode_count(data["infinite"], "infinite"),
            min=decode_optional_float(data["min"]),
            max=decode_optional_float(data["max"]),
            center=decode_float(data["center"]),
            total=decode_float(data["sum"]),
            total_sq=decode_float(data["sum_sq"]),
        )
        tallied = sum(feature.bins)
    elif data["kind"] == Kind.CATEGORICAL:
        unseen = {str(key): decode_count(value, "unseen") for key, value in dict(data["unseen"]).items()}
        counts = tuple(decode_count(value, "counts") for value in data["counts"])
        feature = CategoricalWindow(
            count, missing, invalid, counts, unseen, decode_count(data["unseen_other"], "unseen_other")
        )
        tallied = sum(counts) + feature.unseen_total
    else:
        raise ValueError(f"feature {name!r} has unknown kind {data['kind']!r}")
    if feature.present < 0 or tallied != feature.present:
        raise ValueError(f"feature {name!r}: the counts do not add up")
    return feature
