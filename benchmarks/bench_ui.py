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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import random
import shutil
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _harness import (
    CACHE_DIR,
    ROOT,
    TIMES,
    Context,
    Figures,
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
    installed_version,
    load_json,
    median,
    ours_python,
    ours_server,
    peer_server,
    run_side,
    save_json,
    scaled,
    scratch,
)

NAME = "ui"
TITLE = "web UI page loads (Playwright)"

SEED = 20240611
N_PARAMS = 5
N_METRICS = 5
TABLE_PROJECT = "ui-table"
RUN_PROJECT = "ui-run"
COMPARE_PROJECT = "ui-compare"
TARGET_TABLE_MS = 1000.0
TARGET_RUN_MS = 1500.0
TARGET_COMPARE_MS = 1500.0
CHROMIUM = "/usr/bin/chromium"  # Debian's build: never a downloaded one (`playwright install` is not used)
BASE_TIME_MS = 1_767_225_600_000  # 2026-01-01: fixed, so both sides and every cache build hold the same data


# --------------------------------------------------------------------------- the data (same on both sides)


def table_runs(n: int) -> Iterator[tuple[str, dict[str, str], dict[str, float]]]:
    """n runs: a name, params p0..p4 in v0..v9, metrics m0..m4 in [0, 1) (one point each, step 0)."""
    rng = random.Random(SEED)
    for i in range(n):
        params = {f"p{j}": f"v{rng.randrange(10)}" for j in range(N_PARAMS)}
        metrics = {f"m{j}": rng.random() for j in range(N_METRICS)}
        yield f"run-{i:05d}", params, metrics


def curve(index: int, steps: int) -> list[float]:
    """A training-loss-like curve (decay plus a wiggle), different for each metric index."""
    scale = 1.0 + index / 10
    tau = steps / (3 + index % 5)
    return [scale * math.exp(-s / tau) + 0.05 * math.sin(s / 37 + index) for s in range(steps)]


def history_keys(n: int) -> list[str]:
    return [f"metric_{k:02d}" for k in range(n)]


def compare_keys() -> list[str]:
    return ["loss", "val_loss", "accuracy", "val_accuracy", "lr"]


def compare_curve(run: int, key: int, steps: int) -> list[float]:
    return curve(run * len(compare_keys()) + key, steps)


# --------------------------------------------------------------------------- populate (run in a worker)


def mlflow_populate(p: Params) -> Figures:
    """MLflow venv: let MlflowClient create the schema and the experiments, then insert rows with SQL."""
    import sqlite3
    import uuid

    from mlflow import MlflowClient

    t0 = time.perf_counter()
    db = Path(p["db"])
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiments = {name: client.create_experiment(name) for name in (TABLE_PROJECT, RUN_PROJECT, COMPARE_PROJECT)}
    for experiment_id in experiments.values():
        # Marks a model-training experiment, so MLflow 3's UI shows runs rather than its GenAI overview.
        client.set_experiment_tag(experiment_id, "mlflow.experimentKind", "custom_model_development")
    conn = sqlite3.connect(db)
    locations = dict(conn.execute("SELECT experiment_id, artifact_location FROM experiments").fetchall())

    def add_run(experiment: str, name: str, start: int, params: dict[str, str]) -> str:
        run_id = uuid.uuid4().hex
        conn.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,"
            " start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)"
            " VALUES (?, ?, 'LOCAL', '', '', 'bench', 'FINISHED', ?, ?, '', 'active', ?, ?)",
            (run_id, name, start, start + 60_000, f"{locations[int(experiment)]}/{run_id}/artifacts", int(experiment)),
        )
        conn.executemany(
            "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
            [("mlflow.runName", name, run_id), ("mlflow.user", "bench", run_id)],
        )
        conn.executemany(
            "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", [(k, v, run_id) for k, v in params.items()]
        )
        return run_id

    def add_metric(run_id: str, key: str, values: list[float], start: int) -> None:
        conn.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, 0)",
            ((key, v, start + s, run_id, s) for s, v in enumerate(values)),
        )
        last = len(values) - 1
        conn.execute(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, 0, ?)",
            (key, values[last], start + last, last, run_id),
        )

    with conn:
        for i, (name, params, metrics) in enumerate(table_runs(p["table_runs"])):
            start = BASE_TIME_MS + i * 1000
            run_id = add_run(experiments[TABLE_PROJECT], name, start, params)
            for key, value in metrics.items():
                add_metric(run_id, key, [value], start)
        history_run = add_run(experiments[RUN_PROJECT], "curves", BASE_TIME_MS, {"steps": str(p["history_steps"])})
        for k, key in enumerate(history_keys(p["history_metrics"])):
            add_metric(history_run, key, curve(k, p["history_steps"]), BASE_TIME_MS)
        compare_runs = []
        for r in range(p["compare_runs"]):
            start = BASE_TIME_MS + r * 1000
            run_id = add_run(experiments[COMPARE_PROJECT], f"cmp-{r:02d}", start, {"lr": f"{0.001 * (r + 1):g}"})
            for k, key in enumerate(compare_keys()):
                add_metric(run_id, key, compare_curve(r, k, p["compare_steps"]), start)
            compare_runs.append(run_id)
    conn.execute("ANALYZE")
    conn.close()
    return {
        "experiments": experiments,
        "history_run": history_run,
        "compare_runs": compare_runs,
        "populate_s": time.perf_counter() - t0,
    }


