"""6. Web UI: how long a user waits for a page, measured in a real browser (Playwright + Chromium).

Both sides get the same data, written straight into each side's database (the SDKs would take minutes
for millions of points, and loading is not what is measured): Ridgeline through its embedded store
(`TrackingService` on a SQLite file), MLflow with plain SQL into the schema `MlflowClient` creates.
Both are built once per size (and store code / MLflow version) under `benchmarks/.work/cache/` and
copied for each run. Then `ridgeline server` and `mlflow server` serve them on loopback, side by side,
and one headless Chromium (Debian's, `/usr/bin/chromium`) opens each page:

- runs table: a project/experiment of 10,000 runs (5 params, 5 metrics each), until a screenful of
  rows is in the table;
- run page: one run with 20 metrics of 100,000 steps, until all 20 charts are drawn;
- compare: 20 runs with 5 metrics of 1,000 steps each, until the page says it is ready (MLflow's compare
  page, parallel coordinates and a details table without metric charts, is a reference only).

The clock is the page's own: `performance.now()` (ms since navigation start) in the first animation
frame in which the ready condition holds, checked every frame by a script Playwright adds to each new
document. Each page is opened once in a fresh browser context (cold: nothing cached), then several
times more in the same context (warm: static assets cached, as for a user clicking around), going
through `about:blank` in between so every open is a full navigation. The two sides take turns, open
by open, so other load on the machine falls on both alike.

The data lives in `_ui_data.py` (populating and caching both sides), the pages and the timed opens in
`_ui_browser.py`; this module serves the data, runs the browser and reports.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _ui_browser
from _harness import (
    TIMES,
    Context,
    Outcome,
    Params,
    Report,
    Row,
    Server,
    _peer_cache_key,
    _peer_cache_path,
    _portable,
    error_notes,
    free_port,
    load_json,
    ours_python,
    ours_server,
    peer_server,
    run_side,
    save_json,
    scaled,
    scratch,
)
from _ui_browser import CHROMIUM, RUN_VIEWPORT, VIEWPORT, mlflow_pages, ours_pages
from _ui_data import compare_keys, data_sizes, prepare_mlflow, prepare_ours

NAME = "ui"
TITLE = "web UI page loads (Playwright)"

TARGET_TABLE_MS = 1000.0
TARGET_RUN_MS = 1500.0
TARGET_COMPARE_MS = 1500.0


def _process_cpu_s(session: int) -> float:
    """CPU seconds used so far by the live processes of a session (a server and the workers it started)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == session:  # field 6 of stat: the session id
                ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _settle(server: Server, log: Callable[[str], None], limit_s: float = 90.0) -> None:
    """Wait until a healthy server is also idle.

    `mlflow server` answers its health check while its job runner is still starting half a dozen worker
    processes (each imports MLflow: some 15 CPU-seconds in all); pages opened meanwhile would be timed on
    a machine the server itself is keeping busy.
    """
    if server.proc is None or not Path("/proc").is_dir():
        return
    t0 = time.perf_counter()
    before = _process_cpu_s(server.proc.pid)
    while time.perf_counter() - t0 < limit_s:
        time.sleep(1.0)
        now = _process_cpu_s(server.proc.pid)
        if now - before < 0.05:  # under 5% of one core for a second
            break
        before = now
    log(f"    {server.name} idle {time.perf_counter() - t0:.0f}s after its health check")


