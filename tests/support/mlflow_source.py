"""Real MLflow for the importer's tests: its tracking server in a child process, and the workload script
(mlflow_workload.py) run with MLflow's own client in another, so MLflow's global state and warnings stay out of
pytest's process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from support.servers import free_port

WORKLOAD = Path(__file__).parent / "mlflow_workload.py"


def workload(uri: str, phase: str, folder: Path) -> Any:
    """Run a phase of the workload against ``uri``; its JSON output."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    done = subprocess.run(
        [sys.executable, "-W", "ignore", str(WORKLOAD), uri, phase, str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=folder,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class MlflowServer:
    url: str
    database: str
    artifacts: Path
    folder: Path


@contextmanager
def running_mlflow_server(folder: Path) -> Iterator[MlflowServer]:
    """``mlflow server`` on SQLite with proxied artifacts, on a free loopback port, stopped afterwards."""
    database, artifacts, port = f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts", free_port()
    command = [str(Path(sys.executable).parent / "mlflow"), "server", "--backend-store-uri", database]
    command += ["--artifacts-destination", str(artifacts), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not _healthy(url):
            assert process.poll() is None, (folder / "server.log").read_text()[-4000:]
            assert time.monotonic() < deadline, "the MLflow server did not start in 120 s"
            time.sleep(0.5)
        yield MlflowServer(url, database, artifacts, folder)
    finally:
        # The server runs its workers in its own process group: stop them all.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