def ours_populate(p: Params) -> Figures:
    """Project venv: fill a data folder through the embedded tracking service (no server, no SDK batching)."""
    from ridgeline.domain.entities import LogBatch, MetricSeries
    from ridgeline.domain.ids import new_id
    from ridgeline.services.tracking import RunSpec, TrackingService
    from ridgeline.store.metadata import MetadataStore

    t0 = time.perf_counter()
    home = Path(p["home"])
    home.mkdir(parents=True, exist_ok=True)
    store = MetadataStore(f"sqlite:///{home / 'ridgeline.db'}")
    service = TrackingService(store)

    def add_run(project_id: str, name: str, start: int, params: dict[str, str], series: list[MetricSeries]) -> str:
        run = service.create_run(RunSpec(project_id=project_id, name=name, start_time=start), params=params)
        service.log_batch(run.id, LogBatch(batch_id=new_id(), metrics=series))
        service.finish_run(run.id, end_time=start + 60_000)
        return run.id

    def series(key: str, values: list[float], start: int) -> MetricSeries:
        steps = range(len(values))
        return MetricSeries(key, steps, values, [start + s for s in steps])

    table = service.create_project(TABLE_PROJECT).id
    for i, (name, params, metrics) in enumerate(table_runs(p["table_runs"])):
        start = BASE_TIME_MS + i * 1000
        add_run(table, name, start, params, [series(k, [v], start) for k, v in metrics.items()])
    history_run = add_run(
        service.create_project(RUN_PROJECT).id,
        "curves",
        BASE_TIME_MS,
        {"steps": str(p["history_steps"])},
        [
            series(key, curve(k, p["history_steps"]), BASE_TIME_MS)
            for k, key in enumerate(history_keys(p["history_metrics"]))
        ],
    )
    compare = service.create_project(COMPARE_PROJECT).id
    compare_runs = []
    for r in range(p["compare_runs"]):
        start = BASE_TIME_MS + r * 1000
        curves = [series(key, compare_curve(r, k, p["compare_steps"]), start) for k, key in enumerate(compare_keys())]
        compare_runs.append(add_run(compare, f"cmp-{r:02d}", start, {"lr": f"{0.001 * (r + 1):g}"}, curves))
    store.refresh_statistics()
    store.close()
    return {
        "projects": {TABLE_PROJECT: table, COMPARE_PROJECT: compare},
        "history_run": history_run,
        "compare_runs": compare_runs,
        "populate_s": time.perf_counter() - t0,
    }


# --------------------------------------------------------------------------- the browser (project venv, both sides)

