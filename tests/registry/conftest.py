"""Registry tests run embedded and over HTTP (SQLite, PostgreSQL), with the SDK settings of tests/client."""

from __future__ import annotations

from client.conftest import _fast_sdk, tracking_uri

__all__ = ["_fast_sdk", "tracking_uri"]
