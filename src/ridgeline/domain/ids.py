"""Identifiers and clocks."""

from __future__ import annotations

import time
import uuid


def new_id() -> str:
    """A 32-hex-character random id, made by clients and servers alike (so runs can be created offline)."""
    return uuid.uuid4().hex


def now_ms() -> int:
    return time.time_ns() // 1_000_000
