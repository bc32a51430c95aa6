"""Stored XSS, checked in the real browser: one corpus of hostile strings stored, through the real API and SDK, in
every user-supplied string the UI shows (project, run, param, tag, note, artifact, dataset, model, version,
monitor, segment, feature, alert and account strings), then every page that shows them is opened in headless
Chromium.

On each page (and after each click that draws more) the test asserts that no payload ran or became markup:
``window.__xss`` stays undefined, no dialog opened, no Content-Security-Policy violation was reported (one means
the browser parsed a payload as a tag, a handler or a style), no console error, and the DOM holds no event-handler
attribute, ``javascript:`` link, frame, foreign script or injected style. The names and notes must also be shown
literally (so a page cannot pass by dropping them): ``{{7*7}}`` as typed (no template ran it), ``&lt;script&gt;``
as typed (never decoded into a tag). Plotly's labels (legends, ticks, titles, hover text) are checked as drawn.

A value the server's own rules refuse (keys are ``[A-Za-z0-9_-./: ]``, names hold no control or format character,
artifact paths no line separators) is offered anyway: the answer must be a clean 400, and the value is then left
out of what the page must show.

One server (local single-user mode) and one browser for the module, seeded once; the account pages need their own
server with accounts on (support/accounts.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import numpy as np
import pandas as pd
import pytest

import ridgeline
from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.reference import Reference
from ridgeline.server.rate_limit import reset_all
from support.accounts import PASSWORD, Team, team_server
from support.browser import CHROMIUM, require_browser, wait_ready
from support.servers import running_server

API = "/api/v1"
HOUR = 3_600_000

# The long payload is cut to each field's limit (a name holds 200 characters, a param value 6,000, a note 100,000).
LONG = "<img src=x onerror=window.__xss=1>" + "long " * 4_000 + "</script><script>window.__xss=1</script>"
CORPUS: list[tuple[str, str]] = [
    ("script", "<script>window.__xss=1</script>"),
    ("img-onerror", '"><img src=x onerror="window.__xss=1">'),
    ("svg-onload", "'><svg onload=window.__xss=1>"),
    ("javascript-url", "javascript:window.__xss=1"),
    ("iframe-srcdoc", '<iframe srcdoc="<script>parent.__xss=1</script>">'),
    ("template", "{{7*7}}"),
    ("textarea-breakout", "</textarea><script>window.__xss=1</script>"),
    ("anchor", '<a href="javascript:window.__xss=1">x</a>'),
    ("rtl-override", "\u202e<img src=x onerror=window.__xss=1>txt.exe"),
    ("js-template", "${window.__xss=1}"),
    ("double-escaped", "&lt;script&gt;window.__xss=1&lt;/script&gt;"),
    ("style", "<style>*{display:none}</style>"),
    ("long", LONG),
    ("line-separators", "a\u2028b\u2029c</script><script>window.__xss=1</script>"),
    ("script-breakout", "</script><script>window.__xss=1</script>"),
]
TEXTS = dict(CORPUS)
ALL = "\n".join(text for _, text in CORPUS)
# Model and monitor targets are written NAME/VERSION and NAME@ALIAS: the one model they watch has neither.
TARGET_MODEL = TEXTS["img-onerror"]

# Records Content-Security-Policy violations from the first byte of every document (CSP never blocks this script:
# Playwright injects it). A violation means the browser met markup, a handler or a style that came from data.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}: ${event.sample}`);
}, true);
"""

# Everything on the page that data could have turned into live markup.
AUDIT_DOM = """() => {
  const found = [];
  const describe = (el) => `<${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}>`;
  for (const el of document.querySelectorAll("*")) {
    const tag = el.tagName.toUpperCase();
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) found.push(`${describe(el)} has the handler ${name}="${attr.value.slice(0, 80)}"`);
      const url = attr.value.replace(/[\\u0000-\\u0020]/g, "");
      // Plotly draws a heatmap as an <image> of a PNG data URL: the one data URL a page may hold.
      const png = tag === "IMAGE" && name === "href" && /^data:image\\/png;base64,/i.test(url);
      if (["href", "xlink:href", "src", "action", "formaction", "data", "srcdoc"].includes(name)
          && /^(javascript|data|vbscript):/i.test(url) && !png) {
        found.push(`${describe(el)} has ${name}="${attr.value.slice(0, 80)}"`);
      }
      if (name === "srcdoc") found.push(`${describe(el)} has srcdoc`);
    }
    if (["IFRAME", "FRAME", "EMBED", "OBJECT", "BASE", "META"].includes(tag) && !(tag === "META" && !el.httpEquiv)) {
      found.push(`a ${describe(el)} element`);
    }
    if (tag === "SCRIPT") {
      const own = el.src && new URL(el.src, location.href).origin === location.origin;
      if (!own && el.type !== "application/json") found.push(`a script of its own: ${el.outerHTML.slice(0, 120)}`);
    }
    if (tag === "STYLE") found.push(`a style element: ${el.textContent.slice(0, 80)}`);
  }
  return found;
}"""

