"""The run page in a real browser: overview, charts (points, controls, zoom detail, live growth) and edits."""

from __future__ import annotations

import math
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

import ridgeline
from support.browser import UiServer, wait_ready

# Every chart's Plotly data, read off the page: [{key, traces: [{x, y}], xType, yType}] in page order.
CHARTS_JS = """() => [...document.querySelectorAll('.chart[data-key]')].map((el) => ({
  key: el.dataset.key,
  traces: (el.data || []).map((t) => ({
    x: Array.from(t.x, (v) => (v instanceof Date ? v.getTime() : v)),
    y: Array.from(t.y),
  })),
  xType: el._fullLayout && el._fullLayout.xaxis.type,
  yType: el._fullLayout && el._fullLayout.yaxis.type,
}))"""


def wait_until(page: Any, script: str, timeout: float = 15.0) -> Any:
    """Poll a page function until it returns something truthy (page.evaluate runs outside the page's CSP)."""
    deadline = time.monotonic() + timeout
    while True:
        result = page.evaluate(script)
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {script}")
        time.sleep(0.1)


def read_run(ui_server: UiServer, run_id: str) -> ridgeline.RunRecord:
    with ridgeline.Client(tracking_uri=ui_server.url) as client:
        return client.get_run(run_id)


def charts(page: Any) -> dict[str, dict[str, Any]]:
    return {chart["key"]: chart for chart in page.evaluate(CHARTS_JS)}


def set_smoothing(page: Any, weight: str) -> None:
    """Move the slider as a drag does: a new value, then an input event."""
    page.locator("#smooth").evaluate(
        "(el, weight) => { el.value = weight; el.dispatchEvent(new Event('input', {bubbles: true})); }", weight
    )


def open_run(page: Any, ui_server: UiServer, run_id: str, query: str = "") -> None:
    page.goto(ui_server.page_url(f"/runs/{run_id}{query}"))
    wait_ready(page)


def log_curves(ui_server: UiServer, project: str, steps: dict[str, int], **run_args: Any) -> str:
    with ridgeline.start_run(project=project, tracking_uri=ui_server.url, **run_args) as run:
        for key, count in steps.items():
            for step in range(count):
                run.log_metric(key, 1.0 + math.exp(-step / (count / 4)) + 0.01 * math.sin(step), step=step)
        return run.id


def test_overview_params_and_a_chart_per_metric(ui_server: UiServer, page: Any) -> None:
    run_id = log_curves(
        ui_server,
        "run-page-overview",
        {"short": 50, "long": 100_000},
        name="overview-run",
        config={"lr": 0.001, "model": "resnet"},
        tags={"team": "vision"},
    )
    open_run(page, ui_server, run_id)

    assert page.locator("h1#run-name").inner_text() == "overview-run"
    assert page.locator("#head-status .status").inner_text() == "finished"
    crumbs = page.locator(".crumbs li").all_inner_texts()
    assert [text.strip() for text in crumbs] == ["Projects", "run-page-overview", "overview-run"]
    overview = page.locator("#overview").inner_text()
    assert run_id in overview
    assert overview.count("not captured") == 2  # command and git commit, until the SDK captures them
    params = page.locator("#params-table tbody tr").all_inner_texts()
    assert [" ".join(row.split()) for row in params] == ["lr 0.001", "model resnet"]
    assert "fixed once logged" in page.locator("#params").inner_text()
    assert page.locator("#tags-table tbody tr[data-key='team'] .value").inner_text() == "vision"

    drawn_charts = charts(page)
    assert list(drawn_charts) == ["long", "short"]
    assert len(drawn_charts["short"]["traces"][0]["x"]) == 50
    long_points = len(drawn_charts["long"]["traces"][0]["x"])
    assert 200 <= long_points <= 2000, long_points  # downsampled by the server, still a detailed line
    assert drawn_charts["long"]["traces"][0]["x"][-1] == 99_999  # the last point is always kept


