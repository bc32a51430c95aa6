"""The compare page in a real browser: runs chosen in the runs table, overlaid charts, the difference table,
parallel coordinates, the scatter, user text kept as text, and the error pages for bad run lists."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

import ridgeline
from support.browser import UiServer, wait_ready


@dataclass
class Spec:
    name: str
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Logged:
    project_id: str
    ids: list[str]
    names: list[str]

    def compare_path(self, query: str = "") -> str:
        return f"/compare?runs={','.join(self.ids)}{query}"


def log_runs(server: UiServer, specs: Sequence[Spec]) -> Logged:
    project = f"compare-{uuid.uuid4().hex[:10]}"
    ids = []
    for spec in specs:
        with ridgeline.start_run(project=project, name=spec.name, config=spec.config, tracking_uri=server.url) as run:
            for key, values in spec.metrics.items():
                for step, value in enumerate(values):
                    run.log_metric(key, value, step=step)
            if spec.tags:
                run.set_tags(spec.tags)
            ids.append(run.id)
    with ridgeline.Client(tracking_uri=server.url) as client:
        return Logged(client.get_run(ids[0]).project_id, ids, [spec.name for spec in specs])


def open_compare(page: Any, server: UiServer, logged: Logged, query: str = "") -> None:
    page.goto(server.page_url(logged.compare_path(query)))
    wait_ready(page)


def query_of(page: Any) -> Mapping[str, list[str]]:
    return parse_qs(urlparse(page.url).query, keep_blank_values=True)


def rgb(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


THREE_RUNS = [
    Spec("alpha", {"lr": 0.1, "model": "rf", "epochs": 10}, {"loss": [1.0 - i / 100 for i in range(50)], "acc": [0.5]}),
    Spec("beta", {"lr": 0.2, "model": "xgb", "epochs": 10}, {"loss": [0.9 - i / 100 for i in range(50)], "acc": [0.7]}),
    Spec("gamma", {"lr": 0.3, "model": "mlp", "epochs": 10}, {"loss": [0.8 - i / 100 for i in range(30)]}),
]


def test_selecting_runs_in_the_runs_table_opens_their_comparison(ui_server: UiServer, page: Any) -> None:
    logged = log_runs(ui_server, THREE_RUNS)
    page.goto(ui_server.page_url(f"/projects/{logged.project_id}"))
    wait_ready(page)
    chosen = [logged.ids[0], logged.ids[2]]
    for run_id in chosen:
        page.check(f'#runs-form input[name="runs"][value="{run_id}"]')
    page.locator('#runs-form button[type="submit"]', has_text="Compare").click()
    page.wait_for_url(re.compile(r"/compare\?"))
    wait_ready(page)

    assert page.locator("h1").inner_text() == "Compare 2 runs"
    shown = page.eval_on_selector_all("#legend li", "items => items.map((item) => item.dataset.runId)")
    assert sorted(shown) == sorted(chosen)
    names = page.locator("#legend .run-name").all_inner_texts()
    assert sorted(names) == ["alpha", "gamma"]


def test_charts_overlay_one_trace_per_run_in_the_legend_colours_from_one_request(
    ui_server: UiServer, page: Any
) -> None:
    logged = log_runs(ui_server, THREE_RUNS)
    histories_requests: list[str] = []
    page.on("request", lambda request: histories_requests.append(request.url) if "/histories" in request.url else None)
    open_compare(page, ui_server, logged)

    assert histories_requests == [f"{ui_server.url}/api/v1/runs/histories"]
    assert page.eval_on_selector_all("#charts .chart-card", "cards => cards.map((card) => card.dataset.key)") == [
        "acc",
        "loss",
    ]
    traces = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#charts .chart-card')].map((card) => [
            card.dataset.key,
            card.querySelector('.chart').data.map((trace) => ({name: trace.name, points: trace.x.length,
                                                               type: trace.type,
                                                               colour: (trace.line ?? trace.marker).color})),
        ]))"""
    )
    assert [(t["name"], t["points"]) for t in traces["loss"]] == [("alpha", 50), ("beta", 50), ("gamma", 30)]
    # A metric logged once is a bar per run (a final score), not a lone dot.
    assert [(t["name"], t["points"], t["type"]) for t in traces["acc"]] == [("alpha", 1, "bar"), ("beta", 1, "bar")]
    assert {t["type"] for t in traces["loss"]} == {"scatter"}
    swatches = page.eval_on_selector_all("#legend .swatch", "items => items.map((s) => s.style.backgroundColor)")
    assert [rgb(t["colour"]) for t in traces["loss"]] == swatches

    # The run page's controls, kept in the URL: a reload draws the same view.
    page.click("#chart-controls label:has(input[value=relative])")
    page.check("#log-y")
    page.wait_for_function("() => document.querySelector('#charts .chart').layout.yaxis.type === 'log'")
    assert query_of(page)["x"] == ["relative"]
    assert query_of(page)["log"] == ["1"]
    page.reload()
    wait_ready(page)
    assert page.is_checked("#chart-controls input[value=relative]")
    layout = page.evaluate("document.querySelector('#charts .chart-card[data-key=loss] .chart').layout")
    assert layout["yaxis"]["type"] == "log"
    assert layout["xaxis"]["title"]["text"] == "seconds since start"