# Ready conditions, as JavaScript expressions checked in every animation frame of the page.
# "A screenful of rows": MLflow's grid renders only the rows in view, and both tables show far more than this.
TABLE_ROWS = 10
OURS_TABLE = f"document.querySelectorAll('table#runs tbody tr[data-run-id]').length >= {TABLE_ROWS}"
# MLflow's runs grid (ag-grid): the run-name cells link to the run page.
MLFLOW_TABLE = f"document.querySelectorAll('.ag-row a[href*=\"/runs/\"]').length >= {TABLE_ROWS}"
# Plotly puts more than one svg.main-svg in each plot, so count plots holding one, not svgs.
OURS_RUN = (
    "document.documentElement.dataset.ready === 'true'"
    " && [...document.querySelectorAll('.chart')].filter((c) => c.querySelector('.main-svg')).length >= CHARTS"
)
# MLflow draws a chart's Plotly line only once its sampled history has arrived; an empty chart has no path.
MLFLOW_RUN = (
    "[...document.querySelectorAll('.js-plotly-plot')]"
    ".filter((p) => (p.querySelector('.scatterlayer path.js-line')?.getAttribute('d') || '').length > 10)"
    ".length >= CHARTS"
)
OURS_COMPARE = "document.documentElement.dataset.ready === 'true'"
# MLflow's compare page: the parallel-coordinates plot has its axes and the run details list the last run.
MLFLOW_COMPARE = (
    "document.querySelectorAll('.js-plotly-plot .parcoords .y-axis').length >= 2"
    " && [...document.querySelectorAll('span')].some((s) => s.textContent === LAST_NAME)"
)

# Checked in every frame from the first one; records the page's clock (ms since navigation start) once it holds.
READY_PROBE = """(() => {
  if (location.protocol === "about:") return;
  // MLflow's page alone loads hundreds of script chunks: keep every request, not the default 250.
  performance.setResourceTimingBufferSize(10000);
  window.__uiBenchLongTasks = [];
  try {
    new PerformanceObserver((list) => window.__uiBenchLongTasks.push(...list.getEntries()))
      .observe({type: "longtask", buffered: true});
  } catch (error) {}
  const ready = () => (%s);
  const tick = () => {
    let ok = false;
    try { ok = Boolean(ready()); } catch (error) { ok = false; }
    if (ok) window.__uiBenchReadyAt = performance.now();
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""

# Where the time went until the ready moment, from the page's own performance entries (kept in the JSON):
# the document's response, the requests (the last few to finish), and the main thread's long tasks (> 50 ms).
TIMINGS = """() => {
  const readyAt = window.__uiBenchReadyAt;
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource")
    .filter((r) => r.startTime <= readyAt)
    .map((r) => ({name: r.name.split("?")[0].split("/").slice(-2).join("/"), start: r.startTime, end: r.responseEnd,
                  bytes: r.transferSize, body: r.decodedBodySize}))
    .sort((a, b) => b.end - a.end);
  const tasks = window.__uiBenchLongTasks.filter((t) => t.startTime <= readyAt);
  return {
    response_start_ms: nav ? nav.responseStart : null,
    response_end_ms: nav ? nav.responseEnd : null,
    dom_content_loaded_ms: nav ? nav.domContentLoadedEventEnd : null,
    requests: resources.length,
    requests_done_ms: resources.length ? resources[0].end : null,
    transfer_bytes: resources.reduce((sum, r) => sum + (r.bytes || 0), 0),
    last_requests: resources.slice(0, 5),
    long_tasks: tasks.length,
    long_tasks_ms: tasks.reduce((sum, t) => sum + Math.min(t.duration, readyAt - t.startTime), 0),
    longest_task_ms: tasks.reduce((most, t) => Math.max(most, t.duration), 0),
  };
}"""

VIEWPORT = {"width": 1440, "height": 900}
# MLflow draws only the charts in view; a viewport tall enough for all 20 charts makes both sides draw them all.
RUN_VIEWPORT = {"width": 1440, "height": 3000}


def _open(page: Any, url: str, timeout_s: float) -> Figures:
    """One full navigation (from about:blank, so a hash route still loads a new document); the page's clock."""
    page.goto("about:blank")
    response = page.goto(url, wait_until="commit")
    if response is None or not response.ok:
        # Fail at once rather than wait out the timeout on an error page.
        raise RuntimeError(f"HTTP {response.status if response else '(no response)'} from GET {url[:150]}")
    page.wait_for_function("() => window.__uiBenchReadyAt !== undefined", timeout=timeout_s * 1000, polling=50)
    ready_ms = float(page.evaluate("window.__uiBenchReadyAt"))
    return {"ready_ms": ready_ms, **page.evaluate(TIMINGS)}


