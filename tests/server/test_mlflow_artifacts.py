"""MLflow's proxied artifact API against a real server: files logged with the official client (a 300 kB random
binary, UTF-8 text, nested folders) list and download byte-identical through MLflow's client, ridgeline.Client, the
native API and ridgeline.artifacts.download; files logged by the Ridgeline SDK reach MLflow's client; unsafe paths,
missing files, runs of another experiment and files over the size limit are refused with MLflow's error codes."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import requests

import ridgeline
from ridgeline.server.limits import MAX_REQUEST_BYTES
from support.servers import running_server

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
TEXT = "héllo wörld ✓\nzweite Zeile\n"


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    """tree/blob.bin (300 kB random), tree/sub/notes.txt (UTF-8), tree/empty.txt, top.txt."""
    root = tmp_path / "src"
    (root / "tree" / "sub").mkdir(parents=True)
    (root / "tree" / "blob.bin").write_bytes(os.urandom(300_000))
    (root / "tree" / "sub" / "notes.txt").write_text(TEXT, encoding="utf-8")
    (root / "tree" / "empty.txt").write_bytes(b"")
    (root / "top.txt").write_text("top\n")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def _listing(client: MlflowClient, run_id: str, path: str | None = None) -> list[tuple[str, bool, int | None]]:
    return [(item.path, item.is_dir, item.file_size) for item in client.list_artifacts(run_id, path)]


def test_files_round_trip_through_every_client(
    server: str, mlflow_client: MlflowClient, source_tree: Path, tmp_path: Path
) -> None:
    mlflow.set_experiment("mlflow-artifacts")
    with mlflow.start_run() as active:
        mlflow.log_artifacts(str(source_tree))
        mlflow.log_artifact(str(source_tree / "tree" / "blob.bin"), artifact_path="copies/deep")
        mlflow.log_text(TEXT, "notes/text.txt")
        mlflow.log_dict({"lr": 0.1, "layers": [64, 32]}, "config/params.json")
    run_id = active.info.run_id
    expected = {
        **_files(source_tree),
        "copies/deep/blob.bin": (source_tree / "tree" / "blob.bin").read_bytes(),
        "notes/text.txt": TEXT.encode(),
        "config/params.json": None,
    }

    assert _listing(mlflow_client, run_id) == [
        ("config", True, None),
        ("copies", True, None),
        ("notes", True, None),
        ("top.txt", False, 4),
        ("tree", True, None),
    ]
    assert _listing(mlflow_client, run_id, "tree") == [
        ("tree/blob.bin", False, 300_000),
        ("tree/empty.txt", False, 0),
        ("tree/sub", True, None),
    ]
    assert _listing(mlflow_client, run_id, "tree/sub") == [("tree/sub/notes.txt", False, len(TEXT.encode()))]
    assert _listing(mlflow_client, run_id, "no/such/folder") == []

    everything = Path(mlflow_client.download_artifacts(run_id, "", str(tmp_path / "all")))
    downloaded = _files(everything)
    assert set(downloaded) == set(expected)
    assert all(downloaded[name] == content for name, content in expected.items() if content is not None)
    one = mlflow_client.download_artifacts(run_id, "tree/blob.bin", str(tmp_path / "one"))
    assert Path(one).read_bytes() == expected["tree/blob.bin"]
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/tree/sub/notes.txt") == TEXT
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config/params.json") == {"lr": 0.1, "layers": [64, 32]}

    # The same files through Ridgeline's SDK and native API.
    with ridgeline.Client(tracking_uri=server) as client:
        listed = client.list_artifacts(run_id)
        in_tree = client.list_artifacts(run_id, "tree")
    assert [item.path for item in listed] == sorted(expected)
    assert {item.path: (item.size, item.sha256) for item in listed} == {
        name: (len(content), hashlib.sha256(content).hexdigest()) for name, content in downloaded.items()
    }
    assert [item.path for item in in_tree] == ["tree/blob.bin", "tree/empty.txt", "tree/sub/notes.txt"]
    with httpx.Client(base_url=f"{server}/api/v1", timeout=30) as native:
        assert native.get(f"/runs/{run_id}/artifacts/tree/blob.bin").content == expected["tree/blob.bin"]
    folder = ridgeline.artifacts.download(f"runs:/{run_id}/tree", tmp_path / "sdk", tracking_uri=server)
    assert _files(folder) == {
        name.removeprefix("tree/"): content for name, content in _files(source_tree).items() if name.startswith("tree/")
    }


def test_listing_endpoints_on_the_wire(server: str, mlflow_client: MlflowClient, source_tree: Path) -> None:
    experiment_id = mlflow_client.create_experiment("listings")
    run = mlflow_client.create_run(experiment_id)
    mlflow_client.log_artifacts(run.info.run_id, str(source_tree))
    root = f"{experiment_id}/{run.info.run_id}/artifacts"
    with httpx.Client(base_url=server, timeout=30) as http:
        files = http.get(ARTIFACTS, params={"path": f"{root}/tree"}).json()["files"]
        assert files == [
            {"path": "blob.bin", "is_dir": False, "file_size": 300_000},
            {"path": "empty.txt", "is_dir": False, "file_size": 0},
            {"path": "sub", "is_dir": True},
        ]
        for nothing in (f"{root}/missing", f"{root}/top.txt", f"{experiment_id}/{'0' * 32}/artifacts", ""):
            answer = http.get(ARTIFACTS, params={"path": nothing})
            assert (answer.status_code, answer.json()) == (200, {}), nothing
        listed = http.get("/api/2.0/mlflow/artifacts/list", params={"run_id": run.info.run_id, "path": "tree"}).json()
        assert listed["root_uri"] == run.info.artifact_uri == f"mlflow-artifacts:/{root}"
        assert [(item["path"], item["is_dir"]) for item in listed["files"]] == [
            ("tree/blob.bin", False),
            ("tree/empty.txt", False),
            ("tree/sub", True),
        ]
        top = http.get("/api/2.0/mlflow/artifacts/list", params={"run_uuid": run.info.run_id}).json()
        assert [item["path"] for item in top["files"]] == ["top.txt", "tree"]
        missing = http.get("/api/2.0/mlflow/artifacts/list", params={"run_id": "0" * 32})
        assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
        info = http.get("/api/3.0/mlflow/server-info").json()
        assert info["multipart_uploads_enabled"] is False and info["multipart_downloads_enabled"] is False


def test_sdk_artifacts_reach_mlflow(
    server: str, mlflow_client: MlflowClient, source_tree: Path, tmp_path: Path
) -> None:
    with ridgeline.start_run(project="sdk-artifacts", tracking_uri=server) as run:
        run.log_artifact(source_tree / "tree" / "blob.bin", name="data/blob.bin")
        run.log_text(TEXT, "notes.txt")
    assert _listing(mlflow_client, run.id) == [("data", True, None), ("notes.txt", False, len(TEXT.encode()))]
    blob = mlflow_client.download_artifacts(run.id, "data/blob.bin", str(tmp_path))
    assert Path(blob).read_bytes() == (source_tree / "tree" / "blob.bin").read_bytes()
    assert mlflow.artifacts.load_text(f"runs:/{run.id}/notes.txt") == TEXT


def _raw(server: str, method: str, target: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
    """Send ``target`` exactly as written (no client-side normalisation of ``..`` or escapes)."""
    parts = urlsplit(server)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request(method, target, body=body)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_unsafe_paths_are_refused_and_nothing_is_written(
    server: str, mlflow_client: MlflowClient, home: Path, tmp_path: Path
) -> None:
    experiment_id = mlflow_client.create_experiment("traversal")
    run_id = mlflow_client.create_run(experiment_id).info.run_id
    root = f"{ARTIFACTS}/{experiment_id}/{run_id}/artifacts"
    unsafe = [
        f"{root}/../../../../evil.txt",
        f"{root}/a/../../evil.txt",
        f"{root}/%2e%2e/%2e%2e/evil.txt",
        f"{root}/%252e%252e/evil.txt",
        f"{root}/..%2fevil.txt",
        f"{root}/a%5c..%5cevil.txt",
        f"{root}/a\\..\\evil.txt",
        f"{root}//etc/evil.txt",
        f"{root}/./evil.txt",
        f"{root}/evil%00.txt",
        f"{ARTIFACTS}/{experiment_id}/../{run_id}/artifacts/evil.txt",
        f"{ARTIFACTS}//{experiment_id}/{run_id}/artifacts/evil.txt",
    ]
    for target in unsafe:
        for method in ("PUT", "GET", "DELETE"):
            status, body = _raw(server, method, target, b"evil" if method == "PUT" else b"")
            assert (status, body.get("error_code")) == (400, "INVALID_PARAMETER_VALUE"), (method, target, body)
    for path in (f"{experiment_id}/{run_id}/artifacts/../x", f"/{experiment_id}/{run_id}/artifacts", "a/%2e%2e/b"):
        answer = httpx.get(f"{server}{ARTIFACTS}", params={"path": path})
        assert (answer.status_code, answer.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), path
    answer = httpx.get(f"{server}/api/2.0/mlflow/artifacts/list", params={"run_id": run_id, "path": "../.."})
    assert (answer.status_code, answer.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    with pytest.raises(MlflowException):
        mlflow_client.log_artifact(run_id, __file__, artifact_path="../escape")  # the client refuses it too

    assert mlflow_client.list_artifacts(run_id) == []
    with ridgeline.Client(tracking_uri=server) as client:
        assert client.list_artifacts(run_id) == []
    everywhere = [home.parent, tmp_path]
    assert [path for folder in everywhere for path in folder.rglob("*evil*")] == []


def test_missing_foreign_and_deleted(server: str, mlflow_client: MlflowClient, source_tree: Path) -> None:
    first = mlflow_client.create_experiment("first")
    other = mlflow_client.create_experiment("other")
    run_id = mlflow_client.create_run(first).info.run_id
    mlflow_client.log_artifacts(run_id, str(source_tree))
    with httpx.Client(base_url=f"{server}{ARTIFACTS}", timeout=30) as http:
        for path in (
            f"{first}/{run_id}/artifacts/missing.txt",
            f"{first}/{run_id}/artifacts/tree",  # a folder: the client probes with GET and expects 404
            f"{other}/{run_id}/artifacts/top.txt",  # the run is not in that experiment
            f"{first}/{'0' * 32}/artifacts/top.txt",
            f"{first}/models/m-{'0' * 32}/artifacts/MLmodel",
            f"{first}/{run_id}/top.txt",
        ):
            answer = http.get(f"/{path}")
            assert (answer.status_code, answer.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST"), path
        refused = http.put(f"/{other}/{run_id}/artifacts/x.txt", content=b"x")
        assert (refused.status_code, refused.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
        assert http.get(f"/{first}/{run_id}/artifacts/top.txt").content == b"top\n"

        assert http.delete(f"/{first}/{run_id}/artifacts/tree/sub").json() == {}
        assert http.delete(f"/{first}/{run_id}/artifacts/top.txt").json() == {}
        gone = http.delete(f"/{first}/{run_id}/artifacts/top.txt")
        assert (gone.status_code, gone.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
        assert [item.path for item in mlflow_client.list_artifacts(run_id, "tree")] == [
            "tree/blob.bin",
            "tree/empty.txt",
        ]
        with ridgeline.Client(tracking_uri=server) as client:
            assert [item.path for item in client.list_artifacts(run_id)] == ["tree/blob.bin", "tree/empty.txt"]
            assert http.delete(f"/{first}/{run_id}/artifacts/").json() == {}
            assert mlflow_client.list_artifacts(run_id) == client.list_artifacts(run_id) == []

        mlflow_client.delete_run(run_id)
        deleted = http.put(f"/{first}/{run_id}/artifacts/late.txt", content=b"late")
        assert (deleted.status_code, deleted.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    with pytest.raises(MlflowException) as missing:
        mlflow_client.download_artifacts(run_id, "nothing.txt")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.fixture
def small_limit_server(home: Path, backend_uri: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("RIDGELINE_MAX_ARTIFACT_SIZE", "100000")
    with running_server(home, backend_uri) as url:
        yield url


def test_size_limit(small_limit_server: str, mlflow_sessions: None, source_tree: Path) -> None:
    client = MlflowClient(tracking_uri=small_limit_server)
    run_id = client.create_run(client.create_experiment("limits")).info.run_id
    client.log_artifact(run_id, str(source_tree / "top.txt"))
    # MLflow's artifact client raises the HTTP error itself, with the server's message in it.
    with pytest.raises(requests.HTTPError) as refused:
        client.log_artifact(run_id, str(source_tree / "tree" / "blob.bin"))
    assert refused.value.response.status_code == 413
    assert refused.value.response.json()["error_code"] == "RESOURCE_LIMIT_EXCEEDED"
    assert "limit of 100000 bytes" in str(refused.value)
    assert [item.path for item in client.list_artifacts(run_id)] == ["top.txt"]


def test_uploads_past_the_request_body_limit_stream(server: str, mlflow_client: MlflowClient, tmp_path: Path) -> None:
    """The global request body limit does not apply to uploads (they stream); the artifact size limit does."""
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(MAX_REQUEST_BYTES + 1)
    run_id = mlflow_client.create_run(mlflow_client.create_experiment("big")).info.run_id
    mlflow_client.log_artifact(run_id, str(big))
    assert _listing(mlflow_client, run_id) == [("big.bin", False, MAX_REQUEST_BYTES + 1)]
    with ridgeline.Client(tracking_uri=server) as client:
        [stored] = client.list_artifacts(run_id)
    assert (stored.path, stored.size) == ("big.bin", MAX_REQUEST_BYTES + 1)
    assert stored.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()
