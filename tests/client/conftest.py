"""SDK test fixtures: every behaviour is checked embedded (a data folder) and over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.servers import running_server


@pytest.fixture(autouse=True)
def _fast_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send often, and never let a broken test hang for the default two minutes at finish() or exit."""
    monkeypatch.setenv("RIDGELINE_FLUSH_INTERVAL", "0.05")
    monkeypatch.setenv("RIDGELINE_FLUSH_TIMEOUT", "20")
    monkeypatch.setenv("RIDGELINE_HTTP_TIMEOUT", "10")


@pytest.fixture(params=["embedded", "http-sqlite", "http-postgresql"])
def tracking_uri(request: pytest.FixtureRequest, home: Path, tmp_path: Path) -> Iterator[str]:
    """A tracking URI: the data folder itself, or the real server on SQLite or on a throwaway PostgreSQL."""
    if request.param == "embedded":
        yield str(home)
        return
    if request.param == "http-sqlite":
        backend_uri = f"sqlite:///{tmp_path / 'server-meta.db'}"
    else:
        backend_uri = request.getfixturevalue("postgres_cluster").create_database()
    with running_server(home, backend_uri) as url:
        yield url
