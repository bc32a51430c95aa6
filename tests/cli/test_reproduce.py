"""``ridgeline runs reproduce RUN_ID``: the steps printed for runs logged from a real git repository."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import ridgeline
from ridgeline.cli.main import app


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def _reproduce(*args: str) -> Result:
    return CliRunner().invoke(app, ["runs", "reproduce", *args], env={"COLUMNS": "250"})


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A committed repository with a local change; the process looks like `cd repo/src && python train.py …`."""
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "dev@example.com")
    _git(root, "config", "user.name", "Dev")
    (root / "src" / "train.py").write_text("print('training')\n")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    (root / "src" / "train.py").write_text("print('training, changed')\n")
    monkeypatch.chdir(root / "src")
    monkeypatch.setattr(sys, "argv", [str(root / "src" / "train.py"), "--epochs", "3"])
    return root


def _run(home: Path, capture: str = "git,command,python,packages,host") -> str:
    with ridgeline.start_run(
        project="repro", config={"lr": 0.1, "epochs": 3}, capture=capture, tracking_uri=str(home)
    ) as run:
        pass
    return run.id


def _step(output: str, number: int) -> list[str]:
    """The lines of step ``number`` (from its comment to the next blank line)."""
    block = output.split(f"# {number}. ", 1)[1].split("\n\n", 1)[0]
    return block.splitlines()[1:]


def test_steps_of_a_fully_captured_run(home: Path, repo: Path, tmp_path: Path) -> None:
    _git(repo, "remote", "add", "origin", "https://bob:tok@git.example.com/ml/repo.git")
    run_id = _run(home)
    result = _reproduce(run_id, "--tracking-uri", str(home))
    assert result.exit_code == 0, result.output
    out = result.stdout
    commit = _git(repo, "rev-parse", "HEAD")
    folder = f"ridgeline-repro-{run_id[:8]}"
    assert out.startswith("#!/usr/bin/env bash\n")
    assert "tok" not in out
    fetch = _step(out, 0)
    assert fetch[0] == 'here="$(pwd)"'
    assert f"runs:/{run_id}/environment/git.diff" in fetch[1]
    assert f"runs:/{run_id}/environment/requirements.txt" in fetch[2]
    assert all(line.startswith(f"RIDGELINE_TRACKING_URI={home} python -c ") for line in fetch[1:])
    # The fetch commands work: they download the run's diff and requirements next to where the script runs.
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # `python` is this interpreter
    script = "set -euo pipefail\n" + "\n".join(fetch)
    subprocess.run(["bash", "-c", script], cwd=workspace, env={**os.environ, "PATH": path}, check=True, timeout=60)
    assert "+print('training, changed')" in (workspace / "ridgeline-run.diff").read_text()
    assert f"pytest=={pytest.__version__}" in (workspace / "ridgeline-requirements.txt").read_text().splitlines()
    assert _step(out, 1) == [
        f"git clone https://git.example.com/ml/repo.git {folder}",
        f"cd {folder}",
        f"git checkout --detach {commit}",
    ]
    assert _step(out, 2) == ['git apply "$here/ridgeline-run.diff"']
    minor = ".".join(platform.python_version_tuple()[:2])
    assert _step(out, 3)[:2] == [f"python{minor} -m venv .venv", ". .venv/bin/activate"]
    assert 'python -m pip install -r "$here/ridgeline-requirements.txt"' in _step(out, 3)
    # The script was given by absolute path: found again inside the clone, from the same folder.
    assert _step(out, 4) == ["cd src", "python train.py --epochs 3", "#    params the run logged: epochs=3, lr=0.1"]


def test_code_steps_run_for_a_repository_without_remote(home: Path, repo: Path, tmp_path: Path) -> None:
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "second")
    run_id = _run(home, "git,command")
    out = _reproduce(run_id, "--tracking-uri", str(home)).stdout
    assert f"clone it from {repo.resolve()}" in out
    assert "# 2. No uncommitted changes: the commit is the code." in out
    assert "# 0. " not in out  # nothing to download
    # The printed code steps work: they give back the run's commit.
    workspace = tmp_path / "elsewhere"
    workspace.mkdir()
    script = "set -euo pipefail\n" + "\n".join(_step(out, 1)) + "\ngit rev-parse HEAD\n"
    done = subprocess.run(["bash", "-c", script], cwd=workspace, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == _git(repo, "rev-parse", "HEAD")


def test_parts_not_captured_are_said_plainly(home: Path, repo: Path) -> None:
    run_id = _run(home, "none")
    result = _reproduce(run_id, "--tracking-uri", str(home))
    assert result.exit_code == 0
    assert "recorded no environment" in result.stderr
    out = result.stdout
    assert "# 1. Code: not captured" in out
    assert "# 2. Uncommitted changes: not recorded." not in out  # no code step to attach changes to
    assert "# 3. Python version: not captured" in out
    assert "Installed packages: not captured" in out
    assert "# 4. Command: not captured." in out
    assert "params the run logged: epochs=3, lr=0.1" in out


def test_unknown_run_is_a_clean_error(home: Path) -> None:
    result = _reproduce("0" * 32, "--tracking-uri", str(home))
    assert result.exit_code == 1
    assert result.stderr.startswith("error")
    assert "Traceback" not in result.output