# What the page shows: its visible text and the values of its form fields (a note lives in a textarea).
SHOWN = """() => [document.body.innerText,
  ...[...document.querySelectorAll("input, textarea")].map((el) => el.value),
  ...[...document.querySelectorAll("option")].map((el) => el.textContent)].join("\\n")"""


def fit(text: str, limit: int) -> str:
    return text[:limit].strip()


def squeezed(text: str) -> str:
    """``text`` without any whitespace (the page wraps and collapses it; U+2028/U+2029 count as whitespace)."""
    return "".join(text.split())


def _ok(response: httpx.Response, *statuses: int) -> Any:
    where = f"{response.request.method} {response.request.url}"[:300]
    assert response.status_code in statuses, f"{where}: {response.status_code} {response.text[:500]}"
    return response.json() if response.content else {}


def _refused(response: httpx.Response) -> bool:
    """True for a clean refusal (400 in the documented shape); fails on anything but that or a success."""
    if response.status_code < 300:
        return False
    where = f"{response.request.method} {response.request.url}"[:300]
    assert response.status_code == 400, f"{where}: {response.status_code} {response.text[:500]}"
    assert response.json()["error"]["code"] == "INVALID_ARGUMENT", response.text[:500]
    return True


@dataclass
class Seeded:
    """What the server holds: ids, and per field the payloads it accepted (shown) and refused (left out)."""

    url: str
    project_id: str = ""
    other_project_id: str = ""
    main_run: str = ""
    parent_run: str = ""
    other_run: str = ""
    name_runs: dict[str, str] = field(default_factory=dict)  # payload id -> run id
    monitor: str = ""
    accepted: dict[str, list[str]] = field(default_factory=dict)
    refused: dict[str, list[str]] = field(default_factory=dict)

    def offer(self, what: str, pid: str, text: str, response: httpx.Response) -> Any:
        """The answer to storing one string: remember whether it was kept. Returns the answer's JSON when it was."""
        if _refused(response):
            self.refused.setdefault(what, []).append(pid)
            return None
        self.accepted.setdefault(what, []).append(text)
        return response.json() if response.content else {}

    def shown(self, *fields: str) -> list[str]:
        return [text for name in fields for text in self.accepted.get(name, [])]


# -- seeding ---------------------------------------------------------------------------------------------------------


def _seed_projects(http: httpx.Client, seeded: Seeded) -> None:
    for pid, text in CORPUS:
        body = {"name": fit(text, 200), "description": text}
        project = seeded.offer("project name", pid, fit(text, 200), http.post(f"{API}/projects", json=body))
        if project is None:  # the name was refused: the description still gets in, under a plain name
            body["name"] = f"xss project {pid}"
            project = _ok(http.post(f"{API}/projects", json=body), 201)
        seeded.accepted.setdefault("project description", []).append(text)
        if pid == "script":
            seeded.project_id = project["id"]
        elif pid == "img-onerror":
            seeded.other_project_id = project["id"]
    # Project tags (MLflow's experiment tags) are stored too; no page shows them today.
    for pid, text in CORPUS:
        tag = {"experiment_id": seeded.project_id, "key": f"tag-{pid}", "value": fit(text, 5000)}
        _ok(http.post("/api/2.0/mlflow/experiments/set-experiment-tag", json=tag), 200)


def _create_run(http: httpx.Client, seeded: Seeded, pid: str, text: str, name: str, **body: Any) -> str:
    body = {"project_id": seeded.project_id, "notes": text, **body}
    created = seeded.offer("run name", pid, name, http.post(f"{API}/runs", json={**body, "name": name}))
    if created is None:
        created = _ok(http.post(f"{API}/runs", json={**body, "name": f"xss run {pid}"}), 201)
    seeded.accepted.setdefault("run notes", []).append(text)
    return str(created["id"])


def _series(key: str, values: list[float]) -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {"key": key, "steps": list(range(len(values))), "values": values, "timestamps": [now] * len(values)}


