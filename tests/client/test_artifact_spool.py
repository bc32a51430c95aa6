"""Artifacts and dataset inputs are as durable as metrics: logged offline, or while the server is down, they wait
in the run's spool (a copy of each file) and arrive later, byte-identical and exactly once, with real servers and
``ridgeline sync`` run as a separate process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import orjson
import pytest
from sdk_testkit import server_on_port

import ridgeline
import ridgeline.artifacts
from ridgeline.client.resolve import backend_for
from ridgeline.config import Settings
from support.servers import free_port

# Logs a file, a folder, a text and a dataset offline, then finishes; prints the run id.
_OFFLINE = textwrap.dedent(
    """
    import sys
    import numpy as np
    import ridgeline

    model, outputs = sys.argv[1], sys.argv[2]
    with ridgeline.start_run(project="spooled", capture=False) as run:
        run.log_metric("loss", 0.5)
        run.log_artifact(model)
        run.log_artifact(outputs)
        run.log_text("trained offline", "notes/summary.txt")
        run.log_dataset(np.arange(100).reshape(50, 2), name="points", context="training")
    print(run.id)
    """
)

_EXPECTED = ["model.bin", "notes/summary.txt", "outputs/a.txt", "outputs/sub/b.txt"]


def _sync(spool: Path, url: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("ridgeline")), "sync", "--spool-dir", str(spool)]
    return subprocess.run([*command, "--tracking-uri", url], capture_output=True, text=True, timeout=60)


def _files(tmp_path: Path) -> tuple[Path, Path]:
    model = tmp_path / "model.bin"
    model.write_bytes(os.urandom(3 * 1024 * 1024 + 5))  # several copy chunks
    outputs = tmp_path / "outputs"
    (outputs / "sub").mkdir(parents=True)
    (outputs / "a.txt").write_text("a")
    (outputs / "sub" / "b.txt").write_text("b")
    return model, outputs


def _check_delivered(url: str, run_id: str, model: bytes, tmp_path: Path) -> None:
    """Every artifact once, byte-identical; the dataset version linked to the run once."""
    backend = backend_for(url, Settings.load())
    try:
        listed = backend.list_artifacts(run_id, "")
    finally:
        backend.close()
    assert sorted(item.path for item in listed) == _EXPECTED
    fetched = ridgeline.artifacts.download(f"runs:/{run_id}", tmp_path / f"fetched-{run_id}", tracking_uri=url)
    assert (fetched / "model.bin").read_bytes() == model
    assert (fetched / "outputs" / "sub" / "b.txt").read_text() == "b"
    assert (fetched / "notes" / "summary.txt").read_text() in ("trained offline", "logged while down")
    lineage = httpx.get(f"{url}/api/v1/runs/{run_id}/lineage").json()
    assert [(item["version"]["dataset"], item["context"]) for item in lineage["inputs"]] == [("points", "training")]
    found = httpx.get(f"{url}/api/v1/datasets/by-name", params={"name": "points"}).json()
    assert [version["run_count"] for version in found["versions"]] == [1]


def test_offline_artifacts_and_datasets_synced_twice_arrive_once(home: Path, tmp_path: Path) -> None:
    model, outputs = _files(tmp_path)
    script = tmp_path / "offline.py"
    script.write_text(_OFFLINE)
    spool_root = tmp_path / "spool"
    env = {**os.environ, "RIDGELINE_MODE": "offline", "RIDGELINE_SPOOL_DIR": str(spool_root)}
    done = subprocess.run(
        [sys.executable, str(script), str(model), str(outputs)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split()[-1]
    spool = spool_root / run_id
    assert len(list(spool.glob("*.blob"))) == 4, "each artifact is a copy in the spool"
    assert not (home / "ridgeline.db").exists(), "offline must not write anywhere else"
    original = model.read_bytes()
    model.write_bytes(b"changed after the run")  # the spool holds the content as logged
    shutil.copytree(spool, tmp_path / "copy")

    with server_on_port(home, free_port()) as url:
        first = _sync(spool_root, url)
        assert first.returncode == 0 and "1 of 1 runs synced" in first.stdout, first.stderr
        second = _sync(spool_root, url)
        assert second.returncode == 0 and "Nothing to sync" in second.stdout
        # As if the first sync had crashed after the server applied everything but before the spool was emptied.
        shutil.copytree(tmp_path / "copy", spool)
        again = _sync(spool_root, url)
        assert again.returncode == 0 and "1 of 1 runs synced" in again.stdout, again.stderr
        _check_delivered(url, run_id, original, tmp_path)
        with ridgeline.Client(url) as client:
            assert client.get_run(run_id).status is ridgeline.RunStatus.FINISHED
    assert not spool.exists()


def _wait_for(condition: Callable[[], bool], message: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


@pytest.mark.parametrize("back", ["during-run", "after-finish"])
def test_artifacts_logged_while_the_server_is_down_are_delivered(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, back: str
) -> None:
    """The uploader's retries run out against a stopped server: the items go to the spool and are delivered by
    the run's sender once the server is back, or, when the run ends first, by ``ridgeline sync``."""
    model, outputs = _files(tmp_path)
    spool_root = tmp_path / "spool"
    monkeypatch.setenv("RIDGELINE_SPOOL_DIR", str(spool_root))
    monkeypatch.setenv("RIDGELINE_FLUSH_TIMEOUT", "3")
    port = free_port()
    with server_on_port(home, port) as url:
        run = ridgeline.start_run(project="spooled", tracking_uri=url, capture=False)
    spool = spool_root / run.id
    run.log_artifact(model)
    run.log_artifact(outputs)
    run.log_text("logged while down", "notes/summary.txt")
    run.log_dataset(np.arange(100).reshape(50, 2), name="points", context="training")
    _wait_for(lambda: len(list(spool.glob("*.blob"))) == 4, "the artifacts were not spooled")
    if back == "during-run":
        with server_on_port(home, port):
            assert run.flush(timeout=20), "the spool was not delivered once the server was back"
            assert not spool.exists()
            run.finish()
            _check_delivered(url, run.id, model.read_bytes(), tmp_path)
        return
    run.finish()  # the server still down: everything stays in the spool, the run's end included
    kinds = [orjson.loads(path.read_bytes())["kind"] for path in sorted(spool.glob("*.rec"))]
    assert kinds.count("artifact") == 4 and kinds.count("dataset") == 1 and kinds[-1] == "finish"
    with server_on_port(home, port):
        done = _sync(spool_root, url)
        assert done.returncode == 0 and "1 of 1 runs synced" in done.stdout, done.stderr
        _check_delivered(url, run.id, model.read_bytes(), tmp_path)
        with ridgeline.Client(url) as client:
            assert client.get_run(run.id).status is ridgeline.RunStatus.FINISHED
