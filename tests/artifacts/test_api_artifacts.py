"""The artifacts API on the real server, with the store on a local folder and on S3 (moto): byte-identical
round trips, headers that keep user content inert, ranges, listing, deletion, storage used, and every
traversal form refused on upload, download, listing and deletion."""

from __future__ import annotations

import hashlib
import http.client
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from ridgeline.store.artifacts.storage import open_storage
from server.api_helpers import api, error, make_run, ok


def _put(client: httpx.Client, run_id: str, path: str, data: bytes, **headers: str) -> httpx.Response:
    return client.put(f"/runs/{run_id}/artifacts/{path}", content=data, headers=headers)


@pytest.fixture
def client(artifact_server: str) -> Iterator[httpx.Client]:
    with api(artifact_server) as http:
        yield http


def test_round_trip_is_byte_identical(client: httpx.Client) -> None:
    run = make_run(client)
    payloads = {
        "model.bin": os.urandom(3 * 1024 * 1024 + 17),
        "nested/dir/notes.txt": "héllo\n".encode(),
        "empty.dat": b"",
    }
    for path, data in payloads.items():
        stored = ok(_put(client, run["id"], path, data), 201)
        assert stored == {**stored, "path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    for path, data in payloads.items():
        response = client.get(f"/runs/{run['id']}/artifacts/{path}")
        assert response.status_code == 200
        assert response.content == data
        assert response.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
        assert response.headers["content-length"] == str(len(data))
        assert response.headers["x-content-type-options"] == "nosniff"
    listing = ok(client.get(f"/runs/{run['id']}/artifacts"))
    assert [item["path"] for item in listing["files"]] == sorted(payloads)
    assert listing["bytes"] == sum(map(len, payloads.values()))
    nested = ok(client.get(f"/runs/{run['id']}/artifacts", params={"prefix": "nested/"}))
    assert [item["path"] for item in nested["files"]] == ["nested/dir/notes.txt"]


def test_html_and_svg_are_attachments_never_inline(client: httpx.Client) -> None:
    run = make_run(client)
    for path in ("report.html", "chart.svg", "page.xhtml", "unknown.weird"):
        ok(_put(client, run["id"], path, b"<svg onload=alert(1)>"), 201)
        response = client.get(f"/runs/{run['id']}/artifacts/{path}")
        assert response.headers["content-disposition"].startswith("attachment;"), path
        assert "sandbox" in response.headers["content-security-policy"]
    ok(_put(client, run["id"], "plain.txt", b"hi"), 201)
    assert "content-disposition" not in client.get(f"/runs/{run['id']}/artifacts/plain.txt").headers


def test_range_resumes_a_download(client: httpx.Client) -> None:
    run = make_run(client)
    data = os.urandom(100_000)
    ok(_put(client, run["id"], "blob", data), 201)
    url = f"/runs/{run['id']}/artifacts/blob"
    part = client.get(url, headers={"Range": "bytes=1000-"})
    assert part.status_code == 206
    assert part.content == data[1000:]
    assert part.headers["content-range"] == f"bytes 1000-99999/{len(data)}"
    assert client.get(url, headers={"Range": "bytes=-10"}).content == data[-10:]
    error(client.get(url, headers={"Range": "bytes=200000-"}), 416, "RANGE_NOT_SATISFIABLE")


def test_sha256_header_is_checked_and_a_mismatch_stores_nothing(client: httpx.Client) -> None:
    run = make_run(client)
    good = hashlib.sha256(b"abc").hexdigest()
    ok(_put(client, run["id"], "a.txt", b"abc", **{"X-Content-SHA256": good}), 201)
    error(_put(client, run["id"], "b.txt", b"abd", **{"X-Content-SHA256": good}), 400, "INVALID_ARGUMENT")
    error(client.get(f"/runs/{run['id']}/artifacts/b.txt"), 404, "NOT_FOUND")


def test_replace_delete_and_storage_used(client: httpx.Client) -> None:
    run = make_run(client)
    ok(_put(client, run["id"], "a.bin", b"x" * 10), 201)
    ok(_put(client, run["id"], "a.bin", b"y" * 30), 201)
    ok(_put(client, run["id"], "b.bin", b"z" * 5), 201)
    assert client.get(f"/runs/{run['id']}/artifacts/a.bin").content == b"y" * 30
    usage = ok(client.get(f"/runs/{run['id']}/storage"))
    assert (usage["files"], usage["bytes"]) == (2, 35)
    assert client.delete(f"/runs/{run['id']}/artifacts/a.bin").status_code == 204
    error(client.get(f"/runs/{run['id']}/artifacts/a.bin"), 404, "NOT_FOUND")
    error(client.delete(f"/runs/{run['id']}/artifacts/a.bin"), 404, "NOT_FOUND")
    project = ok(client.get(f"/projects/{run['project_id']}/storage"))
    assert (project["files"], project["bytes"]) == (1, 5)
    assert project["runs"][0] == {**project["runs"][0], "run_id": run["id"], "bytes": 5, "deleted": False}


def test_unknown_run_and_deleted_run(client: httpx.Client) -> None:
    error(_put(client, "f" * 32, "a.txt", b"x"), 404, "NOT_FOUND")
    error(_put(client, "not-an-id", "a.txt", b"x"), 400, "INVALID_ARGUMENT")
    run = make_run(client)
    ok(client.delete(f"/runs/{run['id']}"))
    error(_put(client, run["id"], "a.txt", b"x"), 409, "CONFLICT")


def _raw(base: str, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    """A request with the path sent exactly as given: httpx would normalise dot segments away."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


TRAVERSALS = [
    "../canary.txt",
    "../../canary.txt",
    "a/../../../canary.txt",
    "%2e%2e/canary.txt",
    "%2e%2e%2fcanary.txt",
    "%252e%252e/%252e%252e/canary.txt",
    "..%2f..%2fcanary.txt",
    "..%5c..%5ccanary.txt",
    "..\\..\\canary.txt",
    "%2fetc%2fpasswd",
    "a/%00/b",
    "a//b",
    "./a",
]


@pytest.mark.parametrize("form", TRAVERSALS)
def test_every_traversal_form_is_refused_on_every_operation(
    artifact_server: str, client: httpx.Client, canary: Path, form: str
) -> None:
    run = make_run(client)
    base = f"/api/v1/runs/{run['id']}/artifacts"
    for method, body in (("PUT", b"evil"), ("GET", None), ("DELETE", None)):
        status, text = _raw(artifact_server, method, f"{base}/{form}", body)
        # 400 (refused) or 404 (a normalised path that names nothing): never a success, never the canary.
        assert status in (400, 404), (method, form, status, text)
        assert b"canary: must" not in text
    status, text = _raw(artifact_server, "GET", f"{base}?prefix={form}")
    assert status in (400, 404), (form, status, text)
    assert ok(client.get(f"/runs/{run['id']}/artifacts"))["files"] == []


def test_symlink_escaping_the_root_is_refused(tmp_path: Path, artifacts_uri: str, client: httpx.Client) -> None:
    if "://" in artifacts_uri:
        pytest.skip("object stores have no symlinks")
    canary_dir = tmp_path / "outside"
    canary_dir.mkdir()
    (canary_dir / "data.txt").write_bytes(b"outside secret")
    run = make_run(client)
    ok(_put(client, run["id"], "data/data.txt", b"inside"), 201)
    run_folder = Path(artifacts_uri) / run["id"]
    # Someone with access to the store swaps a folder for a symlink leading out of it.
    (run_folder / "data" / "data.txt").unlink()
    (run_folder / "data").rmdir()
    (run_folder / "data").symlink_to(canary_dir)
    error(client.get(f"/runs/{run['id']}/artifacts/data/data.txt"), 403, "PERMISSION_DENIED")
    error(_put(client, run["id"], "data/new.txt", b"evil"), 403, "PERMISSION_DENIED")
    error(client.delete(f"/runs/{run['id']}/artifacts/data/data.txt"), 403, "PERMISSION_DENIED")
    assert sorted(os.listdir(canary_dir)) == ["data.txt"]
    assert (canary_dir / "data.txt").read_bytes() == b"outside secret"


def test_size_limit_answers_413_and_leaves_nothing(
    home: Path, tmp_path: Path, artifacts_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support.servers import running_server

    monkeypatch.setenv("RIDGELINE_MAX_ARTIFACT_SIZE", str(1024 * 1024))
    with running_server(home, f"sqlite:///{tmp_path / 'limit.db'}") as url, api(url) as client:
        run = make_run(client)
        # Declared too large: refused before a byte is read.
        error(_put(client, run["id"], "big.bin", b"x" * (1024 * 1024 + 1)), 413, "PAYLOAD_TOO_LARGE")

        # Undeclared (chunked) and too large: refused while streaming.
        def chunks() -> Iterator[bytes]:
            for _ in range(64):
                yield b"y" * 65536

        try:
            response = client.put(f"/runs/{run['id']}/artifacts/chunked.bin", content=chunks())
            error(response, 413, "PAYLOAD_TOO_LARGE")
        except httpx.TransportError:
            pass  # the server may close the connection while the client is still sending: equally a refusal
        ok(_put(client, run["id"], "fits.bin", b"z" * 1024 * 1024), 201)
        assert [item["path"] for item in ok(client.get(f"/runs/{run['id']}/artifacts"))["files"]] == ["fits.bin"]
    stored = open_storage(artifacts_uri).find(run["id"])
    assert [item.key for item in stored] == [f"{run['id']}/fits.bin"]
