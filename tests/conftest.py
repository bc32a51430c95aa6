"""Fixtures: one named fixture per configuration, all on real components.

- ``backend_uri``: a fresh metadata database, parametrised over SQLite (a file) and PostgreSQL (a throwaway
  cluster started once per session). Tests that take it, directly or through ``store``/``tracking``/``server``,
  run on both.
- ``store`` / ``tracking``: the metadata store and tracking service on that database.
- ``server``: the real server on a free loopback port, on that database; yields its base URL.
- ``home``: an empty data folder.
"""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
# One terminal width for every test process, set before anything builds a rich console: CLI output is checked as
# unwrapped lines, and which test first imported the CLI must not decide its width.
os.environ.setdefault("COLUMNS", "250")

from ridgeline.server.rate_limit import reset_all
from ridgeline.services.tracking import TrackingService
from ridgeline.store.metadata import MetadataStore
from support.postgres import PostgresCluster, require_postgres
from support.servers import running_server


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashes() -> Iterator[None]:
    """Password hashes are argon2id at its smallest cost in this process's servers. The tests check what is hashed
    and how it is used; the production cost (~0.1 s a hash, by design) would be most of their time. Servers started
    as subprocesses keep the real cost."""
    from argon2 import PasswordHasher

    import ridgeline.services.accounts as accounts

    saved = accounts._hasher, accounts._DUMMY_HASH
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    accounts._DUMMY_HASH = accounts._hasher.hash("not anyone's password")
    yield
    accounts._hasher, accounts._DUMMY_HASH = saved


@pytest.fixture(autouse=True)
def _no_failed_attempts_carried_over() -> None:
    """Every test server runs in this process and is reached from 127.0.0.1: one test's failed logins must not
    count against the next one's."""
    reset_all()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads or writes the developer's ~/.ridgeline or follows their tracking URI."""
    monkeypatch.setenv("RIDGELINE_HOME", str(tmp_path_factory.mktemp("default-home")))
    monkeypatch.delenv("RIDGELINE_TRACKING_URI", raising=False)
    monkeypatch.delenv("RIDGELINE_BACKEND_URI", raising=False)
    # Environment capture adds tags, system metrics and a stdout tee to every run; tests that check it ask for it.
    monkeypatch.setenv("RIDGELINE_CAPTURE", "none")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    require_postgres()
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'meta.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database()


@pytest.fixture
def store(backend_uri: str) -> Iterator[MetadataStore]:
    metadata = MetadataStore(backend_uri)
    yield metadata
    metadata.close()


@pytest.fixture
def tracking(store: MetadataStore) -> TrackingService:
    return TrackingService(store)


@pytest.fixture
def server(home: Path, backend_uri: str) -> Iterator[str]:
    with running_server(home, backend_uri) as url:
        yield url
