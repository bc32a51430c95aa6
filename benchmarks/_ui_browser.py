"""The browser side of the UI benchmark (bench_ui.py): which page to open on each side, when it counts as
ready, and the timed opens themselves.

`browse` runs in a worker (`_worker.py`) with the project venv, which has Playwright; Chromium is Debian's.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from _harness import Figures, Params, median
from _ui_data import COMPARE_PROJECT, RUN_PROJECT, TABLE_PROJECT, compare_name

CHROMIUM = "/usr/bin/chromium"  # Debian's build: never a downloaded one (`playwright install` is not used)

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


def ours_pages(data: Figures, sizes: Params) -> list[dict[str, Any]]:
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


def mlflow_pages(data: Figures, sizes: Params) -> list[dict[str, Any]]:
    experiments = data["experiments"]
    # MLflow 3 opens experiments in its GenAI view unless told otherwise; runs live in the model-training view.
    table = f"/#/experiments/{experiments[TABLE_PROJECT]}/runs?workflowType=machine_learning"
    run = f"/#/experiments/{experiments[RUN_PROJECT]}/runs/{data['history_run']}/model-metrics"
    compare = "/#/compare-runs?" + urllib.parse.urlencode(
        {"runs": json.dumps(data["compare_runs"]), "experiments": json.dumps([experiments[COMPARE_PROJECT]])}
    )
    last_name = json.dumps(compare_name(sizes["compare_runs"] - 1))
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