def _batch(http: httpx.Client, run_id: str, **items: Any) -> httpx.Response:
    body = {"batch_id": uuid.uuid4().hex, **items}
    return http.post(f"{API}/runs/{run_id}/batches", json=body)


def _seed_runs(http: httpx.Client, seeded: Seeded) -> None:
    """A run named after each payload (its note, param and tag ``payload`` the payload too), and a main run with
    every payload in its params, tags, notes, user, environment facts and parent's name."""
    for pid, text in CORPUS:
        run_id = _create_run(
            http,
            seeded,
            pid,
            text,
            fit(text, 200),
            params={"payload": fit(text, 6000)},
            tags={"payload": fit(text, 8000)},
        )
        seeded.name_runs[pid] = run_id
        curve = [1.0 / (step + 1 + len(seeded.name_runs)) for step in range(5)]
        _ok(_batch(http, run_id, metrics=[_series("loss", curve)]), 200)
        _ok(http.post(f"{API}/runs/{run_id}/finish", json={}), 200)
    seeded.accepted["param value"] = [fit(text, 6000) for _, text in CORPUS]
    seeded.accepted["tag value"] = [fit(text, 8000) for _, text in CORPUS]
    seeded.parent_run = seeded.name_runs["script"]

    environment = {
        "ridgeline.git.remote": TEXTS["javascript-url"],
        "ridgeline.git.branch": TEXTS["img-onerror"],
        "ridgeline.git.commit": TEXTS["svg-onload"],
        "ridgeline.git.root": TEXTS["anchor"],
        "ridgeline.source.command": TEXTS["textarea-breakout"],
        "ridgeline.source.entry_point": TEXTS["iframe-srcdoc"],
        "ridgeline.source.working_dir": TEXTS["script-breakout"],
        "ridgeline.host.name": TEXTS["template"],
        "ridgeline.host.os": TEXTS["style"],
        "ridgeline.python.version": TEXTS["rtl-override"],
        "ridgeline.other": TEXTS["double-escaped"],
    }
    main = _create_run(
        http,
        seeded,
        "main",
        ALL,
        TEXTS["template"],
        user=TEXTS["svg-onload"],
        parent_run_id=seeded.parent_run,
        params={f"p-{pid}": fit(text, 6000) for pid, text in CORPUS},
        tags={**{f"t-{pid}": fit(text, 8000) for pid, text in CORPUS}, **environment},
    )
    seeded.main_run = main
    seeded.accepted["environment"] = list(environment.values())
    # Keys (params, tags, metrics) are [A-Za-z0-9_-./: ]: each payload key is offered and must be refused cleanly.
    for pid, text in CORPUS:
        key = fit(text, 250)
        point = [_series(key, [1.0])]
        seeded.offer("param key", pid, key, _batch(http, main, params={key: "v"}))
        seeded.offer("tag key", pid, key, _batch(http, main, tags={key: "v"}))
        seeded.offer("metric key", pid, key, _batch(http, main, metrics=point))
    curves = [_series(key, [0.5 + 0.1 * step for step in range(5)]) for key in ("loss", "system/cpu")]
    _ok(_batch(http, main, metrics=curves), 200)
    # In another project, so that the comparison names the projects of its runs.
    other = {"project_id": seeded.other_project_id, "name": "other project's run", "notes": ALL}
    seeded.other_run = _ok(http.post(f"{API}/runs", json=other), 201)["id"]


def _plotly_figure() -> dict[str, Any]:
    """A Plotly figure whose every label is a payload (Plotly reads a subset of HTML in labels: it must stay text
    or be sanitised, never run)."""
    return {
        "data": [
            {"x": [1, 2], "y": [3, 4], "type": "scatter", "name": text, "text": [text, text], "hovertext": text}
            for _, text in CORPUS[:8]
        ],
        "layout": {
            "title": {"text": TEXTS["anchor"]},
            "annotations": [{"text": text, "x": 1, "y": 3, "showarrow": False} for _, text in CORPUS[:8]],
            "xaxis": {"title": {"text": TEXTS["svg-onload"]}},
        },
    }


