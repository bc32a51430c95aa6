"""Shared pieces of the path-traversal tests (test_path_traversal.py, test_pickle_optin.py): the one table of
traversal payloads every input is attacked with, a canary folder outside every root that must stay untouched,
the real server on a local and an S3 artifact store, and a raw HTTP sender.

The payloads aim at an absolute target: ``../`` repeated more often than any root is deep climbs to ``/`` (where
``..`` stays put) and then walks down to the canary, so the same payload reaches it from any root. Reading a file
updates its access time here (the disk is mounted ``relatime`` and the canary was just written), so an unchanged
access time proves the canary was never read, not only never changed.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from support.servers import free_port, running_server

# In every canary file, so that a response or a stored value carrying canary content is recognised.
MARKER = "canary-7f3a9c"
CANARY_TEXT = f"{MARKER}: outside every root; never to be read, written or deleted\n".encode()
# A table too: a dataset or reference read from it would carry the marker as a column name.
CANARY_CSV = f"{MARKER},value\n1,2\n3,4\n".encode()


def _parquet() -> bytes:
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({MARKER: [1.0, 2.0]}), sink)
    return bytes(sink.getvalue().to_pybytes())


# A metric history or prediction log: what an importer or an ingester reads as Parquet.
CANARY_PARQUET = _parquet()
# Inside a root, the name of a planted symlink that leads to the canary folder.
LINK = "planted"
# More than any root here is deep: the climb always ends at "/".
_CLIMB = 24


@dataclass(frozen=True)
class Payload:
    """One way of naming the canary from inside a root. ``template`` takes ``{target}`` (the canary's absolute
    path without its leading ``/``) and ``{name}`` (its file name); a ``planted_link`` payload names it through
    the symlink :data:`LINK` that the test plants inside the root first."""

    name: str
    template: str
    planted_link: bool = False

    def text(self, canary_file: Path) -> str:
        return self.template.format(target=str(canary_file).lstrip("/"), name=canary_file.name)


def _up(step: str) -> str:
    return step * _CLIMB + "{target}"


PAYLOADS: tuple[Payload, ...] = (
    Payload("dot-dot", _up("../")),
    Payload("percent-encoded", _up("%2e%2e/")),
    Payload("percent-encoded-slash", _up("..%2f")),
    Payload("double-encoded", _up("%252e%252e/")),
    Payload("backslash", _up("..\\")),
    Payload("encoded-backslash", _up("..%5c")),
    Payload("query", "?/" + _up("../")),
    Payload("fragment", "#/" + _up("../")),
    Payload("semicolon", ";/" + _up("../")),
    Payload("proc-self-root", "//proc/self/root/{target}"),
    Payload("file-uri", "file:///{target}"),
    Payload("absolute", "/{target}"),
    Payload("fullwidth-dots", _up("\uff0e\uff0e/")),
    Payload("fullwidth-solidus", _up("\uff0e\uff0e\uff0f")),
    Payload("nul-encoded", "{name}%00/" + _up("../")),
    Payload("nul", "{name}\x00/" + _up("../")),
    Payload("planted-symlink", LINK + "/{name}", planted_link=True),
)
PAYLOAD_IDS = [payload.name for payload in PAYLOADS]


def payloads(*, links: bool = True) -> list[Any]:
    """The table as pytest parameters; without ``links`` for an input that has no folder to plant a link in."""
    return [pytest.param(item, id=item.name) for item in PAYLOADS if links or not item.planted_link]


# ---------------------------------------------------------------------------------------------------------------
# The canary


@dataclass(frozen=True)
class Canary:
    """A folder outside every root holding ``canary.txt`` and ``canary.csv``."""

    folder: Path

    @property
    def file(self) -> Path:
        return self.folder / "canary.txt"

    @property
    def table(self) -> Path:
        return self.folder / "canary.csv"

    @property
    def parquet(self) -> Path:
        return self.folder / "canary.parquet"

    def stats(self) -> dict[str, tuple[int, int, int, int]]:
        """Size, modification and access time and inode of every entry, read without opening any file."""
        found = {}
        for entry in sorted(os.scandir(self.folder), key=lambda item: item.name):
            info = entry.stat(follow_symlinks=False)
            found[entry.name] = (info.st_size, info.st_mtime_ns, info.st_atime_ns, info.st_ino)
        return found

    def plant_link(self, inside: Path) -> Path:
        """A symlink named :data:`LINK` in the folder ``inside`` (created when missing) to the canary folder."""
        inside.mkdir(parents=True, exist_ok=True)
        link = inside / LINK
        link.symlink_to(self.folder, target_is_directory=True)
        return link


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[Canary]:
    """The canary folder; after the test, every file in it is as it was: same bytes, same times, not read."""
    folder = tmp_path / "outside"
    folder.mkdir()
    found = Canary(folder)
    found.file.write_bytes(CANARY_TEXT)
    found.table.write_bytes(CANARY_CSV)
    found.parquet.write_bytes(CANARY_PARQUET)
    before = found.stats()
    yield found
    assert found.stats() == before, "the canary folder was read, written or changed"
    assert found.file.read_bytes() == CANARY_TEXT and found.table.read_bytes() == CANARY_CSV
    assert found.parquet.read_bytes() == CANARY_PARQUET


def assert_no_canary(body: bytes | str, where: str = "") -> None:
    text = body if isinstance(body, str) else body.decode("utf-8", "replace")
    assert MARKER not in text, f"canary content leaked {where}: {text[:300]}"


# ---------------------------------------------------------------------------------------------------------------
# Answers


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def assert_refused(answer: Answer, where: str, *, mlflow: bool = False) -> None:
    """A clean refusal in the API's own error shape, without canary content: 400 (refused), 404 (names nothing),
    403 (a symlink in the store), or 405/415 when what is left of the target after ``?`` or ``#`` is the bare
    collection, which takes no such request."""
    assert_no_canary(answer.body, where)
    assert answer.status in (400, 403, 404, 405, 415), f"{where}: {answer.status} {answer.body[:300]!r}"
    body = answer.json()
    if mlflow:
        assert isinstance(body.get("error_code"), str) and isinstance(body.get("message"), str), (where, body)
    else:
        error = body.get("error")
        assert isinstance(error, dict) and {"code", "message"} <= set(error), (where, body)


def wire(text: str) -> str:
    """``text`` as it goes into a request line: bytes HTTP cannot carry raw (controls, space, non-ASCII) are
    percent-encoded as a browser would; everything else (``..``, ``%``, ``\\``, ``?``, ``#``, ``;``) is sent as is."""
    return "".join(char if "\x20" < char < "\x7f" else quote(char, safe="") for char in text)


def raw_request(base: str, method: str, target: str, body: bytes | None = None) -> Answer:
    """A request whose target goes on the wire exactly as given (httpx would normalise dot segments away)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        headers = {"Content-Type": "application/json"} if body is not None and body[:1] == b"{" else {}
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.read())
    finally:
        connection.close()


def call(base: str, method: str, path: str, payload: dict[str, Any] | None = None) -> Answer:
    """A JSON request to a path that holds no payload of its own (the payload is in the body)."""
    return raw_request(base, method, path, None if payload is None else json.dumps(payload).encode())


# ---------------------------------------------------------------------------------------------------------------
# The server, on a local artifact folder and on S3


@dataclass(frozen=True)
class Served:
    url: str
    home: Path
    # The artifact folder (local store), or None on S3.
    artifacts: Path | None
    bucket: str | None = None


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[str]:
    """A moto S3 server on a free loopback port for the module, and the AWS environment pointing at it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", endpoint),
        ):
            patch.setenv(name, value)
        yield endpoint
    server.stop()


