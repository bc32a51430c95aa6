"""The runs table ("/projects/{id}") in a real browser, the view: columns, sorting, filtering, grouping, paging,
and the URL that holds them, checked against what ``ridgeline.Client`` reads.

These tests only read the shared project of 240 runs (``runs_table``); the odd one that needs other keys logs
a project of its own.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

import ridgeline
from ridgeline import RunRecord
from support.browser import UiServer, navigate, open_page, wait_ready
from support.runs_table import (
    DASH,
    MODELS,
    RUN_COUNT,
    ConsoleLog,
    Table,
    apply_filter,
    column,
    group_rows,
    header_fields,
    page_summary,
    project_id_of,
    row_ids,
    span,
    url_query,
)

FIXED_FIELDS = ["attributes.name", "attributes.status", "attributes.start_time", "attributes.user"]


# columns ----------------------------------------------------------------------------------------------------


def test_default_columns_and_first_page(runs_server: UiServer, page: Any, runs_table: Table) -> None:
    open_page(page, runs_server, runs_table.path)
    assert page.locator("h1").inner_text() == runs_table.name
    # Metrics then params, each in key order; no tags until asked for.
    metrics = ["metrics.accuracy", "metrics.loss", "metrics.val/loss"]
    params = ["params.`batch size`", "params.lr", "params.model"]
    assert header_fields(page) == FIXED_FIELDS + metrics + params
    assert page.locator("#runs thead th").nth(4).inner_text().strip() == "Duration"
    # Newest first, 100 to a page.
    assert row_ids(page) == [run.id for run in runs_table.runs[:100]]
    assert page_summary(page) == span(1, 100, RUN_COUNT)
    assert page.locator("nav.pager").get_by_text("Page 1 of 3").count() == 1
    started = page.locator("#runs thead th", has=page.locator('a[title="Sort by attributes.start_time"]'))
    assert started.get_attribute("aria-sort") == "descending"
    # Cells hold the runs' values: four significant digits shown, the exact value in the title, right-aligned.
    accuracy = column(page, "metrics.accuracy")
    for run, cell in zip(runs_table.runs[:100], accuracy, strict=True):
        assert float(cell["title"]) == run.metrics["accuracy"]
        assert cell["text"] == f"{run.metrics['accuracy']:.4g}"
        assert cell["align"] == "right" and "num" in cell["cls"].split()
    models = column(page, "params.model")
    assert [cell["text"] for cell in models] == [run.params.get("model", "") for run in runs_table.runs[:100]]
    names = page.locator("#runs tbody td.name a").all_inner_texts()
    assert names == [run.name for run in runs_table.runs[:100]]


def test_default_columns_are_capped_per_kind(runs_server: UiServer, page: Any) -> None:
    project = f"wide-{uuid.uuid4().hex[:8]}"
    config = {f"p{index}": index for index in range(8)}
    with ridgeline.start_run(project=project, config=config, tags={"team": "x"}, tracking_uri=runs_server.url) as run:
        run.log_metrics({f"m{index}": float(index) for index in range(8)})
    open_page(page, runs_server, f"/projects/{project_id_of(runs_server, project)}")
    fields = header_fields(page)[len(FIXED_FIELDS) :]
    assert fields == [f"metrics.m{index}" for index in range(6)] + [f"params.p{index}" for index in range(6)]
    # Every key is still offered in the Columns menu.
    boxes = page.locator("#columns-menu input[type=checkbox]")
    assert boxes.count() == 8 + 8 + 1
    assert page.locator("#columns-menu summary").inner_text() == "Columns (12)"


def test_choosing_columns_through_the_menu(runs_server: UiServer, page: Any, runs_table: Table) -> None:
    open_page(page, runs_server, runs_table.path)
    page.locator("#columns-menu summary").click()
    menu = page.locator("#columns-menu .menu-body")
    assert menu.is_visible()
    menu.locator('input[value="metrics.loss"]').uncheck()
    menu.locator('input[value="params.lr"]').uncheck()
    menu.locator('input[value="tags.team"]').check()
    navigate(page, lambda: menu.get_by_role("button", name="Show columns").click())
    chosen = ["metrics.accuracy", "metrics.val/loss", "params.batch size", "params.model", "tags.team"]
    assert url_query(page)["col"] == chosen
    shown = ["metrics.accuracy", "metrics.val/loss", "params.`batch size`", "params.model", "tags.team"]
    assert header_fields(page) == FIXED_FIELDS + shown
    assert page.locator("#columns-menu summary").inner_text() == "Columns (5)"
    teams = [cell["text"] for cell in column(page, "tags.team")]
    assert teams == [run.tags["team"] for run in runs_table.runs[:100]]
    sizes = column(page, "params.`batch size`")
    assert [cell["title"] for cell in sizes] == [run.params["batch size"] for run in runs_table.runs[:100]]
    # The menu shows the choice it made.
    page.locator("#columns-menu summary").click()
    checked = page.locator("#columns-menu input:checked").evaluate_all("boxes => boxes.map(box => box.value)")
    assert checked == chosen
    # Choosing keeps the rest of the view (here a sort) and starts again from the first page.
    open_page(page, runs_server, f"{runs_table.path}?order=metrics.accuracy+ASC&page=2")
    page.locator("#columns-menu summary").click()
    page.locator('#columns-menu input[value="tags.team"]').check()
    navigate(page, lambda: page.locator("#columns-menu").get_by_role("button", name="Show columns").click())
    assert url_query(page)["order"] == ["metrics.accuracy ASC"]
    assert "page" not in url_query(page)
    assert "tags.team" in header_fields(page)


# sorting ----------------------------------------------------------------------------------------------------


def test_sorting_by_clicking_headers(runs_server: UiServer, page: Any, runs_table: Table, runs_reader: Any) -> None:
    by_id = runs_table.by_id
    open_page(page, runs_server, f"{runs_table.path}?page=2")

    def sort_by(field: str) -> list[str]:
        navigate(page, lambda: page.locator(f'#runs thead a[title="Sort by {field}"]').click())
        return row_ids(page)

    def header(field: str) -> Any:
        return page.locator("#runs thead th", has=page.locator(f'a[title="Sort by {field}"]'))

    # First click: descending, from the first page.
    shown = sort_by("metrics.accuracy")
    assert url_query(page)["order"] == ["metrics.accuracy DESC"]
    assert "page" not in url_query(page)
    assert shown == [run.id for run in runs_reader.search_runs(runs_table.name, order_by="metrics.accuracy DESC").runs]
    values = [by_id[run_id].metrics["accuracy"] for run_id in shown]
    assert values == sorted((run.metrics["accuracy"] for run in runs_table.runs), reverse=True)[:100]
    assert header("metrics.accuracy").get_attribute("aria-sort") == "descending"
    assert "\u25bc" in header("metrics.accuracy").inner_text()
    assert header("attributes.start_time").get_attribute("aria-sort") is None
    # Second click: ascending.
    shown = sort_by("metrics.accuracy")
    assert url_query(page)["order"] == ["metrics.accuracy ASC"]
    values = [by_id[run_id].metrics["accuracy"] for run_id in shown]
    assert values == sorted(run.metrics["accuracy"] for run in runs_table.runs)[:100]
    assert header("metrics.accuracy").get_attribute("aria-sort") == "ascending"
    assert "\u25b2" in header("metrics.accuracy").inner_text()
    # A param whose key needs quoting sorts by number; names sort as text.
    shown = sort_by("params.`batch size`")
    assert shown == [
        run.id for run in runs_reader.search_runs(runs_table.name, order_by="params.`batch size` DESC").runs
    ]
    sizes = [int(by_id[run_id].params["batch size"]) for run_id in shown]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 128
    shown = sort_by("attributes.name")
    assert [by_id[run_id].name for run_id in shown] == sorted((run.name for run in runs_table.runs), reverse=True)[:100]


# filtering --------------------------------------------------------------------------------------------------


def test_filter_shows_exactly_the_matching_runs(
    runs_server: UiServer, page: Any, runs_table: Table, runs_reader: Any
) -> None:
    open_page(page, runs_server, f"{runs_table.path}?limit=250")
    cases: list[tuple[str, Callable[[RunRecord], bool]]] = [
        (
            "metrics.accuracy > 0.5 and params.model = 'rf'",
            lambda run: run.metrics["accuracy"] > 0.5 and run.params.get("model") == "rf",
        ),
        (
            "params.`batch size` >= 64 or tags.team = 'nlp'",
            lambda run: int(run.params["batch size"]) >= 64 or run.tags["team"] == "nlp",
        ),
        (
            "metrics.val/loss < 0.2 and params.lr in ('0.001', '0.002')",
            lambda run: run.metrics["val/loss"] < 0.2 and run.params["lr"] in ("0.001", "0.002"),
        ),
    ]
    for text, matches in cases:
        apply_filter(page, text)
        expected = [run.id for run in runs_reader.search_runs(runs_table.name, filter=text, limit=1000).runs]
        assert expected == [run.id for run in runs_table.runs if matches(run)], text
        assert row_ids(page) == expected, text
        assert page_summary(page) == span(1, len(expected), len(expected)), text
        assert page.input_value("#filter") == text
        assert url_query(page)["filter"] == [text]
        assert url_query(page)["limit"] == ["250"], "the filter form keeps the rest of the view"
    # A filter nothing matches says so; Clear brings every run back.
    apply_filter(page, "metrics.accuracy > 2")
    assert row_ids(page) == []
    assert page.locator("#runs tbody td.empty").inner_text() == "No run matches this filter."
    assert page_summary(page) == "0 runs"
    navigate(page, lambda: page.get_by_role("link", name="Clear").click())
    assert page.input_value("#filter") == ""
    assert page_summary(page) == span(1, RUN_COUNT, RUN_COUNT)


def test_bad_filter_points_at_the_fault(runs_server: UiServer, page: Any, runs_table: Table) -> None:
    open_page(page, runs_server, runs_table.path)
    with httpx.Client(base_url=f"{runs_server.url}/api/v1") as http:
        for text in ["metrics.accuracy >> 0.5 and params.model = 'rf'", "params.model = 'rf' and (", "colour = 1"]:
            apply_filter(page, text)
            # The same message and position the API gives for that filter.
            expected = http.post("/runs/count", json={"projects": [runs_table.name], "filter": text}).json()["error"]
            position = expected["details"]["position"]
            box = page.locator("#filter-error")
            assert box.get_attribute("role") == "alert"
            assert box.locator("p").inner_text() == expected["message"]
            shown, caret = box.locator("pre.caret").inner_text().split("\n")[:2]
            assert shown == text
            assert caret == " " * position + "^", (text, position)
            # The typed filter is still there to fix, and marked invalid.
            assert page.input_value("#filter") == text
            assert page.locator("#filter").get_attribute("aria-invalid") == "true"
            assert row_ids(page) == []
    # A bad sort in a link is shown the same way, under the sort text.
    open_page(page, runs_server, f"{runs_table.path}?order=metrics.accuracy+sideways")
    shown, caret = page.locator("#filter-error pre.caret").inner_text().split("\n")[:2]
    assert shown == "metrics.accuracy sideways"
    assert caret == " " * len("metrics.accuracy ") + "^"
    # Fixing the filter clears the error.
    open_page(page, runs_server, runs_table.path)
    apply_filter(page, "params.model = ")
    assert page.locator("#filter-error").count() == 1
    apply_filter(page, "params.model = 'rf'")
    assert page.locator("#filter-error").count() == 0
    assert page.locator("#filter").get_attribute("aria-invalid") is None
    assert len(row_ids(page)) == sum(1 for run in runs_table.runs if run.params.get("model") == "rf")


def test_misspelled_keys_get_suggestions(runs_server: UiServer, page: Any, runs_table: Table) -> None:
    open_page(page, runs_server, runs_table.path)
    cases = [
        ("metrics.acuracy > 0.5", "No run in this view has metric 'acuracy'. Did you mean metrics.accuracy?"),
        ("params.modle = 'rf'", "No run in this view has param 'modle'. Did you mean params.model?"),
        ("params.`batch siz` = 32", "No run in this view has param 'batch siz'. Did you mean params.`batch size`?"),
        ("tags.zzzzzz = 'x'", "No run in this view has tag 'zzzzzz'."),
    ]
    for text, note in cases:
        apply_filter(page, text)
        assert page.locator(".warning-box").all_inner_texts() == [note], text
        assert page.locator("#filter-error").count() == 0
        assert row_ids(page) == []
    # Keys that exist raise no note.
    apply_filter(page, "metrics.accuracy > 0.5 and params.`batch size` = 32")
    assert page.locator(".warning-box").count() == 0


def test_filter_box_offers_the_project_keys(runs_server: UiServer, page: Any, runs_table: Table) -> None:
    open_page(page, runs_server, runs_table.path)
    page.locator("#filter").press_sequentially("batch")
    options = page.locator("#filter-suggestions [role=option]")
    assert options.all_inner_texts() == ["params.`batch size`"]
    page.keyboard.press("Enter")
    assert page.input_value("#filter") == "params.`batch size` "
    assert page.locator("#filter-suggestions").is_hidden()
    page.locator("#filter").press_sequentially("= 32")
    navigate(page, lambda: page.get_by_role("button", name="Apply").click())
    assert len(row_ids(page)) == sum(1 for run in runs_table.runs if run.params["batch size"] == "32")


# grouping ---------------------------------------------------------------------------------------------------


def test_grouping_by_a_param_or_tag(runs_server: UiServer, page: Any, runs_table: Table) -> None:
    by_id = runs_table.by_id
    open_page(page, runs_server, f"{runs_table.path}?limit=250")
    navigate(page, lambda: page.select_option("#group", "params.model"))
    assert url_query(page)["group"] == ["params.model"]
    counts = Counter(run.params.get("model") for run in runs_table.runs)
    expected = [f"params.model = {model} {counts[model]} runs" for model in sorted(MODELS)]
    expected.append(f"params.model = not set {counts[None]} runs")
    assert group_rows(page) == expected
    # Under each header, exactly that group's runs.
    rows: list[list[str]] = page.locator("#runs tbody tr").evaluate_all(
        "rows => rows.map(r => r.classList.contains('group-row') ? ['group', r.innerText] : ['run', r.dataset.runId])"
    )
    current: str | None = "?"
    seen: Counter[str | None] = Counter()
    for kind, value in rows:
        if kind == "group":
            label = " ".join(value.split()).removeprefix("params.model = ").rsplit(" ", 2)[0]
            current = None if label == "not set" else label
        else:
            assert by_id[value].params.get("model") == current, value
            seen[current] += 1
    assert seen == counts
    # On a smaller page the headers still count the whole group.
    navigate(page, lambda: page.select_option("#limit", "50"))
    assert group_rows(page) == [expected[0]]
    assert page_summary(page) == span(1, 50, RUN_COUNT)
    # Grouping by a tag, with a filter.
    apply_filter(page, "metrics.accuracy > 0.5")
    navigate(page, lambda: page.select_option("#group", "tags.team"))
    matching = [run for run in runs_table.runs if run.metrics["accuracy"] > 0.5]
    teams = Counter(run.tags["team"] for run in matching)
    assert group_rows(page)[0] == f"tags.team = nlp {teams['nlp']} runs"
    navigate(page, lambda: page.select_option("#limit", "250"))
    assert group_rows(page) == [f"tags.team = {team} {teams[team]} runs" for team in ("nlp", "vision")]
    # "nothing" ends the grouping.
    navigate(page, lambda: page.select_option("#group", ""))
    assert group_rows(page) == []
    assert "group" not in url_query(page)


def test_grouping_by_a_key_with_a_space(runs_server: UiServer, page: Any, runs_table: Table) -> None:
    open_page(page, runs_server, f"{runs_table.path}?limit=250")
    navigate(page, lambda: page.select_option("#group", "params.batch size"))
    assert page.locator("#filter-error").count() == 0
    counts = Counter(run.params["batch size"] for run in runs_table.runs)
    sizes = ("16", "32", "64", "128")  # numeric values sort as numbers
    assert group_rows(page) == [f"params.batch size = {size} {counts[size]} runs" for size in sizes]


def test_sorting_by_the_grouped_column_orders_the_groups(runs_server: UiServer, page: Any, runs_table: Table) -> None:
    open_page(page, runs_server, f"{runs_table.path}?limit=250&group=params.model")
    navigate(page, lambda: page.locator('#runs thead a[title="Sort by params.model"]').click())
    header = page.locator("#runs thead th", has=page.locator('a[title="Sort by params.model"]'))
    assert header.get_attribute("aria-sort") == "descending"
    labels = [row.split(" = ")[1].rsplit(" ", 2)[0] for row in group_rows(page)]
    assert labels == ["sgd", "rf", "mlp", "not set"]


# paging -----------------------------------------------------------------------------------------------------


def test_paging_through_runs(runs_server: UiServer, page: Any, runs_table: Table) -> None:
    every = [run.id for run in runs_table.runs]
    open_page(page, runs_server, runs_table.path)
    pager = page.locator("nav.pager")

    def go(rel: str) -> None:
        navigate(page, lambda: pager.locator(f"a[rel={rel}]").click())

    assert pager.locator("a[rel=prev]").count() == 0 and pager.locator("a[rel=first]").count() == 0
    go("next")
    assert row_ids(page) == every[100:200]
    assert page_summary(page) == span(101, 200, RUN_COUNT)
    assert url_query(page)["page"] == ["2"]
    go("last")
    assert row_ids(page) == every[200:]
    assert page_summary(page) == span(201, RUN_COUNT, RUN_COUNT)
    assert pager.get_by_text("Page 3 of 3").count() == 1
    assert pager.locator("a[rel=next]").count() == 0 and pager.locator("a[rel=last]").count() == 0
    go("prev")
    assert row_ids(page) == every[100:200]
    go("first")
    assert row_ids(page) == every[:100]
    assert "page" not in url_query(page)
    # Rows per page: back to the first page, at the new size.
    go("next")
    navigate(page, lambda: page.select_option("#limit", "50"))
    assert url_query(page)["limit"] == ["50"] and "page" not in url_query(page)
    assert row_ids(page) == every[:50]
    assert page_summary(page) == span(1, 50, RUN_COUNT)
    assert pager.get_by_text("Page 1 of 5").count() == 1
    go("next")
    assert row_ids(page) == every[50:100]
    go("last")
    assert row_ids(page) == every[200:]
    assert page_summary(page) == span(201, RUN_COUNT, RUN_COUNT)
    navigate(page, lambda: page.select_option("#limit", "250"))
    assert row_ids(page) == every
    assert pager.locator("a").count() == 0


def test_a_page_past_the_end_reads_sensibly(runs_server: UiServer, page: Any, runs_table: Table) -> None:
    open_page(page, runs_server, f"{runs_table.path}?page=9&limit=50")
    summary = page_summary(page)
    numbers = [int(number) for number in re.findall(r"\d+", summary.replace(",", ""))]
    assert len(numbers) < 3 or numbers[0] <= numbers[1], summary
    assert page.locator("nav.pager").get_by_text("Page 9 of 5").count() == 0


# the URL ----------------------------------------------------------------------------------------------------


def test_every_view_state_round_trips_through_the_url(
    runs_server: UiServer, page: Any, runs_table: Table, console: ConsoleLog
) -> None:
    open_page(page, runs_server, runs_table.path)
    navigate(page, lambda: page.select_option("#limit", "25"))
    apply_filter(page, "params.model != 'sgd' and metrics.accuracy > 0.2")
    navigate(page, lambda: page.locator('#runs thead a[title="Sort by metrics.loss"]').click())
    page.locator("#columns-menu summary").click()
    page.locator('#columns-menu input[value="tags.team"]').check()
    page.locator('#columns-menu input[value="params.lr"]').uncheck()
    navigate(page, lambda: page.locator("#columns-menu").get_by_role("button", name="Show columns").click())
    navigate(page, lambda: page.select_option("#group", "tags.team"))
    navigate(page, lambda: page.locator("nav.pager a[rel=next]").click())
    query = url_query(page)
    assert query["limit"] == ["25"] and query["page"] == ["2"] and query["group"] == ["tags.team"]
    assert query["filter"] == ["params.model != 'sgd' and metrics.accuracy > 0.2"]
    assert query["order"] == ["metrics.loss DESC"]
    assert "tags.team" in query["col"] and "params.lr" not in query["col"]

    def state(tab: Any) -> dict[str, Any]:
        return {
            "rows": row_ids(tab),
            "headers": header_fields(tab),
            "groups": group_rows(tab),
            "summary": page_summary(tab),
            "filter": tab.input_value("#filter"),
            "group": tab.input_value("#group"),
            "limit": tab.input_value("#limit"),
            "sorted": tab.locator("#runs thead th[aria-sort]").evaluate_all(
                "ths => ths.map(th => [th.querySelector('a').title, th.getAttribute('aria-sort')])"
            ),
        }

    before = state(page)
    assert len(before["rows"]) == 25 and before["summary"].startswith(f"26{DASH}50 of ")
    assert before["sorted"] == [["Sort by metrics.loss", "descending"]]
    # The same link in a fresh tab shows the same view.
    other = page.context.new_page()
    other.on("console", lambda message: console.errors.append(message.text) if message.type == "error" else None)
    other.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    response = other.goto(page.url)
    assert response is not None and response.status == 200
    wait_ready(other)
    assert state(other) == before
    other.close()
