"""7. Artifacts: a large file up and down through the server, and the time a training loop spends in log_artifact.

Transfer: a 1 GB file (200 MB with --quick) uploaded then downloaded through the tracking server, which keeps
it on its local artifact store. Ours: the SDK's HTTP backend (`upload_artifact`, `download_artifact`: streamed,
sha256 checked) against `ridgeline server`. MLflow: `MlflowClient.log_artifact` / `download_artifacts` against
`mlflow server` with proxied artifacts (`--artifacts-destination`, served by the server). MB/s each way; peak
RSS of the client process (whole worker, imports included) and of the server process (VmHWM, its lifetime).

log_artifact: the wall time of `run.log_artifact` on a 100 MB file inside a loop (ours: background upload,
embedded; MLflow: `mlflow.log_artifact`, synchronous, to its server).
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import Context, Figures, Params, Report, Row, error_notes, median, scaled, scratch

NAME = "artifacts"
TITLE = "artifact upload/download through the server, log_artifact in a loop"

MB = 1024 * 1024
TARGET_MB_PER_S = 200.0
TARGET_RSS_MB = 200.0
TARGET_LOG_MS = 1.0
LOG_CALLS = 5


def _write_file(path: Path, size: int) -> None:
    """Incompressible content, each 8 MiB piece different, written outside the clock."""
    block = os.urandom(8 * MB)
    with open(path, "wb") as out:
        for index in range(size // len(block)):
            out.write(index.to_bytes(8, "little") + block[8:])


def _server_peak_rss_mb(port: int) -> float | None:
    """VmHWM of the process serving ``port`` (found by its command line: stdlib only, both venvs)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if str(port).encode() not in argv or not any(b"server" in arg for arg in argv):
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            continue
    return None


def _client_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours_transfer(p: Params) -> Figures:
    from ridgeline.client.http import HttpBackend

    size: int = p["size"]
    work = Path(p["workdir"])
    source, copy = work / "upload.bin", work / "download.bin"
    _write_file(source, size)
    backend = HttpBackend(p["url"], timeout=120)
    run = backend.create_run("bench", os.urandom(16).hex(), "transfer", "", int(time.time() * 1000), None)
    t0 = time.perf_counter()
    backend.upload_artifact(run.id, "big.bin", source)
    t1 = time.perf_counter()
    backend.download_artifact(run.id, "big.bin", copy)
    t2 = time.perf_counter()
    assert copy.stat().st_size == size
    backend.close()
    return {
        "upload_mb_s": size / MB / (t1 - t0),
        "download_mb_s": size / MB / (t2 - t1),
        "client_peak_rss_mb": _client_peak_rss_mb(),
        "server_peak_rss_mb": _server_peak_rss_mb(int(p["url"].rsplit(":", 1)[1])),
    }


def mlflow_transfer(p: Params) -> Figures:
    from mlflow import MlflowClient

    size: int = p["size"]
    work = Path(p["workdir"])
    source = work / "big.bin"
    _write_file(source, size)
    client = MlflowClient(tracking_uri=p["url"])
    run_id = client.create_run(client.create_experiment("bench")).info.run_id
    t0 = time.perf_counter()
    client.log_artifact(run_id, str(source))
    t1 = time.perf_counter()
    local = client.download_artifacts(run_id, "big.bin", str(work / "down"))
    t2 = time.perf_counter()
    assert Path(local).stat().st_size == size
    return {
        "upload_mb_s": size / MB / (t1 - t0),
        "download_mb_s": size / MB / (t2 - t1),
        "client_peak_rss_mb": _client_peak_rss_mb(),
        "server_peak_rss_mb": _server_peak_rss_mb(int(p["url"].rsplit(":", 1)[1])),
    }


def ours_log_artifact(p: Params) -> Figures:
    import ridgeline

    work = Path(p["workdir"])
    source = work / "model.bin"
    _write_file(source, p["size"])
    run = ridgeline.start_run("bench", tracking_uri=p["home"], capture=False)
    times = []
    for index in range(LOG_CALLS):
        t0 = time.perf_counter()
        run.log_artifact(source, name=f"model-{index}.bin")
        times.append(time.perf_counter() - t0)
    t_finish = time.perf_counter()
    run.finish()  # waits for the uploads: they must all arrive
    count = len(list((Path(p["home"]) / "artifacts" / run.id).iterdir()))
    assert count == LOG_CALLS, count
    return {"median_s": median(times), "max_s": max(times), "finish_s": time.perf_counter() - t_finish}


def mlflow_log_artifact(p: Params) -> Figures:
    import mlflow

    work = Path(p["workdir"])
    source = work / "model.bin"
    _write_file(source, p["size"])
    mlflow.set_tracking_uri(p["url"])
    times = []
    with mlflow.start_run():
        for index in range(LOG_CALLS):
            t0 = time.perf_counter()
            mlflow.log_artifact(str(source), artifact_path=f"copy-{index}")
            times.append(time.perf_counter() - t0)
    return {"median_s": median(times), "max_s": max(times)}


def run(ctx: Context) -> Report:
    params: dict[str, Any] = {
        "transfer_bytes": scaled(1024 * MB, 200 * MB, ctx.quick),
        "log_bytes": 100 * MB,
    }
    size = params["transfer_bytes"]
    with scratch("artifacts-home") as home, tempfile.TemporaryDirectory(dir=home) as work:
        ours = ctx.ours_served(home, __name__, "ours_transfer", {"size": size, "workdir": work})
    with scratch("artifacts-mlflow") as work:
        theirs = ctx.peer_served(None, __name__, "mlflow_transfer", {"size": size, "workdir": str(work)})
    with scratch("artifacts-log") as home, tempfile.TemporaryDirectory(dir=home) as work:
        ours_log = ctx.ours(
            __name__, "ours_log_artifact", {"home": str(home), "workdir": work, "size": params["log_bytes"]}
        )
    with scratch("artifacts-log-mlflow") as work:
        theirs_log = ctx.peer_served(
            None, __name__, "mlflow_log_artifact", {"workdir": str(work), "size": params["log_bytes"]}
        )
    notes = [f"{size // MB} MB file, local artifact store on both servers", *error_notes(ours=ours, mlflow=theirs)]
    rows = [
        Row(NAME, f"upload {size // MB} MB through the server", "MB/s", ours.get("upload_mb_s"),
            theirs.get("upload_mb_s"), better="higher", target_value=TARGET_MB_PER_S, target_ratio=1.0, notes=notes),
        Row(NAME, f"download {size // MB} MB through the server", "MB/s", ours.get("download_mb_s"),
            theirs.get("download_mb_s"), better="higher", target_value=TARGET_MB_PER_S, target_ratio=1.0),
        Row(NAME, "peak RSS of the client (whole process)", "MB", ours.get("client_peak_rss_mb"),
            theirs.get("client_peak_rss_mb"), target_value=TARGET_RSS_MB),
        Row(NAME, "peak RSS of the server", "MB", ours.get("server_peak_rss_mb"),
            theirs.get("server_peak_rss_mb"), target_value=TARGET_RSS_MB),
        Row(NAME, "time in log_artifact of a 100 MB file (median of 5)", "ms", ours_log.ms(), theirs_log.ms(),
            target_value=TARGET_LOG_MS,
            notes=["ours: background upload, embedded; MLflow: synchronous upload to its server",
                   *error_notes(ours=ours_log, mlflow=theirs_log)]),
    ]  # fmt: skip
    return Report(rows, {"ours": ours, "mlflow": theirs, "ours_log": ours_log, "mlflow_log": theirs_log}, params)