def _seed_artifacts(http: httpx.Client, seeded: Seeded) -> list[str]:
    """Files named after each payload, and files of every previewed kind holding all of them. Returns the paths
    to preview."""
    main = seeded.main_run

    def put(path: str, content: str) -> httpx.Response:
        return http.put(f"{API}/runs/{main}/artifacts/{quote(path, safe='/')}", content=content.encode())

    for pid, text in CORPUS:
        path = f"named/{fit(text, 200)}.txt"
        seeded.offer("artifact path", pid, path, put(path, text))
    csv_cells = ",".join('"' + text.replace('"', '""') + '"' for _, text in CORPUS[:6])
    files = {
        "evil.html": f"<html><body>{ALL}</body></html>",
        "evil.svg": f'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=1">{ALL}</svg>',
        "evil.md": f"# {TEXTS['script']}\n\n[link](javascript:window.__xss=1)\n\n{ALL}\n",
        "evil.txt": ALL,
        "evil.xml": f"<?xml version='1.0'?><x>{ALL}</x>",
        "evil.csv": f"{csv_cells}\n{csv_cells}\n",
        "evil.json": json.dumps({"values": [text for _, text in CORPUS]}),
        "figure.json": json.dumps(_plotly_figure()),
        "environment/git.diff": f"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-{TEXTS['script']}\n+{ALL}\n",
        "environment/requirements.txt": ALL,
        "console.log": ALL,
    }
    for path, content in files.items():
        _ok(put(path, content), 201)
    frame = pd.DataFrame({fit(text, 200): [text, text.upper()] for _, text in CORPUS[:6]})
    with ridgeline.start_run(run_id=main, tracking_uri=seeded.url) as run:
        run.log_table(frame, "evil.parquet")
    return [*files, "evil.parquet"]


def _seed_datasets(http: httpx.Client, seeded: Seeded) -> None:
    """A dataset named after each payload (context and source payloads too), used by the main run, whose profile
    has payload column names and category values."""
    categories = [text for _, text in CORPUS]
    frame = pd.DataFrame({"plan": categories * 2, **{fit(text, 200): range(30) for _, text in CORPUS[:6]}})
    with ridgeline.start_run(run_id=seeded.main_run, tracking_uri=seeded.url) as run:
        for pid, text in CORPUS:
            name = fit(text, 200)
            try:
                run.log_dataset(frame, name=name, context=fit(text, 50), source=fit(text, 8000))
            except InvalidArgument:
                seeded.refused.setdefault("dataset name", []).append(pid)
                continue
            seeded.accepted.setdefault("dataset name", []).append(name)
            seeded.accepted.setdefault("dataset context", []).append(fit(text, 50))
            seeded.accepted.setdefault("dataset source", []).append(fit(text, 8000))
    names = [dataset["name"] for dataset in _ok(http.get(f"{API}/datasets"), 200)["datasets"]]
    assert sorted(names) == sorted(seeded.accepted["dataset name"])


def _seed_models(http: httpx.Client, seeded: Seeded) -> None:
    """A model named after each payload the name rule allows; the target model has two versions from the main run
    (descriptions and tags payloads), both aliases, and a history to roll back."""
    for pid, text in CORPUS:
        name = fit(text, 250)
        body = {"name": name, "description": text, "tags": {f"t-{pid}": fit(text, 5000)}}
        if seeded.offer("model name", pid, name, http.post(f"{API}/models", json=body)) is None:
            _ok(http.post(f"{API}/models", json={**body, "name": f"xss model {pid}"}), 201)  # "/" is refused
        seeded.accepted.setdefault("model description", []).append(text)
        seeded.accepted.setdefault("model tag", []).append(fit(text, 5000))
    assert TARGET_MODEL in seeded.accepted["model name"]
    model = quote(TARGET_MODEL, safe="")
    for index in range(2):
        version = {
            "source": f"s3://bucket/xss/{index}",
            "run_id": seeded.main_run,
            "description": ALL,
            "tags": {f"t-{pid}": fit(text, 5000) for pid, text in CORPUS},
        }
        _ok(http.post(f"{API}/models/{model}/versions", json=version), 201)
    # A source that looks like a link target, on a version without a run (the page then shows the source).
    javascript = {"source": TEXTS["javascript-url"], "description": ALL}
    seeded.offer(
        "version source",
        "javascript-url",
        TEXTS["javascript-url"],
        http.post(f"{API}/models/{model}/versions", json=javascript),
    )
    for number in (1, 2):
        _ok(http.put(f"{API}/models/{model}/aliases/champion", json={"version": number}), 200)
    _ok(http.put(f"{API}/models/{model}/aliases/challenger", json={"version": 2}), 200)


