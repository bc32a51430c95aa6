"""Reduce long metric series to a chart-sized set of points.

Both algorithms return *indices* into the input rather than new arrays, so the caller can pick
the matching rows from any parallel column (timestamps, steps, values) without re-aligning them.
The input is assumed to be sorted by step, which is how metric histories are stored and read.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["DownsampleMethod", "downsample", "lttb_downsample", "minmax_downsample"]

DownsampleMethod = Literal["minmax", "lttb"]

MIN_POINTS = 3
"""First point, last point and at least one point between them: anything less is not a chart."""


def downsample(
    steps: NDArray[np.int64],
    values: NDArray[np.float64],
    points: int,
    method: DownsampleMethod = "minmax",
) -> NDArray[np.intp]:
    """Indices (sorted, unique, at most ``points``) of the samples to draw.

    Raises ``ValueError`` for ``points < 3``, an unknown ``method`` or mismatched inputs.
    """
    if method == "minmax":
        return minmax_downsample(steps, values, points)
    if method == "lttb":
        return lttb_downsample(steps, values, points)
    raise ValueError(f"unknown downsampling method {method!r}; expected 'minmax' or 'lttb'")


def minmax_downsample(steps: NDArray[np.int64], values: NDArray[np.float64], points: int) -> NDArray[np.intp]:
    """Keep the first and last sample plus the min and max of each of ``(points - 2) // 2`` buckets.

    Buckets hold equal index counts (differing by at most one), not equal step ranges, so every
    bucket is non-empty. NaN is ignored when looking for extremes (``fmin``/``fmax`` semantics);
    a bucket that is entirely NaN keeps its first index so the gap still shows. ``±inf`` are
    genuine extremes and are kept like any other.
    """
    vals = _validate(steps, values, points)
    n = vals.shape[0]
    if n <= points:
        return np.arange(n, dtype=np.intp)
    buckets = (points - 2) // 2
    if buckets == 0:
        # A min/max pair needs two slots; with a single free slot LTTB's pick is the one that
        # best preserves the shape, which is what this method promises.
        return lttb_downsample(steps, values, points)

    # The ends are reserved so they are always present without ever exceeding ``points``.
    interior = vals[1:-1]
    starts = _bucket_starts(interior.shape[0], buckets)
    mins = _first_match_per_bucket(interior, starts, np.fmin.reduceat(interior, starts))
    maxs = _first_match_per_bucket(interior, starts, np.fmax.reduceat(interior, starts))
    keep = np.concatenate((np.array([0], dtype=np.intp), mins + 1, maxs + 1, np.array([n - 1], dtype=np.intp)))
    return np.unique(keep).astype(np.intp, copy=False)


def lttb_downsample(steps: NDArray[np.int64], values: NDArray[np.float64], points: int) -> NDArray[np.intp]:
    """Largest-Triangle-Three-Buckets (Steinarsson, 2013): one sample per bucket.

    Each of the ``points - 2`` interior buckets keeps the sample forming the largest triangle with
    the previously kept sample and the mean of the next bucket. Non-finite values cannot take part
    in an area, so for the geometry they are replaced by their bucket's finite mean; but a bucket
    that contains a NaN or ±inf keeps (the first) such sample instead, because hiding a divergence
    is worse than a slightly less faithful line.
    """
    vals = _validate(steps, values, points)
    n = vals.shape[0]
    if n <= points:
        return np.arange(n, dtype=np.intp)

    x = np.asarray(steps, dtype=np.float64)
    finite = np.isfinite(vals)
    buckets = points - 2
    starts = _bucket_starts(n - 2, buckets) + 1
    ends = np.append(starts[1:], n - 1)
    sizes = ends - starts

    # reduceat over ``[: n - 1]`` makes the last bucket stop before the (reserved) last sample.
    finite_count = np.add.reduceat(finite[: n - 1].astype(np.intp), starts)
    # Sums go through float64 and may overflow for values near the float limits; the areas only
    # need to be comparable, so an inf mean there is tolerated rather than special-cased.
    with np.errstate(over="ignore", invalid="ignore"):
        finite_sum = np.add.reduceat(np.where(finite, vals, 0.0)[: n - 1], starts)
        fill = _finite_fill(vals, finite)
        y_mean = np.where(finite_count > 0, finite_sum / np.maximum(finite_count, 1), fill)
        x_mean = np.add.reduceat(x[: n - 1], starts) / sizes
    stand_in = np.empty(n, dtype=np.float64)
    stand_in[0] = stand_in[n - 1] = fill
    stand_in[1 : n - 1] = np.repeat(y_mean, sizes)
    y = np.where(finite, vals, stand_in)

    # The first non-finite sample of each bucket, or -1 when the bucket is clean.
    bad = np.flatnonzero(~finite[1 : n - 1]) + 1
    first_bad = np.full(buckets, -1, dtype=np.intp)
    if bad.size:
        owner = np.searchsorted(starts, bad, side="right") - 1
        owner_first = np.unique(owner, return_index=True)
        first_bad[owner_first[0]] = bad[owner_first[1]]

    keep = np.empty(points, dtype=np.intp)
    keep[0] = 0
    keep[-1] = n - 1
    ax, ay = x[0], y[0]
    with np.errstate(over="ignore", invalid="ignore"):
        for b in range(buckets):
            lo, hi = int(starts[b]), int(ends[b])
            if first_bad[b] >= 0:
                chosen = int(first_bad[b])
            else:
                if b + 1 < buckets:
                    cx, cy = x_mean[b + 1], y_mean[b + 1]
                else:
                    cx, cy = x[n - 1], y[n - 1]
                # Twice the triangle area; the constant factor does not change the argmax.
                area = np.abs((ax - cx) * (y[lo:hi] - ay) - (ax - x[lo:hi]) * (cy - ay))
                chosen = lo + int(np.argmax(area))
            keep[b + 1] = chosen
            ax, ay = x[chosen], y[chosen]
    return keep


def _validate(steps: NDArray[np.int64], values: NDArray[np.float64], points: int) -> NDArray[np.float64]:
    if points < MIN_POINTS:
        raise ValueError(
            f"cannot downsample to {points} points: at least {MIN_POINTS} are needed (first, last and one in between)"
        )
    vals = np.asarray(values, dtype=np.float64)
    if vals.ndim != 1 or np.ndim(steps) != 1:
        raise ValueError("steps and values must be one-dimensional arrays")
    if np.shape(steps)[0] != vals.shape[0]:
        raise ValueError(f"steps and values differ in length ({np.shape(steps)[0]} != {vals.shape[0]})")
    return vals


def _bucket_starts(length: int, buckets: int) -> NDArray[np.intp]:
    """Start offsets of ``buckets`` contiguous, non-empty buckets covering ``range(length)``.

    Integer arithmetic keeps the sizes within one of each other with no float rounding surprises.
    """
    return (np.arange(buckets, dtype=np.intp) * length) // buckets


def _first_match_per_bucket(
    vals: NDArray[np.float64], starts: NDArray[np.intp], target: NDArray[np.float64]
) -> NDArray[np.intp]:
    """Per bucket, the first index whose value equals the bucket's ``target``.

    Equality with a value taken from the bucket itself is exact; it only fails when ``target`` is
    NaN (an all-NaN bucket), and that bucket then falls back to its first index.
    """
    sizes = np.diff(np.append(starts, vals.shape[0]))
    hits = np.flatnonzero(vals == np.repeat(target, sizes))
    result = starts.copy()
    if hits.size:
        pos = np.searchsorted(hits, starts)
        ends = starts + sizes
        found = pos < hits.size
        candidate = hits[np.minimum(pos, hits.size - 1)]
        found &= candidate < ends
        result[found] = candidate[found]
    return result


def _finite_fill(vals: NDArray[np.float64], finite: NDArray[np.bool_]) -> float:
    """Stand-in y for a bucket without any finite value: the series' finite mean, else 0."""
    if not finite.any():
        return 0.0
    return float(np.mean(vals[finite]))
