"""Fixtures of the artifact tests: the artifact store on a local folder and on S3 (moto in server mode on a
loopback port), the real server on either, and a canary file outside the store that must never change."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ridgeline.services.artifacts import ArtifactService
from ridgeline.services.tracking import TrackingService
from ridgeline.store.artifacts.storage import ArtifactStorage, open_storage
from ridgeline.store.metadata import MetadataStore
from support.servers import free_port, running_server

CANARY_BYTES = b"canary: must never be read, written or deleted\n"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto S3 server for the session, on a free loopback port."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_uri(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; s3fs (and the server) reach moto through the standard AWS environment variables."""
    import fsspec

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    bucket = f"ridgeline-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("s3", skip_instance_cache=True).mkdir(bucket)
    return f"s3://{bucket}/artifacts"


@pytest.fixture(params=["local", "s3"])
def artifacts_uri(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Where artifacts go: a local folder or an S3 bucket; also set as RIDGELINE_ARTIFACTS_URI."""
    uri = str(tmp_path / "store") if request.param == "local" else request.getfixturevalue("s3_uri")
    monkeypatch.setenv("RIDGELINE_ARTIFACTS_URI", uri)
    return uri


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[Path]:
    """A file beside the store that traversal would reach: checked unchanged after each test."""
    path = tmp_path / "canary.txt"
    path.write_bytes(CANARY_BYTES)
    before = path.stat()
    yield path
    after = path.stat()
    assert path.read_bytes() == CANARY_BYTES
    assert (after.st_mtime_ns, after.st_atime_ns) == (before.st_mtime_ns, before.st_atime_ns), "canary was touched"


@pytest.fixture
def artifact_server(home: Path, tmp_path: Path, artifacts_uri: str) -> Iterator[str]:
    """The real server (SQLite metadata) storing artifacts at ``artifacts_uri``; yields its base URL."""
    with running_server(home, f"sqlite:///{tmp_path / 'meta.db'}") as url:
        yield url


@pytest.fixture
def storage(artifacts_uri: str) -> ArtifactStorage:
    return open_storage(artifacts_uri)


@pytest.fixture
def services(tmp_path: Path, storage: ArtifactStorage) -> Iterator[tuple[TrackingService, ArtifactService]]:
    """Tracking and artifact services in-process on a SQLite file and ``storage``."""
    store = MetadataStore(f"sqlite:///{tmp_path / 'services.db'}")
    yield TrackingService(store), ArtifactService(store, storage, max_size=50 * 1024 * 1024)
    store.close()