def _seed_monitors(http: httpx.Client, seeded: Seeded) -> None:
    """A monitor of the target model per payload name; the first one accepted gets predictions over three hourly
    windows: a numeric feature named after a payload, a categorical one whose values are payloads, a segment tag
    whose values are payloads, and an alert rule named after a payload that fires."""
    generator = np.random.default_rng(11)
    feature = TEXTS["script"]
    reference = Reference.build(
        {feature: generator.normal(0, 1, 500), "plan": generator.choice(["a", "b"], 500)}
    ).to_json()
    for pid, text in CORPUS:
        name = fit(text, 200)
        body = {
            "model": f"{TARGET_MODEL}/1",
            "name": name,
            "description": fit(text, 10_000),
            "reference": reference,
            "reference_source": fit(text, 1000),
            "window": "1h",
            "segment_by": ["team"],
            "rules": [{"statistic": "psi", "op": ">", "threshold": 0.0, "name": fit(text, 200)}],
        }
        if seeded.offer("monitor name", pid, name, http.post(f"{API}/monitors", json=body)) is None:
            _ok(http.post(f"{API}/monitors", json={**body, "name": f"xss monitor {pid}"}), 201)
        seeded.accepted.setdefault("monitor description", []).append(fit(text, 10_000))
    # The API addresses a monitor as /monitors/{name} (one segment): the first name without a "/" gets the data.
    seeded.monitor = next(name for name in seeded.accepted["monitor name"] if "/" not in name)
    values = [text for _, text in CORPUS]
    start = int(time.time() * 1000) // HOUR * HOUR - 3 * HOUR
    rows = 150
    for window in range(3):
        batch = {
            "inputs": {
                feature: generator.normal(window, 1, rows).tolist(),
                "plan": [values[(row + window) % len(values)] for row in range(rows)],
            },
            "predictions": generator.integers(0, 2, rows).tolist(),
            "timestamps": [start + window * HOUR + row * 1000 for row in range(rows)],
            "tags": {"team": [values[row % 4] for row in range(rows)]},
        }
        _ok(http.post(f"{API}/monitors/{quote(seeded.monitor, safe='')}/predictions", json=batch), 200)
    alerts = _ok(http.post(f"{API}/monitors/{quote(seeded.monitor, safe='')}/evaluate"), 200)["alerts"]
    assert alerts, "the always-true rule raised no alert"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    home = tmp_path_factory.mktemp("xss-home")
    # No periodic monitoring pass: the seeded windows and alerts stay as written.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RIDGELINE_MONITORING_INTERVAL", "0")
        patch.setenv("RIDGELINE_CAPTURE", "none")
        with running_server(home) as url, httpx.Client(base_url=url, timeout=60) as http:
            seeded = Seeded(url)
            _seed_projects(http, seeded)
            _seed_runs(http, seeded)
            seeded.accepted["preview"] = _seed_artifacts(http, seeded)
            _seed_datasets(http, seeded)
            _seed_models(http, seeded)
            _seed_monitors(http, seeded)
            yield seeded


# -- the browser -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@dataclass
class Guard:
    """A browser tab that fails on any sign of a payload running or turning into markup."""

    tab: Any
    base: str
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    expected_errors: list[str] = field(default_factory=list)

    def visit(self, path: str, status: int = 200) -> None:
        response = self.tab.goto(f"{self.base}{path}")
        assert response is not None and response.status == status, (path, response and response.status)
        wait_ready(self.tab)

    def check(self, where: str, shown: Sequence[str] = ()) -> None:
        """Nothing ran or became markup on the page now shown; each of ``shown`` is on it as typed."""
        state = self.tab.evaluate(
            "() => ({xss: typeof window.__xss, violations: window.__cspViolations || ['(no recorder)']})"
        )
        assert state["xss"] == "undefined", f"{where}: a payload ran (window.__xss is set)"
        assert not self.dialogs, f"{where}: a dialog opened: {self.dialogs}"
        assert not state["violations"], f"{where}: CSP violations (data parsed as markup): {state['violations']}"
        markup = self.tab.evaluate(AUDIT_DOM)
        assert not markup, f"{where}: data became markup: {markup}"
        unexpected = [e for e in self.errors if not any(text in e for text in self.expected_errors)]
        assert not unexpected, f"{where}: console errors: {unexpected}"
        if shown:
            page_text = squeezed(self.tab.evaluate(SHOWN))
            missing = [text[:60] for text in shown if squeezed(text) not in page_text]
            assert not missing, f"{where}: not shown as typed: {missing}"

    def see(self, path: str, shown: Sequence[str] = (), status: int = 200) -> None:
        self.visit(path, status)
        self.check(path, shown)


@contextmanager
def guarded(browser: Any, base: str) -> Iterator[Guard]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    guard = Guard(tab, base)

    def on_dialog(dialog: Any) -> None:
        guard.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.on("console", lambda message: guard.errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: guard.errors.append(f"uncaught: {error}"))
    try:
        yield guard
    finally:
        context.close()


