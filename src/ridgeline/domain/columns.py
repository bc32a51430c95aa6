"""A compact binary form of a metric history, for clients that fetch millions of points.

Layout: one line of JSON (``run_id``, ``key``, ``total``, ``downsampled``, ``count``) ending in ``\\n``, then
``count`` little-endian int64 steps, ``count`` float64 values and ``count`` int64 timestamps. NaN and ±inf
travel as they are. Served by the history endpoint when the request's Accept header names ``MEDIA_TYPE``.
"""

from __future__ import annotations

import json
import sys
from array import array
from typing import Any

from ridgeline.domain.entities import MetricHistory
from ridgeline.domain.errors import InvalidArgument

MEDIA_TYPE = "application/x-ridgeline-columns"


def encode_header(history: MetricHistory) -> bytes:
    header = {
        "run_id": history.run_id,
        "key": history.key,
        "total": history.total,
        "downsampled": history.downsampled,
        "count": len(history),
    }
    return json.dumps(header, separators=(",", ":")).encode() + b"\n"


def _column(code: str, data: Any) -> array[Any]:
    column = array(code)
    column.frombytes(memoryview(data).cast("B"))
    return column


def as_arrays(history: MetricHistory) -> MetricHistory:
    """The same history with ``array.array`` columns, as the HTTP client returns it, so callers see one type
    whichever backend answered. The columns must be contiguous native-endian buffers (numpy arrays are)."""
    return MetricHistory(
        history.run_id,
        history.key,
        _column("q", history.steps),
        _column("d", history.values),
        _column("q", history.timestamps),
        history.total,
        history.downsampled,
    )


def decode(body: bytes) -> MetricHistory:
    newline = body.find(b"\n")
    if newline < 0:
        raise InvalidArgument("column response has no header line")
    header = json.loads(body[:newline])
    count = int(header["count"])
    start = newline + 1
    width = 8 * count
    if len(body) != start + 3 * width:
        raise InvalidArgument(f"column response holds {len(body) - start} bytes, expected {3 * width}")
    steps, values, stamps = array("q"), array("d"), array("q")
    steps.frombytes(body[start : start + width])
    values.frombytes(body[start + width : start + 2 * width])
    stamps.frombytes(body[start + 2 * width :])
    if sys.byteorder == "big":
        for column in (steps, values, stamps):
            column.byteswap()
    return MetricHistory(
        header["run_id"], header["key"], steps, values, stamps, int(header["total"]), bool(header["downsampled"])
    )