def test_zooming_a_chart_fetches_every_point_of_the_range_for_each_run(ui_server: UiServer, page: Any) -> None:
    curve = [1 / (step + 1) for step in range(3000)]
    logged = log_runs(ui_server, [Spec("long-a", metrics={"loss": curve}), Spec("long-b", metrics={"loss": curve})])
    open_compare(page, ui_server, logged)
    steps_in_range = """() => document.querySelector('#charts .chart').data.map(
        (trace) => trace.x.filter((step) => step >= 1000 && step <= 1100).length)"""
    assert all(count < 101 for count in page.evaluate(steps_in_range))  # the overview is downsampled

    page.evaluate("Plotly.relayout(document.querySelector('#charts .chart'), {'xaxis.range': [1000, 1100]})")
    page.wait_for_function(f"() => ({steps_in_range})().every((count) => count === 101)")


def test_difference_table_marks_exactly_the_differing_rows_and_can_hide_the_rest(
    ui_server: UiServer, page: Any
) -> None:
    logged = log_runs(
        ui_server,
        [
            Spec("one", {"lr": "0.1", "epochs": 10, "seed": 1}, {"loss": [0.5]}, {"team": "a"}),
            Spec("two", {"lr": "0.10", "epochs": 20}, {"loss": [0.5]}, {"team": "a"}),
        ],
    )
    open_compare(page, ui_server, logged)
    rows = "#differences tbody tr:not(.group-row)"
    differing = page.eval_on_selector_all(f"{rows}.differs", "rows => rows.map((row) => row.dataset.key)")
    # "0.1" and "0.10" are the same number; a param one run lacks differs.
    assert differing == ["params.epochs", "params.seed"]
    assert page.locator("#differences-count").inner_text() == "2 of 5 rows differ"
    numbers = page.eval_on_selector_all(
        '#differences tr[data-key="params.epochs"] td', "cells => cells.map((c) => [c.className, c.textContent])"
    )
    assert numbers == [["num", "10"], ["num", "20"]]

    page.check("#only-differences")
    visible = page.eval_on_selector_all(rows, "rows => rows.filter((r) => r.offsetParent).map((r) => r.dataset.key)")
    assert visible == ["params.epochs", "params.seed"]
    assert query_of(page)["diff"] == ["1"]
    page.reload()
    wait_ready(page)
    assert page.is_checked("#only-differences")
    assert page.locator(f"{rows}:visible").count() == 2