@pytest.fixture
def guard(chromium: Any, seeded: Seeded) -> Iterator[Guard]:
    with guarded(chromium, seeded.url) as watching:
        yield watching


# -- the pages -------------------------------------------------------------------------------------------------------


def test_the_guard_sees_a_payload_that_ran_or_became_markup(guard: Guard) -> None:
    """The checks below would catch a slip: markup made from data on a real page (its handler refused by the CSP),
    and a script that did run."""
    guard.visit("/")
    guard.tab.evaluate(
        """(html) => { const box = document.createElement("div"); box.innerHTML = html; document.body.append(box); }""",
        TEXTS["img-onerror"],
    )
    guard.tab.wait_for_function("() => window.__cspViolations.length > 0")
    with pytest.raises(AssertionError, match="CSP violations"):
        guard.check("markup made on purpose")
    guard.visit("/")
    guard.tab.evaluate("() => { window.__xss = 1; }")
    with pytest.raises(AssertionError, match="a payload ran"):
        guard.check("a script run on purpose")
    guard.visit("/")
    guard.tab.evaluate(
        """() => { const a = document.createElement("a"); a.href = "javascript:void 0"; document.body.append(a); }"""
    )
    with pytest.raises(AssertionError, match="data became markup"):
        guard.check("a javascript: link made on purpose")
    guard.errors.clear()


def test_projects_list_and_runs_tables(guard: Guard, seeded: Seeded) -> None:
    guard.see("/", seeded.shown("project name", "project description"))
    columns = "&".join(f"col={kind}.payload" for kind in ("params", "tags"))
    names = seeded.shown("run name")
    guard.see(f"/projects/{seeded.project_id}?{columns}", [*names, *seeded.shown("param value", "tag value")])
    # Grouped by a tag whose values are payloads: each group row names its value.
    guard.see(f"/projects/{seeded.project_id}?group=tags.payload", seeded.shown("tag value"))
    guard.see(f"/projects/{seeded.other_project_id}", [TEXTS["img-onerror"]])
    # The filter box echoes what was typed, and the parse error quotes it.
    for _, text in CORPUS:
        guard.see(f"/projects/{seeded.project_id}?filter={quote(fit(text, 2000))}", [fit(text, 2000)])
        literal = "'" + fit(text, 1500).replace("\\", "\\\\").replace("'", "\\'") + "'"
        guard.see(f"/projects/{seeded.project_id}?filter={quote(f'params.payload = {literal}')}", [fit(text, 1500)])


def test_run_page_and_its_tabs(guard: Guard, seeded: Seeded) -> None:
    main = seeded.main_run
    overview = [
        TEXTS["template"],  # the run's name
        TEXTS["svg-onload"],  # its user
        fit(TEXTS["script"], 200),  # its parent's name
        *seeded.shown("param value", "tag value"),
    ]
    guard.see(f"/runs/{main}", overview)
    assert guard.tab.locator("#notes").input_value() == ALL
    assert guard.tab.locator("#name-input").input_value() == TEXTS["template"]
    guard.tab.click("#rename")
    guard.check("rename form")

    guard.see(f"/runs/{main}?tab=artifacts")
    tree = guard.tab.locator("#artifact-tree")
    tree.locator("button.file").first.wait_for()
    for details in tree.locator("details:not([open]) > summary").all():
        details.click()
    shown_paths = tree.locator("button.file").evaluate_all("(els) => els.map((el) => el.dataset.path)")
    for path in seeded.shown("artifact path"):
        assert path in shown_paths, path
    guard.check("artifact tree", [path.rsplit("/", 1)[-1] for path in seeded.shown("artifact path")])
    for path in [*seeded.accepted["preview"], *seeded.shown("artifact path")[:4]]:
        tree.locator("button.file").evaluate_all(
            "(els, path) => els.find((el) => el.dataset.path === path).click()", path
        )
        guard.tab.wait_for_function(
            "(path) => document.querySelector('#artifact-preview .preview-head h3')?.textContent === path", arg=path
        )
        if path == "figure.json":
            figure = guard.tab.locator("#artifact-preview .preview-figure")
            figure.locator(".legendtext").first.wait_for()
            # Plotly reads markup in labels: a logged figure's are drawn as typed.
            assert TEXTS["anchor"] in figure.locator(".legendtext").all_text_contents()
            assert figure.locator(".gtitle").text_content() == TEXTS["anchor"]
        guard.check(f"preview of {path}")

    guard.see(f"/runs/{main}?tab=environment", seeded.shown("environment"))
    guard.tab.locator("#env-console code").wait_for()
    guard.tab.locator("#env-diff code").wait_for()
    guard.check("environment files", [TEXTS["script"], TEXTS["textarea-breakout"]])
    guard.see(f"/runs/{main}?tab=system")
    guard.see(f"/runs/{main}?tab=lineage", seeded.shown("dataset name"))

    for pid, run_id in seeded.name_runs.items():
        guard.see(f"/runs/{run_id}", [TEXTS[pid]])


