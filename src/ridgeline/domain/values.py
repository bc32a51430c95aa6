"""How text values (params, tags) are read as numbers, shared by search in SQL and in Python."""

from __future__ import annotations

import math
import re

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def numeric_value(text: str) -> float | None:
    """The number a param or tag value spells, or None when it is not a finite decimal number.

    Only plain decimal notation counts ("0.01", "-3", "1e-4"); "nan", "inf" and Python's "1_000" do not, so the
    stored column and the Python evaluator of a filter always agree.
    """
    if len(text) > 64 or not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None