def _measure(ctx: Context, ours_data: Outcome, theirs_data: Outcome, params: Params) -> tuple[Outcome, Outcome]:
    """Serve each side's cached data and time the pages of both in one browser, taking turns."""
    sizes = params["sizes"]
    outcomes: dict[str, Outcome] = {}
    targets: dict[str, dict[str, Any]] = {}
    theirs_pages: list[dict[str, Any]] = []
    peer_key = ""
    if ours_data.error is not None:
        outcomes["ours"] = ours_data.then(Outcome)
    if theirs_data.error is not None:
        outcomes["mlflow"] = theirs_data.then(Outcome)
    else:
        theirs_pages = mlflow_pages(theirs_data.figures, sizes)
        peer_key = _peer_cache_key(__name__, "browse_mlflow", _portable({**params, "pages": theirs_pages}))
        cache = load_json(_peer_cache_path())
        if ctx.reuse_peer and peer_key in cache:
            ctx.log(f"  mlflow {_ui_browser.__name__}.browse (reused from an earlier run)")
            outcomes["mlflow"] = Outcome(figures=cache[peer_key], cached=True)
    with scratch("ui") as cwd, contextlib.ExitStack() as stack:
        servers: dict[str, Server] = {}
        try:
            if "ours" not in outcomes:
                home = cwd / "ridgeline-home"
                # The servers may write (statistics, WAL); the cached copies stay as built.
                shutil.copytree(ours_data.figures["home"], home)
                servers["ours"] = stack.enter_context(ours_server(home, free_port(), cwd))
                targets["ours"] = {"url": servers["ours"].base_url, "pages": ours_pages(ours_data.figures, sizes)}
            if "mlflow" not in outcomes:
                db = cwd / "mlflow.db"
                shutil.copyfile(theirs_data.figures["db"], db)
                servers["mlflow"] = stack.enter_context(peer_server(db, free_port(), cwd))
                targets["mlflow"] = {"url": servers["mlflow"].base_url, "pages": theirs_pages}
        except (RuntimeError, OSError) as exc:
            ctx.log(f"    failed: {str(exc).splitlines()[0]}")
            return outcomes.get("ours", Outcome(error=str(exc))), outcomes.get("mlflow", Outcome(error=str(exc)))
        if targets:
            for server in servers.values():
                _settle(server, ctx.log)
            turns = ", sides taking turns" if len(targets) > 1 else ""
            ctx.log(f"  {' + '.join(targets)} {_ui_browser.__name__}.browse (Chromium{turns})")
            browsed = run_side(
                ours_python(), _ui_browser.__name__, "browse", {**params, "targets": targets}, timeout=1800
            )
            for side in targets:
                outcomes[side] = Outcome(figures=browsed.figures.get(side, {}), error=browsed.error)
    theirs = outcomes["mlflow"]
    if "mlflow" in targets and theirs.error is None and not any("error" in f for f in theirs.figures.values()):
        cache = load_json(_peer_cache_path())
        cache[peer_key] = theirs.figures
        save_json(_peer_cache_path(), cache)
    return outcomes["ours"], theirs


def _ms(outcome: Outcome, page: str, key: str) -> float | None:
    value = outcome.figures.get(page, {}).get(key)
    return float(value) if isinstance(value, int | float) else None


def _page_notes(page: str, **outcomes: Outcome) -> list[str]:
    """A page that failed on one side (HTTP error, never ready) while the others were measured."""
    notes = []
    for who, outcome in outcomes.items():
        figures = outcome.figures.get(page, {})
        if figures.get("error"):
            notes.append(f"{who}: {figures['error']}")
        if figures.get("page_errors"):
            notes.append(f"{who}: {page} page threw {figures['page_errors'][0]}")
    return notes


def run(ctx: Context) -> Report:
    sizes = data_sizes(ctx.quick)
    repeats = scaled(7, 3, ctx.quick)
    browse_params = {"sizes": sizes, "repeats": repeats, "timeout_s": 120, "chromium": CHROMIUM}
    ours_data = prepare_ours(ctx, sizes)
    theirs_data = prepare_mlflow(ctx, sizes)
    ours, theirs = _measure(ctx, ours_data, theirs_data, browse_params)

    n_runs, charts, steps = sizes["table_runs"], sizes["history_metrics"], sizes["history_steps"]
    compare = (
        f"{sizes['compare_runs']} runs {TIMES} {len(compare_keys())} metrics {TIMES} {sizes['compare_steps']:,} steps"
    )
    notes = error_notes(ours=ours, mlflow=theirs)
    pages = [
        ("table", f"runs table of {n_runs:,} runs, first rows drawn", TARGET_TABLE_MS, 1.0, []),
        ("run", f"run page, {charts} charts {TIMES} {steps:,} steps drawn", TARGET_RUN_MS, 1.0, []),
        (
            "compare",
            f"compare page, {compare}",
            TARGET_COMPARE_MS,
            None,
            ["MLflow's compare page is a reference only: parallel coordinates and a details table, no metric charts"],
        ),
    ]
    rows = []
    for page, label, target_ms, target_ratio, page_notes in pages:
        rows.append(
            Row(
                NAME,
                f"{label}, warm (median of {repeats})",
                "ms",
                _ms(ours, page, "median_ms"),
                _ms(theirs, page, "median_ms"),
                target_value=target_ms,
                target_ratio=target_ratio,
                notes=[*page_notes, *_page_notes(page, ours=ours, mlflow=theirs), *notes],
            )
        )
        rows.append(
            Row(NAME, f"{label}, cold (first open)", "ms", _ms(ours, page, "cold_ms"), _ms(theirs, page, "cold_ms"))
        )
    raw = {"ours_populate": ours_data, "ours": ours, "mlflow_populate": theirs_data, "mlflow": theirs}
    return Report(rows, raw, {**sizes, "warm_repeats": repeats, "viewport": VIEWPORT, "run_viewport": RUN_VIEWPORT})
