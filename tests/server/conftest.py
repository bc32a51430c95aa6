"""Fixtures of the HTTP tests: a checked client for the native API of the real server (both backends)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from api_helpers import api


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with api(server) as http:
        yield http