def parcoords_axes(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#parcoords .pc-axis", "axes => axes.map((a) => a.dataset.dimension)"))


def test_parallel_coordinates_draw_one_line_per_run_over_the_chosen_dimensions(ui_server: UiServer, page: Any) -> None:
    logged = log_runs(ui_server, THREE_RUNS)
    open_compare(page, ui_server, logged)

    # Default: the params that vary and the metrics (epochs is equal everywhere).
    assert parcoords_axes(page) == ["params.lr", "params.model", "metrics.acc", "metrics.loss"]
    assert page.locator("#parcoords .pc-line").count() == 3
    ticks = page.eval_on_selector_all(
        "#parcoords .pc-ticks", "groups => groups.map((g) => [...g.querySelectorAll('text')].map((t) => t.textContent))"
    )
    assert ticks[0] == ["0.1", "0.3"]  # numeric: min and max
    assert ticks[1] == ["mlp", "rf", "xgb"]  # categorical: every category, in order
    # Higher lr sits higher on the lr axis (smaller y); a run without "acc" leaves a gap (two strokes).
    paths = page.eval_on_selector_all("#parcoords .pc-line", "lines => lines.map((l) => l.getAttribute('d'))")
    lr_heights = [float(re.findall(r"[ML][\d.]+,([\d.]+)", d)[0]) for d in paths]
    assert lr_heights == sorted(lr_heights, reverse=True)
    assert [d.count("M") for d in paths] == [1, 1, 2]

    # Focusing a line names its run and marks it in the legend.
    page.focus(f'#parcoords .pc-run[data-run-id="{logged.ids[1]}"]')
    assert page.locator("#parcoords-caption").inner_text().startswith("beta · lr 0.2 · model xgb")
    assert page.eval_on_selector_all("#legend li.active", "items => items.map((i) => i.dataset.runId)") == [
        logged.ids[1]
    ]

    page.click("#dimensions-menu summary")
    page.uncheck('#dimensions input[value="params.model"]')
    page.check('#dimensions input[value="params.epochs"]')
    assert parcoords_axes(page) == ["params.epochs", "params.lr", "metrics.acc", "metrics.loss"]
    assert page.locator("#dimensions-count").inner_text() == "4"
    assert query_of(page)["dim"] == ["params.epochs", "params.lr", "metrics.acc", "metrics.loss"]
    page.reload()
    wait_ready(page)
    assert parcoords_axes(page) == ["params.epochs", "params.lr", "metrics.acc", "metrics.loss"]
    assert page.locator("#parcoords .pc-line").count() == 3


def scatter_points(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => { const plot = document.getElementById('scatter'); const [trace] = plot.data;
                return {x: trace.x, y: trace.y, runs: trace.customdata, xType: plot.layout.xaxis.type}; }"""
        )
    )


def test_scatter_shows_one_point_per_run_and_follows_its_axis_choices(ui_server: UiServer, page: Any) -> None:
    logged = log_runs(ui_server, THREE_RUNS)
    open_compare(page, ui_server, logged)

    # Default: the first param that varies against the first metric; "acc" is missing from gamma.
    points = scatter_points(page)
    assert points == {"x": [0.1, 0.2], "y": [0.5, 0.7], "runs": logged.ids[:2], "xType": "linear"}
    assert page.locator("#scatter-note").inner_text().startswith("1 of 3 runs lack")
    # Plotly's drag layer lies over the markers: move the mouse there rather than "hover" the marker element.
    point = page.locator("#scatter .point").first
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    label = page.locator("#scatter .hoverlayer .hovertext")
    label.wait_for()
    assert label.text_content() == "alphalr: 0.1acc: 0.5"  # three lines: run name, x, y

    page.select_option("#scatter-y", "metrics.loss")
    page.select_option("#scatter-x", "params.model")
    page.wait_for_function("() => document.getElementById('scatter').layout.xaxis.type === 'category'")
    points = scatter_points(page)
    assert points["x"] == ["rf", "xgb", "mlp"]
    assert points["y"] == pytest.approx([0.51, 0.41, 0.51])
    assert points["runs"] == logged.ids
    assert query_of(page)["sx"] == ["params.model"]
    assert query_of(page)["sy"] == ["metrics.loss"]

    page.reload()
    wait_ready(page)
    assert page.input_value("#scatter-x") == "params.model"
    assert scatter_points(page)["x"] == ["rf", "xgb", "mlp"]


def test_user_text_is_shown_as_text(ui_server: UiServer, page: Any) -> None:
    script = "<script>alert(1)</script>"
    image = "<img src=x onerror=alert(2)>"
    logged = log_runs(
        ui_server,
        [
            Spec(script, {"note": image, "lr": 0.1}, {"loss": [1.0, 0.5]}, {"owner": image}),
            Spec("plain", {"note": "ok", "lr": 0.2}, {"loss": [1.0, 0.4]}, {"owner": "me"}),
        ],
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_compare(page, ui_server, logged, "&sx=params.note")

    assert page.locator("#legend .run-name").first.inner_text() == script
    assert page.locator('#differences tr[data-key="params.note"] td').first.inner_text() == image
    assert page.locator('#differences tr[data-key="tags.owner"] td').first.inner_text() == image
    assert page.locator("main script:not([type='application/json']), main img").count() == 0
    assert page.eval_on_selector("#parcoords .pc-run title", "title => title.textContent") == script
    assert page.evaluate("document.getElementById('scatter').data[0].x[0]") == image
    assert dialogs == []


def test_runs_with_nothing_logged_compare_with_empty_states(ui_server: UiServer, page: Any) -> None:
    logged = log_runs(ui_server, [Spec("empty-a"), Spec("empty-b")])
    open_compare(page, ui_server, logged)
    assert page.locator("#legend li").count() == 2
    assert "None of these runs has logged a metric yet" in page.locator("main").inner_text()
    assert "no params, metrics or tags to compare" in page.locator("main").inner_text()
    assert page.locator("#charts, #parcoords, #scatter").count() == 0


def test_wrong_run_lists_give_an_error_page(ui_server: UiServer) -> None:
    logged = log_runs(ui_server, THREE_RUNS[:1])
    unknown = uuid.uuid4().hex
    cases = [
        (f"runs={logged.ids[0]}", 400, "choose between 2 and 50 runs to compare (got 1)"),
        ("runs=" + ",".join(uuid.uuid4().hex for _ in range(51)), 400, "(got 51)"),
        (f"runs={logged.ids[0]}&runs={unknown}", 404, f"run '{unknown}' does not exist"),
        (f"runs={logged.ids[0]},nope", 400, "must be 32 lowercase hex characters"),
    ]
    for query, status, message in cases:
        response = httpx.get(f"{ui_server.url}/compare?{query}", headers={"Accept": "text/html"})
        assert response.status_code == status, query
        assert response.headers["content-type"].startswith("text/html")
        assert message in html.unescape(response.text)
        assert "<h1>" in response.text
