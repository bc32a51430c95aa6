"""``ridgeline storage`` and ``ridgeline gc [--dry-run]`` on a data folder with artifacts."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

import ridgeline
from ridgeline.cli.main import app
from ridgeline.client.local import LocalBackend
from ridgeline.config import sqlite_uri


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})


def test_storage_then_gc_frees_the_deleted_runs_space(home: Path) -> None:
    with ridgeline.start_run("cli", tracking_uri=str(home), capture=False) as doomed:
        doomed.log_text("x" * 4096, "big.txt")
    with ridgeline.start_run("cli", tracking_uri=str(home), capture=False) as kept:
        kept.log_text("y" * 10, "small.txt")
    LocalBackend(sqlite_uri(home)).service.delete_runs([doomed.id])

    shown = invoke("storage", "--home", str(home))
    assert shown.exit_code == 0, shown.output
    assert "4.0 KiB" in shown.output and doomed.id in shown.output and kept.id in shown.output

    preview = invoke("gc", "--dry-run", "--home", str(home))
    assert preview.exit_code == 0, preview.output
    assert "would remove 1 run(s), 1 file(s): 4.0 KiB to free" in preview.output
    assert (home / "artifacts" / doomed.id / "big.txt").exists()

    done = invoke("gc", "--home", str(home))
    assert done.exit_code == 0, done.output
    assert "removed 1 run(s), 1 file(s): 4.0 KiB freed" in done.output
    assert not (home / "artifacts" / doomed.id).exists()
    assert (home / "artifacts" / kept.id / "small.txt").read_text() == "y" * 10

    missing = invoke("storage", "--home", str(home), "--project", "nope")
    assert missing.exit_code == 1
