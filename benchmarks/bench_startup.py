"""5. Startup: `import` in a fresh interpreter, and server start until its health check answers.

Import: median wall time of `python -c "import PKG"` minus that of `python -c "pass"` in the same
venv. Server: `ridgeline server` until `GET /healthz` is 200, `mlflow server` (sqlite, one worker)
until `GET /health` is 200; on a fresh data folder (first start creates the database) and again
on the existing one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import (
    Context,
    Figures,
    Params,
    Report,
    Row,
    Server,
    error_notes,
    free_port,
    median,
    ours_server,
    peer_server,
    repeat,
    scaled,
    scratch,
)

NAME = "startup"
TITLE = "startup"

TARGET_IMPORT_MS = 150.0
TARGET_SERVER_MS = 2000.0

ServerFactory = Callable[[Path, int, Path], Server]


def import_time(p: Params) -> Figures:
    """Runs in the venv under test: cost of `import PKG` over a bare interpreter start."""

    def python(code: str) -> Callable[[], object]:
        return lambda: subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)

    bare = repeat(python("pass"), p["repeats"], warmup=1)
    loaded = repeat(python(f"import {p['module']}"), p["repeats"], warmup=1)
    return {"import_s": loaded["median_s"] - bare["median_s"], "bare": bare, "with_import": loaded}


def _server_start(factory: ServerFactory, p: Params) -> Figures:
    """Seconds until healthy: each fresh start on a new data folder, warm starts on the last one."""
    fresh: list[float] = []
    warm: list[float] = []
    with scratch("startup") as root:
        data = root
        for k in range(p["fresh"] + p["warm"]):
            if k < p["fresh"]:
                data = root / f"data-{k}"
                data.mkdir()
            server = factory(data, free_port(), root / f"cwd-{k}")
            try:
                (fresh if k < p["fresh"] else warm).append(server.start(timeout=120))
            finally:
                server.stop()
    return {
        "fresh_s": median(fresh),
        "warm_s": median(warm),
        "fresh_samples_s": fresh,
        "warm_samples_s": warm,
    }


def ours_server_start(p: Params) -> Figures:
    return _server_start(ours_server, p)


def mlflow_server_start(p: Params) -> Figures:
    return _server_start(lambda data, port, cwd: peer_server(data / "mlflow.db", port, cwd), p)


def run(ctx: Context) -> Report:
    params: dict[str, Any] = {
        "import_repeats": scaled(7, 3, ctx.quick),
        "fresh": scaled(3, 1, ctx.quick),
        "warm": scaled(3, 2, ctx.quick),
    }
    imports = {"repeats": params["import_repeats"]}
    starts = {"fresh": params["fresh"], "warm": params["warm"]}
    ours_import = ctx.ours(__name__, "import_time", {**imports, "module": "ridgeline"})
    theirs_import = ctx.peer(__name__, "import_time", {**imports, "module": "mlflow"})
    ours_start = ctx.ours(__name__, "ours_server_start", starts)
    theirs_start = ctx.peer(__name__, "mlflow_server_start", starts)
    start_notes = error_notes(ours=ours_start, mlflow=theirs_start)
    rows = [
        Row(
            NAME,
            "import in a fresh interpreter",
            "ms",
            ours_import.ms("import_s"),
            theirs_import.ms("import_s"),
            target_value=TARGET_IMPORT_MS,
            notes=error_notes(ours=ours_import, mlflow=theirs_import),
        ),
        Row(
            NAME,
            "server start until healthy, fresh data folder",
            "ms",
            ours_start.ms("fresh_s"),
            theirs_start.ms("fresh_s"),
            target_value=TARGET_SERVER_MS,
            notes=start_notes,
        ),
        Row(
            NAME,
            "server start until healthy, existing data folder",
            "ms",
            ours_start.ms("warm_s"),
            theirs_start.ms("warm_s"),
            target_value=TARGET_SERVER_MS,
        ),
    ]
    raw = {
        "ours_import": ours_import,
        "mlflow_import": theirs_import,
        "ours_server": ours_start,
        "mlflow_server": theirs_start,
    }
    return Report(rows, raw, params)