def test_compare_page(guard: Guard, seeded: Seeded) -> None:
    runs = [*seeded.name_runs.values(), seeded.main_run, seeded.other_run]
    # The scatter's x axis: the param whose values are the payloads (categories, each a tick label).
    guard.see(f"/compare?runs={','.join(runs)}&sx=params.payload&sy=metrics.loss", seeded.shown("run name"))
    # Plotly reads markup in tick labels: the scatter's categories must be drawn as typed.
    ticks = guard.tab.locator("#scatter .xtick text").all_text_contents()
    assert TEXTS["anchor"] in ticks and TEXTS["style"] in ticks, ticks
    # Hover labels are drawn from run names and param values: hover each of the scatter's points.
    points = guard.tab.locator("#scatter .point")
    assert points.count() == len(seeded.name_runs)
    for index in range(points.count()):
        points.nth(index).hover(force=True)
        guard.tab.locator("#scatter .hoverlayer .hovertext").wait_for()
        guard.check(f"scatter hover {index}")
    guard.tab.locator("#parcoords .pc-run").first.hover(force=True)
    guard.check("parallel coordinates hover")


def test_dataset_pages(guard: Guard, seeded: Seeded) -> None:
    guard.see("/datasets", seeded.shown("dataset name"))
    columns = [fit(text, 200) for _, text in CORPUS[:6]]  # the profile's column names
    kept = (seeded.shown(f"dataset {what}") for what in ("name", "context", "source"))
    for name, context, source in zip(*kept, strict=True):
        guard.see(f"/datasets/{quote(name, safe='')}", [name, context, source, *columns])


def test_model_pages_and_dialogs(guard: Guard, seeded: Seeded) -> None:
    guard.see("/models", seeded.shown("model name", "model description"))
    # Version descriptions are not shown on the model page; version tags are (k=v in the versions table).
    guard.see(f"/models/{quote(TARGET_MODEL, safe='')}", [TARGET_MODEL, *seeded.shown("model tag")])
    for opener, dialog in (("#promote-open", "#promote-dialog"), ("#rollback-open", "#rollback-dialog")):
        guard.tab.click(opener)
        guard.tab.wait_for_selector(f"{dialog}[open]")
        guard.check(f"model page {dialog}", [TARGET_MODEL])
        guard.tab.keyboard.press("Escape")
    for name in seeded.shown("model name"):
        guard.see(f"/models/{quote(name, safe='')}", [name])


# The distribution of the chosen feature is drawn (monitor-page.js marks it with the feature's name when done).
DISTRIBUTION_SHOWN = """(row) => {
  const select = document.querySelector("#dist-feature");
  const chart = document.querySelector("#distribution");
  return select.value === String(row) && chart.dataset.feature === select.options[row].text
    && document.querySelector("#distribution-status").textContent === "";
}"""


def _click_cell(tab: Any, row: int, column: int) -> None:
    spot = tab.locator("#heatmap").evaluate(
        """(el, [i, j]) => {
          const { xaxis, yaxis } = el._fullLayout;
          const box = el.getBoundingClientRect();
          return { x: box.left + xaxis._offset + xaxis.l2p(j), y: box.top + yaxis._offset + yaxis.l2p(i) };
        }""",
        [row, column],
    )
    tab.mouse.click(spot["x"], spot["y"])


