"""``ridgeline serve --auth``: every route but the health probes needs a token that the tracking server accepts
for reading the served model; the model server itself reaches the tracking server with a service account's token."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import ridgeline
from serving.support import wait_for
from support.accounts import Team, team_server
from support.servers import free_port

EXECUTABLE = Path(sys.executable).with_name("ridgeline")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Team]]:
    home = tmp_path_factory.mktemp("home")
    frame = pd.DataFrame({"x1": np.arange(20.0), "x2": np.arange(20.0) % 3})
    with ridgeline.start_run(project="serving", tracking_uri=str(home)) as run:
        run.log_model(
            LogisticRegression().fit(frame, frame["x1"] > 9), "model", input_example=frame.head(), register_as="m"
        )
    with ridgeline.Client(str(home)) as client:
        client.set_model_alias("m", "champion", 1)
    with team_server(home, f"sqlite:///{home / 'ridgeline.db'}") as team:
        accounts = team.accounts
        service = accounts.create_user(
            "model-server", None, created_by="test", kind="service", workspace_id="0" * 32, role="editor"
        )
        port = free_port()
        env = {
            **os.environ,
            "RIDGELINE_HOME": str(tmp_path_factory.mktemp("serve-home")),
            "RIDGELINE_TRACKING_URI": team.url,
            "RIDGELINE_TRACKING_TOKEN": accounts.create_token(service, "serve", "write").secret,
        }
        command = [str(EXECUTABLE), "serve", "models:/m@champion", "--port", str(port), "--auth"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        url = f"http://127.0.0.1:{port}"
        try:

            def ready() -> bool:
                assert process.poll() is None, process.communicate()[0]
                try:
                    return httpx.get(f"{url}/ping").status_code == 200
                except httpx.TransportError:
                    return False

            wait_for(ready, timeout=60)
            yield url, team
        finally:
            process.terminate()
            process.communicate(timeout=30)


ROW = {"dataframe_records": [{"x1": 3.0, "x2": 1.0}]}


def _call(url: str, method: str, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{url}{path}", json=ROW if method == "POST" else None, headers=headers)


@pytest.mark.parametrize("path", ["/ping", "/health"])
def test_health_probes_stay_open(served: tuple[str, Team], path: str) -> None:
    url, _ = served
    assert _call(url, "GET", path, None).status_code == 200


@pytest.mark.parametrize(("method", "path"), [("POST", "/invocations"), ("GET", "/version"), ("GET", "/metrics")])
def test_protected_routes_need_a_token_that_may_read_the_model(
    served: tuple[str, Team], method: str, path: str
) -> None:
    url, team = served
    anonymous = _call(url, method, path, None)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "UNAUTHENTICATED"
    assert _call(url, method, path, "rl_not-a-real-token").status_code == 401
    assert _call(url, method, path, team.tokens["viewer"]).status_code == 200
    outsider = _call(url, method, path, team.tokens["outsider"])
    assert outsider.status_code == 403 and outsider.json()["error"]["code"] == "PERMISSION_DENIED"


def test_a_route_without_a_declared_permission_is_refused(served: tuple[str, Team]) -> None:
    url, team = served
    assert _call(url, "GET", "/admin", team.tokens["admin"]).status_code == 403


def test_auth_needs_a_tracking_server_to_ask(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(EXECUTABLE), "serve", "models:/m@champion", "--auth"],
        env={**{k: v for k, v in os.environ.items() if k != "RIDGELINE_TRACKING_URI"}, "RIDGELINE_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "--auth" in done.stderr and "tracking" in done.stderr