def test_non_finite_values_are_gaps(ui_server: UiServer, page: Any) -> None:
    with ridgeline.start_run(project="run-page-non-finite", tracking_uri=ui_server.url) as run:
        for step, value in enumerate([1.0, math.nan, math.inf, 2.0, -math.inf, 3.0]):
            run.log_metric("odd", value, step=step)
    open_run(page, ui_server, run.id)
    y = charts(page)["odd"]["traces"][0]["y"]
    assert y[0] == 1.0 and y[3] == 2.0 and y[5] == 3.0
    assert math.isnan(y[1]) and y[2] == math.inf and y[4] == -math.inf


def test_controls_change_the_charts_and_live_in_the_url(ui_server: UiServer, page: Any) -> None:
    run_id = log_curves(ui_server, "run-page-controls", {"loss": 200})
    open_run(page, ui_server, run_id)
    start = charts(page)["loss"]
    assert start["xType"] == "linear" and start["yType"] == "linear"
    assert start["traces"][0]["x"][:3] == [0, 1, 2]
    assert len(start["traces"]) == 1

    page.get_by_text("Wall time").click()
    wait_until(page, "() => document.querySelector('.chart')._fullLayout.xaxis.type === 'date'")
    page.get_by_text("Relative time").click()
    wait_until(page, "() => document.querySelector('.chart')._fullLayout.xaxis.type === 'linear'")
    relative = charts(page)["loss"]["traces"][0]["x"]
    assert 0 <= relative[0] < 60 and relative == sorted(relative)  # seconds since the run started

    set_smoothing(page, "0.6")
    wait_until(page, "() => document.querySelector('.chart').data.length === 2")
    raw, smoothed = charts(page)["loss"]["traces"]
    assert len(raw["y"]) == len(smoothed["y"]) == 200
    assert raw["y"] != smoothed["y"]
    assert page.locator("#smooth-value").inner_text() == "0.60"

    page.get_by_label("Log scale").check()
    wait_until(page, "() => document.querySelector('.chart')._fullLayout.yaxis.type === 'log'")

    query = parse_qs(urlsplit(page.url).query)
    assert query == {"x": ["relative"], "smooth": ["0.6"], "log": ["1"]}

    # The link reproduces the view.
    page.goto(page.url)
    wait_ready(page)
    again = charts(page)["loss"]
    assert again["yType"] == "log" and len(again["traces"]) == 2
    assert again["traces"][0]["x"] == relative
    assert page.locator("input[name='x'][value='relative']").is_checked()
    assert page.locator("#log-y").is_checked()
    assert page.locator("#smooth").input_value() == "0.6"

    # Back to the defaults: they leave the URL.
    page.get_by_text("Step", exact=True).click()
    page.get_by_label("Log scale").uncheck()
    set_smoothing(page, "0")
    wait_until(page, "() => document.querySelector('.chart').data.length === 1")
    assert urlsplit(page.url).query == ""


def test_charts_follow_the_colour_theme(ui_server: UiServer, page: Any) -> None:
    run_id = log_curves(ui_server, "run-page-theme", {"loss": 20})
    page.emulate_media(color_scheme="light")
    open_run(page, ui_server, run_id)
    matches = """() => {
      const chart = document.querySelector('.chart');
      const background = getComputedStyle(chart).getPropertyValue('--bg-raised').trim();
      return chart.layout.paper_bgcolor === background && background;
    }"""
    light = page.evaluate(matches)
    assert light
    page.emulate_media(color_scheme="dark")
    dark = wait_until(page, f"() => {{ const now = ({matches})(); return now !== {light!r} && now; }}")
    assert dark != light