class _Side:
    """One side's tab for one page: its own context (cold cache at first), its samples, or what stopped it."""

    def __init__(self, browser: Any, base_url: str, spec: Params, timeout_s: float) -> None:
        # A fresh context per side and page: an empty HTTP cache and storage for the cold open.
        self.context = browser.new_context(viewport=spec.get("viewport", VIEWPORT))
        self.context.add_init_script(READY_PROBE % spec["ready"])
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)[:300]))
        self.url = base_url + spec["path"]
        self.timeout_s = timeout_s
        self.opens: list[Figures] = []
        self.failure: str | None = None

    def open(self) -> None:
        if self.failure is not None:
            return
        try:
            self.opens.append(_open(self.page, self.url, self.timeout_s))
        except Exception as exc:  # one broken page must not cost the figures of the others
            self.failure = str(exc).splitlines()[0][:300]

    def finish(self) -> Figures:
        self.context.close()
        if self.failure is not None or len(self.opens) < 2:
            return {"error": self.failure or "no warm open", "page_errors": self.errors[:5]}
        cold, warm = self.opens[0], self.opens[1:]
        samples = [w["ready_ms"] for w in warm]
        return {
            "cold_ms": cold["ready_ms"],
            "median_ms": median(samples),
            "min_ms": min(samples),
            "samples_ms": samples,
            "cold": cold,
            "warm_last": warm[-1],
            "page_errors": self.errors[:5],
        }


def browse(p: Params) -> Figures:
    """Project venv: open each page on every side (`p["targets"]`), cold once, then warm `p["repeats"]` times.

    The sides take turns, open by open, so load from other work on the machine falls on both alike.
    """
    from playwright.sync_api import sync_playwright

    targets: dict[str, Any] = p["targets"]
    figures: Figures = {side: {} for side in targets}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=p["chromium"])
        try:
            # The browser's first page starts its renderer and GPU processes: not something to time on one side.
            warmup = browser.new_context()
            warmup.new_page().goto("data:text/html,<p>warm-up</p>")
            warmup.close()
            for name in dict.fromkeys(spec["name"] for t in targets.values() for spec in t["pages"]):
                tabs = {
                    side: _Side(browser, t["url"], spec, p["timeout_s"])
                    for side, t in targets.items()
                    for spec in t["pages"]
                    if spec["name"] == name
                }
                order = list(tabs.values())
                for round_ in range(1 + p["repeats"]):
                    for tab in order if round_ % 2 == 0 else reversed(order):
                        tab.open()
                for side, tab in tabs.items():
                    figures[side][name] = tab.finish()
        finally:
            browser.close()
    return figures


# --------------------------------------------------------------------------- orchestration


def _sizes(quick: bool) -> dict[str, int]:
    return {
        "table_runs": scaled(10_000, 1_000, quick),
        "history_metrics": 20,
        "history_steps": scaled(100_000, 10_000, quick),
        "compare_runs": 20,
        "compare_steps": scaled(1_000, 200, quick),
    }


