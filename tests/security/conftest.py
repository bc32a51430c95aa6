"""Fixtures of the security tests: one real server per backend and test module, the credentials every request
carries, and a small world of entities for hostile requests to aim at (tests/security/hostile.py).

The server is module-scoped (and parametrised over SQLite and PostgreSQL like ``backend_uri``): these modules send
thousands of requests, and a server with a freshly migrated database per test would cost more than the requests.
Tests that write make their own project, so sharing one server inside a module is safe.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hostile import API, MLFLOW, T0, ReconnectingTransport, World, seed_world

from support.servers import running_server

# Re-exported: test modules of this folder that import them from conftest keep working (hostile is their home).
__all__ = ["API", "MLFLOW", "T0", "World", "seed_world"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A module that sets ``SQLITE_ONLY = True`` (and says why) runs on SQLite alone: its PostgreSQL cases are
    deselected, not skipped."""
    dropped = [
        item
        for item in items
        if getattr(getattr(item, "module", None), "SQLITE_ONLY", False)
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("security_server") == "postgresql"
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def security_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real server on a free loopback port, on a fresh SQLite file or PostgreSQL database; its base URL."""
    home = tmp_path_factory.mktemp("security-home")
    if request.param == "sqlite":
        backend_uri = f"sqlite:///{home / 'meta.db'}"
    else:
        backend_uri = request.getfixturevalue("postgres_cluster").create_database()
    with running_server(home, backend_uri) as url:
        yield url


@pytest.fixture(scope="module")
def auth_headers(security_server: str) -> dict[str, str]:
    """Headers that authenticate a request to ``security_server``.

    Empty while the server runs in local single-user mode, where no credentials are needed. When the server
    fixture turns accounts on, this signs up (or logs in) a user on ``security_server`` and returns
    ``{"Authorization": "Bearer <token>"}``: every request of these tests already carries it.
    """
    return {}


@pytest.fixture(scope="module")
def http(security_server: str, auth_headers: dict[str, str]) -> Iterator[httpx.Client]:
    """A plain client of the whole server (paths from the root), authenticated; it checks nothing itself."""
    transport = ReconnectingTransport()
    with httpx.Client(base_url=security_server, headers=auth_headers, timeout=60, transport=transport) as client:
        yield client


@pytest.fixture(scope="module")
def world(http: httpx.Client) -> World:
    return seed_world(http)