def test_zoom_fetches_detail_and_reset_returns_to_the_overview(ui_server: UiServer, page: Any) -> None:
    run_id = log_curves(ui_server, "run-page-zoom", {"loss": 20_000})
    open_run(page, ui_server, run_id)
    overview = len(charts(page)["loss"]["traces"][0]["x"])
    assert overview < 2_500
    in_range = """() => document.querySelector('.chart').data[0].x.filter((x) => x >= 5000 && x <= 5100).length"""
    assert page.evaluate(in_range) < 20

    page.evaluate("() => Plotly.relayout(document.querySelector('.chart'), {'xaxis.range': [5000, 5100]})")
    wait_until(page, f"() => ({in_range})() === 101")  # every step of the range, fetched for the zoom
    # Outside the range the overview stays, so panning away still shows the curve.
    assert page.evaluate("() => document.querySelector('.chart').data[0].x.at(-1)") == 19_999

    page.evaluate("() => Plotly.relayout(document.querySelector('.chart'), {'xaxis.autorange': true})")
    wait_until(page, f"() => document.querySelector('.chart').data[0].x.length === {overview}")


def test_a_live_run_grows_without_reloading(ui_server: UiServer, page: Any) -> None:
    run = ridgeline.start_run(project="run-page-live", tracking_uri=ui_server.url)
    try:
        for step in range(10):
            run.log_metric("loss", 1 / (step + 1), step=step)
        assert run.flush(10)
        open_run(page, ui_server, run.id)
        assert page.locator("#head-status .status").inner_text() == "running"
        assert len(charts(page)["loss"]["traces"][0]["x"]) == 10
        page.evaluate("() => { window.notReloaded = true; }")

        for step in range(10, 30):
            run.log_metric("loss", 1 / (step + 1), step=step)
            run.log_metric("accuracy", step / 30, step=step)
        assert run.flush(10)
        wait_until(page, "() => document.querySelector('.chart[data-key=loss]').data[0].x.length === 30")
        wait_until(page, "() => document.querySelector('.chart[data-key=accuracy]')?.data?.[0].x.length === 20")
        assert page.locator(".chart[data-key]").evaluate_all("(els) => els.map((el) => el.dataset.key)") == [
            "accuracy",
            "loss",
        ]
    finally:
        run.finish()
    wait_until(page, "() => document.querySelector('#head-status .status').textContent === 'finished'")
    assert page.evaluate("() => window.notReloaded") is True
    loss = charts(page)["loss"]["traces"][0]
    assert loss["x"] == list(range(30))  # appended once each, in order


# The shared helpers (static/js/charts.js), imported into a drawn page the way the run and compare pages do.
IMPORT_CHARTS = """const page = document.querySelector('script[src*="run-page.js"]').src;
  const charts = await import(page.replace('run-page.js', 'charts.js'));"""


def test_fetch_histories_splits_requests_within_the_endpoint_limits(ui_server: UiServer, page: Any) -> None:
    project = "run-page-helpers"
    run_ids = [
        httpx.post(f"{ui_server.url}/api/v1/runs", json={"project": project, "name": f"r{i}"}).json()["id"]
        for i in range(51)
    ]
    run_id = log_curves(ui_server, project, {"loss": 30})
    sent: list[dict[str, Any]] = []
    page.on(
        "request", lambda request: sent.append(request.post_data_json) if "/runs/histories" in request.url else None
    )
    open_run(page, ui_server, run_id)
    sent.clear()

    keys = [f"k{i}" for i in range(20)]
    sizes = page.evaluate(
        f"""async ([runIds, keys]) => {{ {IMPORT_CHARTS}
        const found = await charts.fetchHistories(runIds, keys, {{points: 100, minStep: 0}});
        return [...found.values()].map((byKey) => byKey.size); }}""",
        [run_ids, keys],
    )
    assert sizes == [20] * 51  # every (run, key) answered, missing keys as empty series
    assert [len(body["run_ids"]) * len(body["keys"]) for body in sent] == [1000, 20]
    assert all(body["points"] == 100 and body["min_step"] == 0 for body in sent)

    sent.clear()
    many_keys = ["loss"] + [f"k{i}" for i in range(249)]
    loss = page.evaluate(
        f"""async ([runId, keys]) => {{ {IMPORT_CHARTS}
        const found = await charts.fetchHistories([runId], keys);
        return found.get(runId).get('loss').steps.length; }}""",
        [run_id, many_keys],
    )
    assert loss == 30
    assert [len(body["keys"]) for body in sent] == [200, 50]