def _ours_cache_key(sizes: Params) -> str:
    """Sizes plus everything that shapes the stored data: the store's code (schema, migrations, block format)."""
    digest = hashlib.sha256(json.dumps([installed_version(ours_python(), "ridgeline"), dict(sizes)]).encode())
    store = ROOT / "src" / "ridgeline" / "store"
    for path in sorted(store.rglob("*.py")):
        digest.update(path.relative_to(store).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def _ours_fixture(ctx: Context, sizes: Params) -> Outcome:
    """A Ridgeline data folder holding the three data sets, built once per size and store version."""
    if ctx.skip_ours:
        return Outcome(error="skipped (--skip-ours)")
    home = CACHE_DIR / f"ui-ridgeline-{_ours_cache_key(sizes)}"
    meta = home.with_suffix(".json")
    if home.is_dir() and meta.exists():
        ctx.log(f"  ours   {__name__}.ours_populate (cached {home.relative_to(ROOT)})")
        return Outcome(figures={**load_json(meta), "home": str(home)}, cached=True)
    building = home.with_suffix(".building")
    shutil.rmtree(building, ignore_errors=True)
    ctx.log(f"  ours   building {home.relative_to(ROOT)} (cached for later runs)")
    outcome = ctx.ours(__name__, "ours_populate", {**sizes, "home": str(building)}, timeout=1800)
    if outcome.error is not None:
        shutil.rmtree(building, ignore_errors=True)
        return outcome
    # The store's code changes often during development: drop folders built earlier at these sizes.
    for old in CACHE_DIR.glob("ui-ridgeline-*.json"):
        if load_json(old).get("sizes") == dict(sizes):
            shutil.rmtree(old.with_suffix(""), ignore_errors=True)
            old.unlink(missing_ok=True)
    building.replace(home)
    save_json(meta, {**outcome.figures, "sizes": dict(sizes)})
    outcome.figures["home"] = str(home)
    return outcome


def _ours_pages(data: Figures, sizes: Params) -> list[dict[str, Any]]:
    charts = sizes["history_metrics"]
    return [
        {"name": "table", "path": f"/projects/{data['projects'][TABLE_PROJECT]}", "ready": OURS_TABLE},
        {
            "name": "run",
            "path": f"/runs/{data['history_run']}",
            "ready": OURS_RUN.replace("CHARTS", str(charts)),
            "viewport": RUN_VIEWPORT,
        },
        {"name": "compare", "path": "/compare?runs=" + ",".join(data["compare_runs"]), "ready": OURS_COMPARE},
    ]


def _mlflow_pages(data: Figures, sizes: Params) -> list[dict[str, Any]]:
    experiments = data["experiments"]
    # MLflow 3 opens experiments in its GenAI view unless told otherwise; runs live in the model-training view.
    table = f"/#/experiments/{experiments[TABLE_PROJECT]}/runs?workflowType=machine_learning"
    run = f"/#/experiments/{experiments[RUN_PROJECT]}/runs/{data['history_run']}/model-metrics"
    compare = "/#/compare-runs?" + urllib.parse.urlencode(
        {"runs": json.dumps(data["compare_runs"]), "experiments": json.dumps([experiments[COMPARE_PROJECT]])}
    )
    last_name = json.dumps(f"cmp-{sizes['compare_runs'] - 1:02d}")
    return [
        {"name": "table", "path": table, "ready": MLFLOW_TABLE},
        {
            "name": "run",
            "path": run,
            "ready": MLFLOW_RUN.replace("CHARTS", str(sizes["history_metrics"])),
            "viewport": RUN_VIEWPORT,
        },
        {"name": "compare", "path": compare, "ready": MLFLOW_COMPARE.replace("LAST_NAME", last_name)},
    ]


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
        theirs_pages = _mlflow_pages(theirs_data.figures, sizes)
        peer_key = _peer_cache_key(__name__, "browse_mlflow", _portable({**params, "pages": theirs_pages}))
        cache = load_json(_peer_cache_path())
        if ctx.reuse_peer and peer_key in cache:
            ctx.log(f"  mlflow {__name__}.browse (reused from an earlier run)")
            outcomes["mlflow"] = Outcome(figures=cache[peer_key], cached=True)
    with scratch("ui") as cwd, contextlib.ExitStack() as stack:
        servers: dict[str, Server] = {}
        try:
            if "ours" not in outcomes:
                home = cwd / "ridgeline-home"
                # The servers may write (statistics, WAL); the cached copies stay as built.
                shutil.copytree(ours_data.figures["home"], home)
                servers["ours"] = stack.enter_context(ours_server(home, free_port(), cwd))
                targets["ours"] = {"url": servers["ours"].base_url, "pages": _ours_pages(ours_data.figures, sizes)}
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
            ctx.log(f"  {' + '.join(targets)} {__name__}.browse (Chromium{turns})")
            browsed = run_side(ours_python(), __name__, "browse", {**params, "targets": targets}, timeout=1800)
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
    sizes = _sizes(ctx.quick)
    repeats = scaled(7, 3, ctx.quick)
    browse_params = {"sizes": sizes, "repeats": repeats, "timeout_s": 120, "chromium": CHROMIUM}
    ours_data = _ours_fixture(ctx, sizes)
    theirs_data = ctx.peer_fixture("mlflow-ui", __name__, "mlflow_populate", sizes)
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
