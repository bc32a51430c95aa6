"""``ridgeline server`` as a process: refuses non-loopback addresses at once, serves /healthz, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ridgeline.cli.main import app
from support.servers import free_port

EXECUTABLE = Path(sys.executable).with_name("ridgeline")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


def test_server_refuses_a_public_address_quickly(home: Path) -> None:
    done = subprocess.run(
        [str(EXECUTABLE), "server", "--host", "0.0.0.0", "--home", str(home), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(),
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error (host): refusing to listen on 0.0.0.0")
    assert "--auth" in done.stderr and "--insecure-no-auth" in done.stderr


def test_server_refuses_a_public_address_from_the_environment(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIDGELINE_HOST", "192.0.2.10")
    result = CliRunner().invoke(app, ["server", "--home", str(home)], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert result.stderr.startswith("error (host): refusing to listen on 192.0.2.10")


def test_server_serves_health_and_stops_on_sigterm(home: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(EXECUTABLE), "server", "--port", str(port), "--home", str(home), "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        deadline = time.monotonic() + 30
        answer = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer is not None, f"server never answered (exit {process.poll()})"
        assert answer.status_code == 200
        assert answer.json()["status"] == "ok"
        assert (home / "ridgeline.db").is_file()
    finally:
        process.terminate()
        try:
            _, stderr = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
    # uvicorn shuts down gracefully, then re-raises the signal it caught, so the exit reads as SIGTERM.
    assert process.returncode in (0, -signal.SIGTERM)
    assert f"on http://127.0.0.1:{port}" in stderr
    assert "Traceback" not in stderr