def test_smoothing_is_debiased_and_skips_non_finite_values(ui_server: UiServer, page: Any) -> None:
    run_id = log_curves(ui_server, "run-page-smoothing", {"loss": 3})
    open_run(page, ui_server, run_id)
    smoothed = page.evaluate(
        f"""async () => {{ {IMPORT_CHARTS}
        return [charts.smooth([5, 5, 5], 0.9), charts.smooth([1, NaN, 3], 0.5), charts.smooth([1, 2], 0)]; }}"""
    )
    constant, gap, untouched = smoothed
    assert all(abs(value - 5) < 1e-9 for value in constant)  # debiased: no pull towards 0 at the start
    assert gap[0] == 1 and math.isnan(gap[1]) and abs(gap[2] - (0.5 * 0.5 + 0.5 * 3) / (1 - 0.25)) < 1e-12
    assert untouched == [1, 2]


def test_a_run_without_metrics_shows_how_to_log_one(ui_server: UiServer, page: Any) -> None:
    run = ridgeline.start_run(project="run-page-empty", tracking_uri=ui_server.url)
    run.finish()
    open_run(page, ui_server, run.id)
    empty = page.locator("#no-metrics")
    assert empty.is_visible()
    assert "run.log_metric" in empty.inner_text() and run.id in empty.inner_text()
    assert page.locator("#chart-controls").is_hidden()


def test_name_notes_and_tags_edits_persist(ui_server: UiServer, page: Any) -> None:
    run_id = log_curves(ui_server, "run-page-edits", {"loss": 5}, name="before", tags={"stage": "draft", "gone": "x"})
    open_run(page, ui_server, run_id)

    page.get_by_role("button", name="Rename").click()
    page.locator("#name-input").fill("after")
    page.locator("#rename-form").get_by_role("button", name="Save").click()
    page.locator("h1#run-name", has_text="after").wait_for()
    assert page.locator(".crumbs [aria-current='page']").inner_text() == "after"
    assert page.title().startswith("after")

    page.locator("#notes").fill("lr too high\nretry with 1e-4")
    page.get_by_role("button", name="Save notes").click()
    page.locator("#notes-status", has_text="Saved").wait_for()

    page.locator("#tag-key").fill("owner")
    page.locator("#tag-value").fill("ana")
    page.get_by_role("button", name="Set tag").click()
    page.locator("#tags-table tr[data-key='owner']").wait_for()
    assert page.locator("#tag-key").input_value() == ""

    row = page.locator("#tags-table tr[data-key='stage']")
    row.get_by_role("button", name="Edit").click()
    row.locator("input").fill("final")
    row.get_by_role("button", name="Save").click()
    page.locator("#tags-table tr[data-key='stage'] .value", has_text="final").wait_for()

    page.locator("#tags-table tr[data-key='gone']").get_by_role("button", name="Delete").click()
    page.locator("#tags-table tr[data-key='gone']").wait_for(state="detached")

    record = read_run(ui_server, run_id)
    assert record.name == "after"
    assert record.notes == "lr too high\nretry with 1e-4"
    user_tags = {key: value for key, value in record.tags.items() if not key.startswith("ridgeline.")}
    assert user_tags == {"stage": "final", "owner": "ana"}

    page.reload()
    wait_ready(page)
    assert page.locator("#notes").input_value() == "lr too high\nretry with 1e-4"
    assert page.locator("#tags-table tbody tr").evaluate_all("(rows) => rows.map((r) => r.dataset.key)") == [
        "owner",
        "stage",
    ]


