"""The ``ridgeline`` command as a user types it: version, db upgrade, runs list/show and their errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import ridgeline
from ridgeline.cli.main import app
from ridgeline.store.migrate import HEAD_REVISION

WIDE = {"COLUMNS": "250"}
EXECUTABLE = Path(sys.executable).with_name("ridgeline")


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=WIDE if env is None else env)


def run_command(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The installed console script in its own process; stdout and stderr are pipes, as in CI logs."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run([str(EXECUTABLE), *args], capture_output=True, text=True, timeout=timeout, env=env)


def assert_clean_error(result: Result, *fragments: str) -> None:
    """Exit 1 with one line on stderr that starts with 'error' and names what is wrong; never a traceback."""
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def tracked(home: Path) -> dict[str, str]:
    """A data folder with three runs in project 'cli', logged through the SDK; returns {model: run id}."""
    ids = {}
    for model, acc in (("rf", 0.7), ("gbm", 0.95), ("lr", 0.85)):
        with ridgeline.start_run(
            project="cli", name=f"{model}-run", config={"model": model, "opt": {"lr": 0.1}},
            tags={"team": "cli"}, tracking_uri=str(home),
        ) as run:  # fmt: skip
            for step in range(3):
                run.log_metric("loss", 1.0 - step / 10)
            run.log_metric("acc", acc)
        ids[model] = run.id
    return ids


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"ridgeline {ridgeline.__version__}"
    done = run_command("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"ridgeline {ridgeline.__version__}"


def test_no_arguments_shows_help() -> None:
    result = invoke()
    assert "Usage" in result.output
    for command in ("server", "quickstart", "db", "runs"):
        assert command in result.output


def test_db_upgrade_twice(home: Path) -> None:
    first = invoke("db", "upgrade", "--home", str(home))
    assert first.exit_code == 0, first.output
    assert f"upgraded to schema revision {HEAD_REVISION}" in first.stdout
    assert str(home / "ridgeline.db") in first.stdout
    assert (home / "ridgeline.db").is_file()
    second = invoke("db", "upgrade", "--home", str(home))
    assert second.exit_code == 0, second.output
    assert f"already at schema revision {HEAD_REVISION}" in second.stdout


def test_db_upgrade_with_a_bad_backend_uri_is_a_clean_error(home: Path) -> None:
    result = invoke("db", "upgrade", "--home", str(home), "--backend-uri", "mysql://u@h/db")
    assert_clean_error(result, "backend_uri")


def test_runs_list_shows_a_table(home: Path, tracked: dict[str, str]) -> None:
    result = invoke(
        "runs", "list", "-p", "cli", "--tracking-uri", str(home),
        "-o", "metrics.acc desc", "-c", "metrics.acc", "-c", "params.model", "-c", "tags.team",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "runs in cli" in out
    for header in ("id", "name", "status", "started", "duration", "metrics.acc", "params.model", "tags.team"):
        assert header in out
    rows = [line for line in out.splitlines() if "-run" in line]
    assert len(rows) == 3
    # Ordered by accuracy, best first; every row has the full id, the status and the chosen columns.
    for row, model, acc in zip(rows, ("gbm", "lr", "rf"), ("0.95", "0.85", "0.7"), strict=True):
        assert tracked[model] in row
        assert f"{model}-run" in row and "FINISHED" in row and acc in row and "cli" in row


def test_runs_list_filter_and_limit(home: Path, tracked: dict[str, str]) -> None:
    result = invoke("runs", "list", "-p", "cli", "--tracking-uri", str(home), "--filter", "metrics.acc > 0.8")
    assert result.exit_code == 0, result.output
    assert tracked["gbm"] in result.stdout and tracked["lr"] in result.stdout
    assert tracked["rf"] not in result.stdout

    limited = invoke("runs", "list", "-p", "cli", "--tracking-uri", str(home), "-n", "1")
    assert limited.exit_code == 0, limited.output
    assert sum(run_id in limited.stdout for run_id in tracked.values()) == 1
    assert "more runs match" in limited.stdout


def test_runs_list_bad_filter_is_one_clean_line(home: Path, tracked: dict[str, str]) -> None:
    for bad in ("metrics.acc >", "nonsense.x = 1", "metrics.acc > 0.9 and"):
        result = invoke("runs", "list", "-p", "cli", "--tracking-uri", str(home), "--filter", bad)
        assert_clean_error(result, "filter")


def test_errors_stay_on_one_line_when_piped(home: Path, tracked: dict[str, str]) -> None:
    """A long error is not hard-wrapped at 80 columns when stderr is a pipe (CI logs, `2> file`)."""
    done = run_command("runs", "list", "-p", "cli", "--tracking-uri", str(home), "--filter", "nonsense.x = 1")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_runs_list_unknown_project_is_a_clean_error(home: Path, tracked: dict[str, str]) -> None:
    assert_clean_error(invoke("runs", "list", "-p", "nope", "--tracking-uri", str(home)), "nope", "does not exist")


def test_runs_show(home: Path, tracked: dict[str, str]) -> None:
    run_id = tracked["gbm"]
    result = invoke("runs", "show", run_id, "--tracking-uri", str(home))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "run gbm-run" in out
    assert run_id in out and "FINISHED" in out
    lines = out.splitlines()

    def row(*cells: str) -> bool:
        return any(all(cell in line for cell in cells) for line in lines)

    assert row("model", "gbm") and row("opt.lr", "0.1") and row("team", "cli")
    assert row("acc", "0.95", "0") and row("loss", "0.8", "2")


def test_runs_show_follows_the_environment(
    home: Path, tracked: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIDGELINE_TRACKING_URI", str(home))
    result = invoke("runs", "show", tracked["rf"])
    assert result.exit_code == 0, result.output
    assert "rf-run" in result.stdout


def test_runs_show_bad_or_unknown_id_is_a_clean_error(home: Path, tracked: dict[str, str]) -> None:
    assert_clean_error(invoke("runs", "show", "nope", "--tracking-uri", str(home)), "run_id")
    assert_clean_error(invoke("runs", "show", "0" * 32, "--tracking-uri", str(home)), "does not exist")


def test_unsupported_tracking_uri_is_a_clean_error() -> None:
    assert_clean_error(invoke("runs", "list", "--tracking-uri", "ftp://example.org/x"), "ftp://example.org/x")
