"""The authentication hook with MLflow's client: MLFLOW_TRACKING_TOKEN arrives as a bearer token and
MLFLOW_TRACKING_USERNAME/PASSWORD as basic credentials, both reach the verifier (here one that requires them,
standing in for the accounts of a later release), and without them the client is refused. Local mode lets
everyone in and ignores credentials; a malformed Authorization header is refused in either API's error shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from ridgeline.domain.errors import Unauthenticated
from ridgeline.server.auth import BasicCredentials, BearerToken, Credential, Principal, Verifier, verifier
from support.servers import running_server

mlflow = pytest.importorskip("mlflow")
from mlflow.exceptions import MlflowException  # noqa: E402

TOKEN = "tok-3f9a"
USER, PASSWORD = "ana", "pä:ss word"


def _strict(credential: Credential | None) -> Principal:
    if credential == BearerToken(TOKEN):
        return Principal("token-holder", local=False)
    if credential == BasicCredentials(USER, PASSWORD):
        return Principal(USER, local=False)
    raise Unauthenticated("valid credentials required")


def _require_credentials(app: FastAPI) -> None:
    def strict() -> Verifier:
        return _strict

    app.dependency_overrides[verifier] = strict


@pytest.fixture
def guarded_server(home: Path, backend_uri: str, mlflow_sessions: None) -> Iterator[str]:
    with running_server(home, backend_uri, customize=_require_credentials) as url:
        yield url


def _log_a_run(tracking_uri: str, tmp_path: Path) -> str:
    """A run with a param and an artifact through MLflow's fluent API; returns its id."""
    mlflow.set_tracking_uri(tracking_uri)
    (tmp_path / "note.txt").write_text("hello")
    with mlflow.start_run() as run:
        mlflow.log_param("p", "1")
        mlflow.log_artifact(str(tmp_path / "note.txt"))
    return str(run.info.run_id)


def _assert_refused(client: mlflow.MlflowClient, run_id: str) -> None:
    with pytest.raises(MlflowException) as refused:
        client.get_run(run_id)
    assert refused.value.error_code == "UNAUTHENTICATED"
    with pytest.raises(MlflowException):
        client.list_artifacts(run_id)


def test_token_and_basic_credentials_reach_the_verifier(
    guarded_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    run_id = _log_a_run(guarded_server, tmp_path)
    client = mlflow.MlflowClient(tracking_uri=guarded_server)
    assert client.get_run(run_id).data.params == {"p": "1"}
    assert [item.path for item in client.list_artifacts(run_id)] == ["note.txt"]

    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", USER)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    assert client.get_run(run_id).data.params == {"p": "1"}
    downloaded = client.download_artifacts(run_id, "note.txt", str(tmp_path / "out"))
    assert Path(downloaded).read_text() == "hello"

    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong")
    _assert_refused(client, run_id)
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    _assert_refused(client, run_id)
    with pytest.raises(MlflowException):
        _log_a_run(guarded_server, tmp_path)

    native = httpx.get(f"{guarded_server}/api/v1/runs/{run_id}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert native.status_code == 200 and native.json()["id"] == run_id
    refused_native = httpx.get(f"{guarded_server}/api/v1/runs/{run_id}")
    assert refused_native.status_code == 401 and refused_native.json()["error"]["code"] == "UNAUTHENTICATED"


def test_local_mode_ignores_credentials_and_refuses_malformed_headers(
    server: str, mlflow_sessions: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "anything")
    run_id = _log_a_run(server, tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    assert mlflow.MlflowClient(tracking_uri=server).get_run(run_id).data.params == {"p": "1"}

    malformed = ["Bearer", "Bearer a b", "Basic", "Basic !!!", "Basic " + "bm9jb2xvbg==", "Digest x", ""]
    with httpx.Client(base_url=server, timeout=30) as http:
        for header in malformed:
            headers = {"Authorization": header}
            mlflow_answer = http.get("/api/2.0/mlflow/runs/get", params={"run_id": run_id}, headers=headers)
            assert mlflow_answer.status_code == 401, header
            assert mlflow_answer.json()["error_code"] == "UNAUTHENTICATED", header
            artifact = http.get(f"/api/2.0/mlflow-artifacts/artifacts/x/{run_id}/artifacts/note.txt", headers=headers)
            assert (artifact.status_code, artifact.json()["error_code"]) == (401, "UNAUTHENTICATED"), header
            native = http.get(f"/api/v1/runs/{run_id}", headers=headers)
            assert native.status_code == 401 and native.json()["error"]["code"] == "UNAUTHENTICATED", header
        # Well-formed credentials of any kind pass in local mode.
        for header in (f"Bearer {TOKEN}", "Basic " + "dXNlcjpwdw=="):
            assert http.get(f"/api/v1/runs/{run_id}", headers={"Authorization": header}).status_code == 200