def test_bad_edits_show_the_api_error_and_keep_the_text(ui_server: UiServer, page: Any, console: Any) -> None:
    run_id = log_curves(ui_server, "run-page-bad-edits", {"loss": 5}, name="keeps-name")
    open_run(page, ui_server, run_id)

    page.locator("#tag-value").fill("typed value")
    page.get_by_role("button", name="Set tag").click()
    error = page.locator("#tag-error")
    error.wait_for()
    assert "must not be empty" in error.inner_text()
    assert page.locator("#tag-value").input_value() == "typed value"
    assert page.locator("#tags-table tbody tr").count() == 0

    too_long = "n" * 300
    page.get_by_role("button", name="Rename").click()
    page.locator("#name-input").fill(too_long)
    page.locator("#rename-form").get_by_role("button", name="Save").click()
    page.locator("#name-error").wait_for()
    assert "the limit is 250" in page.locator("#name-error").inner_text()
    assert page.locator("#name-input").input_value() == too_long
    assert page.locator("h1#run-name").inner_text() == "keeps-name"

    page.locator("#notes").fill("x" * 100_001)
    page.get_by_role("button", name="Save notes").click()
    page.locator("#notes-status", has_text="limit").wait_for()
    assert len(page.locator("#notes").input_value()) == 100_001

    assert read_run(ui_server, run_id).name == "keeps-name"
    # Chromium logs each refused request (the three 400s above); those, and only those, were expected.
    refused = [text for text in console.errors if "status of 400" in text]
    assert len(refused) == 3
    console.errors[:] = [text for text in console.errors if text not in refused]


def test_user_text_is_shown_as_text(ui_server: UiServer, page: Any) -> None:
    script = "<script>alert(1)</script>"
    image = "<img src=x onerror=alert(2)>"
    run_id = log_curves(ui_server, "run-page-escaping", {"loss": 5}, name=script, tags={"html": image})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_run(page, ui_server, run_id)

    assert page.locator("h1#run-name").inner_text() == script
    assert page.locator("#tags-table tr[data-key='html'] .value").inner_text() == image
    # A tag set and a name changed from the page take the same path into the DOM (textContent).
    page.locator("#tag-key").fill("added")
    page.locator("#tag-value").fill(image)
    page.get_by_role("button", name="Set tag").click()
    page.locator("#tags-table tr[data-key='added']").wait_for()
    assert page.locator("#tags-table tr[data-key='added'] .value").inner_text() == image
    page.get_by_role("button", name="Rename").click()
    page.locator("#name-input").fill(image)
    page.locator("#rename-form").get_by_role("button", name="Save").click()
    page.locator("h1#run-name", has_text="onerror").wait_for()

    assert page.locator("main img, main script, .crumbs img, .crumbs script").count() == 0
    assert page.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
    assert dialogs == []


def test_an_unknown_run_is_the_404_page(ui_server: UiServer, page: Any, console: Any) -> None:
    response = page.goto(ui_server.page_url(f"/runs/{'0' * 32}"))
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Nothing here"
    assert "0" * 32 in page.locator(".lead").inner_text()
    # Chromium logs the document's own 404; nothing else may be logged.
    assert console.errors == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
    console.errors.clear()


def test_the_charts_come_from_one_preloaded_request(ui_server: UiServer, page: Any) -> None:
    """The page asks for every history while its scripts load; the script then uses that very response."""
    with ridgeline.start_run(project="preload", tracking_uri=ui_server.url) as run:
        for step in range(30):
            run.log_metrics({"a": step, "b": -step, "c": step / 2}, step=step)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url) if "/api/v1/" in request.url else None)
    page.goto(ui_server.page_url(f"/runs/{run.id}"))
    wait_ready(page)
    assert requests == [f"{ui_server.url}/api/v1/runs/{run.id}/metrics/histories?points=1000"]
    assert {key: len(chart["traces"][0]["x"]) for key, chart in charts(page).items()} == {"a": 30, "b": 30, "c": 30}
