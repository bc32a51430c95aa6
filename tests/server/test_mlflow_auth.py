"""MLflow's official client against a server with accounts: MLFLOW_TRACKING_TOKEN arrives as a bearer token and
MLFLOW_TRACKING_USERNAME/PASSWORD as basic credentials (the password may be an API token too), and both work for
tracking and artifacts; wrong, revoked or missing credentials give the client a clear UNAUTHENTICATED (401), and a
malformed Authorization header is refused in either API's error shape. Local single-user mode lets everyone in
and ignores credentials."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ridgeline.server.rate_limit import reset_all
from support.accounts import PASSWORD, Team, team_server

mlflow = pytest.importorskip("mlflow")
from mlflow.exceptions import MlflowException  # noqa: E402

USER = "editor"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def team(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    """One server with accounts per backend for the module (each test writes to its own experiment)."""
    home = tmp_path_factory.mktemp("auth-home")
    if request.param == "sqlite":
        backend_uri = f"sqlite:///{home / 'meta.db'}"
    else:
        backend_uri = request.getfixturevalue("postgres_cluster").create_database()
    with team_server(home, backend_uri) as team:
        yield team


@pytest.fixture(autouse=True)
def _clean_failure_counts(mlflow_sessions: None) -> Iterator[None]:
    """Wrong passwords count against 127.0.0.1, the address of every test request: each test starts afresh."""
    reset_all()
    yield
    reset_all()


def _log_a_run(tracking_uri: str, tmp_path: Path, experiment: str) -> str:
    """An experiment and a run in it with a param, a metric and an artifact, through MLflow's fluent API."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment)
    (tmp_path / "note.txt").write_text("hello")
    with mlflow.start_run() as run:
        mlflow.log_param("p", "1")
        mlflow.log_metric("loss", 0.25, step=3)
        mlflow.log_artifact(str(tmp_path / "note.txt"))
    return str(run.info.run_id)


def _assert_refused(client: mlflow.MlflowClient, run_id: str, message: str) -> None:
    with pytest.raises(MlflowException) as refused:
        client.get_run(run_id)
    assert refused.value.error_code == "UNAUTHENTICATED"
    assert refused.value.get_http_status_code() == 401
    assert message in refused.value.message
    with pytest.raises(MlflowException):
        client.list_artifacts(run_id)


def _read_back(client: mlflow.MlflowClient, run_id: str, tmp_path: Path, folder: str) -> None:
    run = client.get_run(run_id)
    assert run.data.params == {"p": "1"} and run.data.metrics == {"loss": 0.25}
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [(3, 0.25)]
    assert [item.path for item in client.list_artifacts(run_id)] == ["note.txt"]
    downloaded = client.download_artifacts(run_id, "note.txt", str(tmp_path / folder))
    assert Path(downloaded).read_text() == "hello"


def test_token_and_basic_credentials_of_real_accounts(
    team: Team, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token = team.tokens[USER]
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    run_id = _log_a_run(team.url, tmp_path, "auth-token")
    client = mlflow.MlflowClient(tracking_uri=team.url)
    _read_back(client, run_id, tmp_path, "by-token")

    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", USER)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    basic_run = _log_a_run(team.url, tmp_path, "auth-basic")
    _read_back(client, basic_run, tmp_path, "by-password")
    # Clients that only speak Basic send a token as the password.
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", token)
    assert client.get_run(run_id).data.params == {"p": "1"}

    # What the runs were recorded under: the account that logged them.
    assert client.get_run(basic_run).info.user_id == USER

    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "not the password at all")
    _assert_refused(client, run_id, "wrong user name or password")
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    _assert_refused(client, run_id, "sign in")
    with pytest.raises(MlflowException) as refused:
        _log_a_run(team.url, tmp_path, "auth-none")
    assert refused.value.error_code == "UNAUTHENTICATED"
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "rl_" + "x" * 43)
    _assert_refused(client, run_id, "unknown API token")

    native = httpx.get(f"{team.url}/api/v1/runs/{run_id}", headers={"Authorization": f"Bearer {token}"})
    assert native.status_code == 200 and native.json()["id"] == run_id
    refused_native = httpx.get(f"{team.url}/api/v1/runs/{run_id}")
    assert refused_native.status_code == 401 and refused_native.json()["error"]["code"] == "UNAUTHENTICATED"


def test_a_revoked_token_stops_working_for_the_mlflow_client(
    team: Team, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    user = team.accounts.get_user(USER)
    new = team.accounts.create_token(user, "ci", "write")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", new.secret)
    run_id = _log_a_run(team.url, tmp_path, "auth-revoked")
    team.accounts.revoke_token(new.token.id)
    _assert_refused(mlflow.MlflowClient(tracking_uri=team.url), run_id, "revoked")


def test_malformed_authorization_headers_are_refused_in_both_api_shapes(team: Team) -> None:
    run = team.client(USER).post("/api/v1/runs", json={"project": "malformed-headers"})
    assert run.status_code == 201, run.text
    run_id = run.json()["id"]
    malformed = ["Bearer", "Bearer a b", "Basic", "Basic !!!", "Basic " + "bm9jb2xvbg==", "Digest x", ""]
    with httpx.Client(base_url=team.url, timeout=30) as http:
        for header in malformed:
            headers = {"Authorization": header}
            mlflow_answer = http.get("/api/2.0/mlflow/runs/get", params={"run_id": run_id}, headers=headers)
            assert mlflow_answer.status_code == 401, header
            assert mlflow_answer.json()["error_code"] == "UNAUTHENTICATED", header
            artifact = http.get(f"/api/2.0/mlflow-artifacts/artifacts/x/{run_id}/artifacts/note.txt", headers=headers)
            assert (artifact.status_code, artifact.json()["error_code"]) == (401, "UNAUTHENTICATED"), header
            native = http.get(f"/api/v1/runs/{run_id}", headers=headers)
            assert native.status_code == 401 and native.json()["error"]["code"] == "UNAUTHENTICATED", header


def test_local_mode_ignores_credentials(
    server: str, mlflow_sessions: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "anything")
    run_id = _log_a_run(server, tmp_path, "local")
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "whoever")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "whatever")
    assert mlflow.MlflowClient(tracking_uri=server).get_run(run_id).data.params == {"p": "1"}
    with httpx.Client(base_url=server, timeout=30) as http:
        for header in ("Bearer rl_unknown", "Basic " + "dXNlcjpwdw=="):
            assert http.get(f"/api/v1/runs/{run_id}", headers={"Authorization": header}).status_code == 200