@pytest.fixture(scope="module", params=["local", "s3"])
def traversal_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The real server (SQLite) with its artifacts in its data folder or in an S3 bucket (moto)."""
    home = tmp_path_factory.mktemp("traversal-home")
    with pytest.MonkeyPatch.context() as patch:
        bucket = None
        if request.param == "s3":
            import fsspec

            request.getfixturevalue("moto_s3")
            bucket = f"traversal-{uuid.uuid4().hex[:12]}"
            fsspec.filesystem("s3", skip_instance_cache=True).mkdir(bucket)
            patch.setenv("RIDGELINE_ARTIFACTS_URI", f"s3://{bucket}/artifacts")
        else:
            patch.delenv("RIDGELINE_ARTIFACTS_URI", raising=False)
        with running_server(home, f"sqlite:///{home / 'meta.db'}") as url:
            yield Served(url, home, None if bucket else home / "artifacts", bucket)


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The real server (SQLite) with its artifacts in its data folder: for inputs that do not touch the store."""
    home = tmp_path_factory.mktemp("traversal-local-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("RIDGELINE_ARTIFACTS_URI", raising=False)
        with running_server(home, f"sqlite:///{home / 'meta.db'}") as url:
            yield Served(url, home, home / "artifacts")


def bucket_outside(bucket: str) -> dict[str, tuple[int, str]]:
    """Every object of the bucket outside the artifact prefix, with its size and ETag."""
    import fsspec

    fs = fsspec.filesystem("s3", skip_instance_cache=True, use_listings_cache=False)
    found = fs.find(bucket, detail=True)
    return {
        name: (int(info["size"]), str(info.get("ETag")))
        for name, info in found.items()
        if not name.startswith(f"{bucket}/artifacts/")
    }