def test_monitor_pages(guard: Guard, seeded: Seeded) -> None:
    guard.see("/monitors", seeded.shown("monitor name", "monitor description"))
    path = f"/monitors/{quote(seeded.monitor, safe='')}"
    guard.see(path, [seeded.monitor, TEXTS["script"], *[text for _, text in CORPUS[:4]]])
    features = guard.tab.locator("#dist-feature option").all_text_contents()
    assert TEXTS["script"] in features and "plan" in features, features
    # A click on plan's cell draws its distribution, whose categories are the payloads (Plotly reads markup in tick
    # labels: they must be drawn as typed). One click: a second one soon after is a double click to Plotly.
    plan = features.index("plan")
    _click_cell(guard.tab, plan, 1)
    guard.tab.wait_for_function(DISTRIBUTION_SHOWN, arg=plan)
    ticks = guard.tab.locator("#distribution .xtick text").all_text_contents()
    assert TEXTS["anchor"] in ticks and TEXTS["script"] in ticks, ticks
    guard.check("distribution of plan")
    guard.tab.select_option("#dist-feature", label=TEXTS["script"])
    guard.tab.wait_for_function(DISTRIBUTION_SHOWN, arg=features.index(TEXTS["script"]))
    guard.check("distribution of the payload-named feature", [TEXTS["script"]])
    segments = guard.tab.locator("#segment option").evaluate_all("(els) => els.map((el) => el.value)")
    for segment in segments[1:]:
        guard.see(f"{path}?segment={quote(segment)}")
    for name in seeded.shown("monitor name")[1:]:
        guard.see(f"/monitors/{quote(name, safe='')}", [name])


def test_error_pages_echo_the_path_and_query_as_text(guard: Guard, seeded: Seeded) -> None:
    guard.expected_errors.append("404")
    guard.expected_errors.append("400")
    for _, text in CORPUS:
        piece = quote(f"{fit(text, 300)} (none such)", safe="")
        for path in (f"/runs/{piece}", f"/models/{piece}", f"/monitors/{piece}", f"/datasets/{piece}"):
            response = guard.tab.goto(f"{seeded.url}{path}")
            assert response is not None and response.status in (400, 404), (path, response and response.status)
            wait_ready(guard.tab)
            guard.check(path)
        response = guard.tab.goto(f"{seeded.url}/projects/{piece}")
        assert response is not None and response.status in (400, 404)
        wait_ready(guard.tab)
        guard.check(f"/projects/{piece}")


# -- the account pages -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    home = tmp_path_factory.mktemp("xss-accounts")
    with team_server(home, f"sqlite:///{home / 'meta.db'}") as running:
        yield running


def test_account_pages(chromium: Any, team: Team) -> None:
    """/login?next=, /account (tokens named with payloads), /admin (display names, e-mail addresses, token names)
    and /admin/audit, whose entries quote what a stranger typed: a failed login's user name, a request's path."""
    admin = team.client("admin")
    kept, emails = Seeded(team.url), []
    for index, (pid, text) in enumerate(CORPUS):
        # An address may not hold <, > or blanks: the rest of the payload (quotes, handlers, javascript:) stays.
        email = "".join(char for char in fit(text, 300) if char not in "<> \n\u2028\u2029") + "@example.com"
        body = {"name": f"xss{index}", "password": PASSWORD, "display_name": fit(text, 200), "email": email}
        if kept.offer("display name", pid, fit(text, 200), admin.post(f"{API}/users", json=body)) is None:
            _ok(admin.post(f"{API}/users", json={**body, "display_name": f"xss {pid}"}), 201)
        emails.append(email)
        _ok(admin.post(f"{API}/users/xss{index}/tokens", json={"name": fit(text, 100), "scope": "read"}), 201)
    token_names = [fit(text, 100) for _, text in CORPUS]
    with guarded(chromium, team.url) as guard:
        guard.expected_errors.append("401")
        for _, text in CORPUS:
            guard.see(f"/login?next={quote(fit(text, 1000), safe='')}")
        session = guard.tab.context.request.post(
            f"{team.url}{API}/session", data={"name": "admin", "password": PASSWORD}
        )
        assert session.status == 201, session.text()
        csrf = session.json()["csrf_token"]
        for name in token_names:
            answer = guard.tab.context.request.post(
                f"{team.url}{API}/account/tokens",
                data={"name": name, "scope": "read"},
                headers={"X-CSRF-Token": csrf, "Origin": team.url},
            )
            assert answer.status == 201, answer.text()
        # Into the audit log: failed logins under payload names, and requests whose path holds a payload.
        try:
            for _, text in CORPUS:
                httpx.post(f"{team.url}{API}/session", json={"name": fit(text, 100), "password": "wrong"})
                admin.delete(f"{API}/account/tokens/{quote(fit(text, 200), safe='')}")
        finally:
            reset_all()
        guard.see("/account", token_names)
        guard.see("/admin", [*kept.shown("display name"), *emails])
        guard.see("/admin?tab=tokens", token_names)
        guard.see("/admin/audit", [fit(text, 100) for _, text in CORPUS[:5]])
        for _, text in CORPUS[:5]:
            filters = {"actor": fit(text, 100), "action": fit(text, 100), "object": fit(text, 100)}
            guard.see(f"/admin/audit?{urlencode(filters)}", [fit(text, 100)])
