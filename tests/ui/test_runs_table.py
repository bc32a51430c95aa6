"""A project's runs table ("/projects/{id}") in a real browser, checked against what ``ridgeline.Client`` reads.

One project of 240 runs (made through the HTTP API, which is quick) serves the read-only tests: columns,
sorting, filtering, grouping, paging and shared links. Tests that change runs (tags, delete, restore) or need
special names log a few runs of their own through the SDK, each into a project of its own.
"""

from __future__ import annotations

import random
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import ridgeline
from ridgeline import RunRecord
from support.browser import UiServer, wait_ready

T0 = 1_700_000_000_000
RUN_COUNT = 240
MODELS = ("rf", "sgd", "mlp")
FIXED_FIELDS = ["attributes.name", "attributes.status", "attributes.start_time", "attributes.user"]
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
DASH = "\u2013"  # the en dash between the numbers of "1-100 of 240 runs"


class ConsoleLog(Protocol):
    """The ``console`` fixture: the errors the page logged (checked when the test ends)."""

    errors: list[str]


@dataclass
class Table:
    """The shared project: its name and id, and every run as the Client reads it, newest first."""

    name: str
    project_id: str
    runs: list[RunRecord]

    @property
    def by_id(self) -> dict[str, RunRecord]:
        return {run.id: run for run in self.runs}

    @property
    def path(self) -> str:
        return f"/projects/{self.project_id}"


@pytest.fixture(scope="module")
def reader(ui_server: UiServer) -> Iterator[Any]:
    with ridgeline.Client(tracking_uri=ui_server.url) as client:
        yield client


@pytest.fixture(scope="module")
def table(ui_server: UiServer, reader: Any) -> Table:
    """240 runs: model rf/sgd/mlp (missing on every tenth run), lr, "batch size", team; distinct accuracies."""
    name = f"table-{uuid.uuid4().hex[:8]}"
    rng = random.Random(3)
    accuracies = [value / 100_000 for value in rng.sample(range(100_000), RUN_COUNT)]
    with httpx.Client(base_url=f"{ui_server.url}/api/v1", timeout=30) as http:
        for index in range(RUN_COUNT):
            params = {"lr": str((index % 7 + 1) / 1000), "batch size": str(2 ** (4 + index % 4))}
            if index % 10 != 9:
                params["model"] = MODELS[index % 3]
            body = {
                "project": name,
                "name": f"run-{index:03d}",
                "start_time": T0 + 1000 * index,
                "params": params,
                "tags": {"team": ("vision", "nlp")[index % 2]},
            }
            created = http.post("/runs", json=body)
            created.raise_for_status()
            run_id = created.json()["id"]
            accuracy = accuracies[index]
            metrics = {"accuracy": accuracy, "loss": round(1 - accuracy, 6), "val/loss": (index % 13) / 10}
            batch = {
                "batch_id": uuid.uuid4().hex,
                "metrics": [
                    {"key": key, "steps": [0, 1], "values": [0.0, value], "timestamps": [T0, T0 + 1]}
                    for key, value in metrics.items()
                ],
            }
            http.post(f"/runs/{run_id}/batches", json=batch).raise_for_status()
    runs = reader.search_runs(name, limit=1000).runs
    assert len(runs) == RUN_COUNT
    return Table(name, runs[0].project_id, runs)


# helpers ----------------------------------------------------------------------------------------------------


def _navigate(page: Any, action: Callable[[], None]) -> None:
    """Do something that loads a new page, and wait until that page is ready."""
    with page.expect_navigation():
        action()
    wait_ready(page)


def _open(page: Any, server: UiServer, path: str) -> None:
    response = page.goto(server.page_url(path))
    assert response is not None and response.status == 200, path
    wait_ready(page)


def _row_ids(page: Any) -> list[str]:
    ids: list[str] = page.locator("#runs tbody tr[data-run-id]").evaluate_all("rows => rows.map(r => r.dataset.runId)")
    return ids


def _header_fields(page: Any) -> list[str]:
    """The field of every sortable column, left to right (each header links to "Sort by FIELD")."""
    titles: list[str] = page.locator("#runs thead th a[title]").evaluate_all("links => links.map(a => a.title)")
    return [title.removeprefix("Sort by ") for title in titles]


def _column(page: Any, field: str) -> list[dict[str, str]]:
    """The cells of one column: their text, title (the exact value) and class, top to bottom."""
    cells: list[dict[str, str]] = page.evaluate(
        """field => {
          const headers = [...document.querySelectorAll("#runs thead th")];
          const index = headers.findIndex(th => th.querySelector(`a[title="Sort by ${field}"]`));
          if (index < 0) throw new Error(`no column ${field}`);
          return [...document.querySelectorAll("#runs tbody tr[data-run-id]")].map(row => {
            const cell = row.cells[index];
            return {text: cell.innerText.trim(), title: cell.title, cls: cell.className,
                    align: getComputedStyle(cell).textAlign};
          });
        }""",
        field,
    )
    return cells


def _summary(page: Any) -> str:
    text: str = page.locator("#page-summary").inner_text()
    return text


def _span(first: int, last: int, total: int) -> str:
    return f"{first}{DASH}{last} of {total} runs"


def _query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _group_rows(page: Any) -> list[str]:
    texts: list[str] = page.locator("#runs tr.group-row th").all_inner_texts()
    return [" ".join(text.split()) for text in texts]


def _apply_filter(page: Any, text: str) -> None:
    page.fill("#filter", text)
    _navigate(page, lambda: page.get_by_role("button", name="Apply").click())


def _project_id(server: UiServer, name: str) -> str:
    with ridgeline.Client(tracking_uri=server.url) as client:
        return client.get_project(name).id


def _sdk_runs(server: UiServer, project: str, count: int) -> list[str]:
    ids = []
    for index in range(count):
        with ridgeline.start_run(
            project=project, name=f"run-{index}", config={"index": index}, tracking_uri=server.url
        ) as run:
            run.log_metric("loss", 1 / (index + 1))
        ids.append(run.id)
    return ids


# columns ----------------------------------------------------------------------------------------------------


def test_default_columns_and_first_page(ui_server: UiServer, page: Any, table: Table) -> None:
    _open(page, ui_server, table.path)
    assert page.locator("h1").inner_text() == table.name
    # Metrics then params, each in key order; no tags until asked for.
    metrics = ["metrics.accuracy", "metrics.loss", "metrics.val/loss"]
    params = ["params.`batch size`", "params.lr", "params.model"]
    assert _header_fields(page) == FIXED_FIELDS + metrics + params
    assert page.locator("#runs thead th").nth(4).inner_text().strip() == "Duration"
    # Newest first, 100 to a page.
    assert _row_ids(page) == [run.id for run in table.runs[:100]]
    assert _summary(page) == _span(1, 100, RUN_COUNT)
    assert page.locator("nav.pager").get_by_text("Page 1 of 3").count() == 1
    started = page.locator("#runs thead th", has=page.locator('a[title="Sort by attributes.start_time"]'))
    assert started.get_attribute("aria-sort") == "descending"
    # Cells hold the runs' values: four significant digits shown, the exact value in the title, right-aligned.
    accuracy = _column(page, "metrics.accuracy")
    for run, cell in zip(table.runs[:100], accuracy, strict=True):
        assert float(cell["title"]) == run.metrics["accuracy"]
        assert cell["text"] == f"{run.metrics['accuracy']:.4g}"
        assert cell["align"] == "right" and "num" in cell["cls"].split()
    models = _column(page, "params.model")
    assert [cell["text"] for cell in models] == [run.params.get("model", "") for run in table.runs[:100]]
    names = page.locator("#runs tbody td.name a").all_inner_texts()
    assert names == [run.name for run in table.runs[:100]]


def test_default_columns_are_capped_per_kind(ui_server: UiServer, page: Any) -> None:
    project = f"wide-{uuid.uuid4().hex[:8]}"
    config = {f"p{index}": index for index in range(8)}
    with ridgeline.start_run(project=project, config=config, tags={"team": "x"}, tracking_uri=ui_server.url) as run:
        run.log_metrics({f"m{index}": float(index) for index in range(8)})
    _open(page, ui_server, f"/projects/{_project_id(ui_server, project)}")
    fields = _header_fields(page)[len(FIXED_FIELDS) :]
    assert fields == [f"metrics.m{index}" for index in range(6)] + [f"params.p{index}" for index in range(6)]
    # Every key is still offered in the Columns menu.
    boxes = page.locator("#columns-menu input[type=checkbox]")
    assert boxes.count() == 8 + 8 + 1
    assert page.locator("#columns-menu summary").inner_text() == "Columns (12)"


def test_choosing_columns_through_the_menu(ui_server: UiServer, page: Any, table: Table) -> None:
    _open(page, ui_server, table.path)
    page.locator("#columns-menu summary").click()
    menu = page.locator("#columns-menu .menu-body")
    assert menu.is_visible()
    menu.locator('input[value="metrics.loss"]').uncheck()
    menu.locator('input[value="params.lr"]').uncheck()
    menu.locator('input[value="tags.team"]').check()
    _navigate(page, lambda: menu.get_by_role("button", name="Show columns").click())
    chosen = ["metrics.accuracy", "metrics.val/loss", "params.batch size", "params.model", "tags.team"]
    assert _query(page)["col"] == chosen
    shown = ["metrics.accuracy", "metrics.val/loss", "params.`batch size`", "params.model", "tags.team"]
    assert _header_fields(page) == FIXED_FIELDS + shown
    assert page.locator("#columns-menu summary").inner_text() == "Columns (5)"
    teams = [cell["text"] for cell in _column(page, "tags.team")]
    assert teams == [run.tags["team"] for run in table.runs[:100]]
    sizes = _column(page, "params.`batch size`")
    assert [cell["title"] for cell in sizes] == [run.params["batch size"] for run in table.runs[:100]]
    # The menu shows the choice it made.
    page.locator("#columns-menu summary").click()
    checked = page.locator("#columns-menu input:checked").evaluate_all("boxes => boxes.map(box => box.value)")
    assert checked == chosen
    # Choosing keeps the rest of the view (here a sort) and starts again from the first page.
    _open(page, ui_server, f"{table.path}?order=metrics.accuracy+ASC&page=2")
    page.locator("#columns-menu summary").click()
    page.locator('#columns-menu input[value="tags.team"]').check()
    _navigate(page, lambda: page.locator("#columns-menu").get_by_role("button", name="Show columns").click())
    assert _query(page)["order"] == ["metrics.accuracy ASC"]
    assert "page" not in _query(page)
    assert "tags.team" in _header_fields(page)


# sorting ----------------------------------------------------------------------------------------------------


def test_sorting_by_clicking_headers(ui_server: UiServer, page: Any, table: Table, reader: Any) -> None:
    by_id = table.by_id
    _open(page, ui_server, f"{table.path}?page=2")

    def sort_by(field: str) -> list[str]:
        _navigate(page, lambda: page.locator(f'#runs thead a[title="Sort by {field}"]').click())
        return _row_ids(page)

    def header(field: str) -> Any:
        return page.locator("#runs thead th", has=page.locator(f'a[title="Sort by {field}"]'))

    # First click: descending, from the first page.
    shown = sort_by("metrics.accuracy")
    assert _query(page)["order"] == ["metrics.accuracy DESC"]
    assert "page" not in _query(page)
    assert shown == [run.id for run in reader.search_runs(table.name, order_by="metrics.accuracy DESC").runs]
    values = [by_id[run_id].metrics["accuracy"] for run_id in shown]
    assert values == sorted((run.metrics["accuracy"] for run in table.runs), reverse=True)[:100]
    assert header("metrics.accuracy").get_attribute("aria-sort") == "descending"
    assert "\u25bc" in header("metrics.accuracy").inner_text()
    assert header("attributes.start_time").get_attribute("aria-sort") is None
    # Second click: ascending.
    shown = sort_by("metrics.accuracy")
    assert _query(page)["order"] == ["metrics.accuracy ASC"]
    values = [by_id[run_id].metrics["accuracy"] for run_id in shown]
    assert values == sorted(run.metrics["accuracy"] for run in table.runs)[:100]
    assert header("metrics.accuracy").get_attribute("aria-sort") == "ascending"
    assert "\u25b2" in header("metrics.accuracy").inner_text()
    # A param whose key needs quoting sorts by number; names sort as text.
    shown = sort_by("params.`batch size`")
    assert shown == [run.id for run in reader.search_runs(table.name, order_by="params.`batch size` DESC").runs]
    sizes = [int(by_id[run_id].params["batch size"]) for run_id in shown]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 128
    shown = sort_by("attributes.name")
    assert [by_id[run_id].name for run_id in shown] == sorted((run.name for run in table.runs), reverse=True)[:100]


# filtering --------------------------------------------------------------------------------------------------


def test_filter_shows_exactly_the_matching_runs(ui_server: UiServer, page: Any, table: Table, reader: Any) -> None:
    _open(page, ui_server, f"{table.path}?limit=250")
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
        _apply_filter(page, text)
        expected = [run.id for run in reader.search_runs(table.name, filter=text, limit=1000).runs]
        assert expected == [run.id for run in table.runs if matches(run)], text
        assert _row_ids(page) == expected, text
        assert _summary(page) == _span(1, len(expected), len(expected)), text
        assert page.input_value("#filter") == text
        assert _query(page)["filter"] == [text]
        assert _query(page)["limit"] == ["250"], "the filter form keeps the rest of the view"
    # A filter nothing matches says so; Clear brings every run back.
    _apply_filter(page, "metrics.accuracy > 2")
    assert _row_ids(page) == []
    assert page.locator("#runs tbody td.empty").inner_text() == "No run matches this filter."
    assert _summary(page) == "0 runs"
    _navigate(page, lambda: page.get_by_role("link", name="Clear").click())
    assert page.input_value("#filter") == ""
    assert _summary(page) == _span(1, RUN_COUNT, RUN_COUNT)


def test_bad_filter_points_at_the_fault(ui_server: UiServer, page: Any, table: Table) -> None:
    _open(page, ui_server, table.path)
    with httpx.Client(base_url=f"{ui_server.url}/api/v1") as http:
        for text in ["metrics.accuracy >> 0.5 and params.model = 'rf'", "params.model = 'rf' and (", "colour = 1"]:
            _apply_filter(page, text)
            # The same message and position the API gives for that filter.
            expected = http.post("/runs/count", json={"projects": [table.name], "filter": text}).json()["error"]
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
            assert _row_ids(page) == []
    # A bad sort in a link is shown the same way, under the sort text.
    _open(page, ui_server, f"{table.path}?order=metrics.accuracy+sideways")
    shown, caret = page.locator("#filter-error pre.caret").inner_text().split("\n")[:2]
    assert shown == "metrics.accuracy sideways"
    assert caret == " " * len("metrics.accuracy ") + "^"
    # Fixing the filter clears the error.
    _open(page, ui_server, table.path)
    _apply_filter(page, "params.model = ")
    assert page.locator("#filter-error").count() == 1
    _apply_filter(page, "params.model = 'rf'")
    assert page.locator("#filter-error").count() == 0
    assert page.locator("#filter").get_attribute("aria-invalid") is None
    assert len(_row_ids(page)) == sum(1 for run in table.runs if run.params.get("model") == "rf")


def test_misspelled_keys_get_suggestions(ui_server: UiServer, page: Any, table: Table) -> None:
    _open(page, ui_server, table.path)
    cases = [
        ("metrics.acuracy > 0.5", "No run in this view has metric 'acuracy'. Did you mean metrics.accuracy?"),
        ("params.modle = 'rf'", "No run in this view has param 'modle'. Did you mean params.model?"),
        ("params.`batch siz` = 32", "No run in this view has param 'batch siz'. Did you mean params.`batch size`?"),
        ("tags.zzzzzz = 'x'", "No run in this view has tag 'zzzzzz'."),
    ]
    for text, note in cases:
        _apply_filter(page, text)
        assert page.locator(".warning-box").all_inner_texts() == [note], text
        assert page.locator("#filter-error").count() == 0
        assert _row_ids(page) == []
    # Keys that exist raise no note.
    _apply_filter(page, "metrics.accuracy > 0.5 and params.`batch size` = 32")
    assert page.locator(".warning-box").count() == 0


# grouping ---------------------------------------------------------------------------------------------------


def test_grouping_by_a_param_or_tag(ui_server: UiServer, page: Any, table: Table) -> None:
    by_id = table.by_id
    _open(page, ui_server, f"{table.path}?limit=250")
    _navigate(page, lambda: page.select_option("#group", "params.model"))
    assert _query(page)["group"] == ["params.model"]
    counts = Counter(run.params.get("model") for run in table.runs)
    expected = [f"params.model = {model} {counts[model]} runs" for model in sorted(MODELS)]
    expected.append(f"params.model = not set {counts[None]} runs")
    assert _group_rows(page) == expected
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
    _navigate(page, lambda: page.select_option("#limit", "50"))
    assert _group_rows(page) == [expected[0]]
    assert _summary(page) == _span(1, 50, RUN_COUNT)
    # Grouping by a tag, with a filter.
    _apply_filter(page, "metrics.accuracy > 0.5")
    _navigate(page, lambda: page.select_option("#group", "tags.team"))
    matching = [run for run in table.runs if run.metrics["accuracy"] > 0.5]
    teams = Counter(run.tags["team"] for run in matching)
    assert _group_rows(page)[0] == f"tags.team = nlp {teams['nlp']} runs"
    _navigate(page, lambda: page.select_option("#limit", "250"))
    assert _group_rows(page) == [f"tags.team = {team} {teams[team]} runs" for team in ("nlp", "vision")]
    # "nothing" ends the grouping.
    _navigate(page, lambda: page.select_option("#group", ""))
    assert _group_rows(page) == []
    assert "group" not in _query(page)


def test_grouping_by_a_key_with_a_space(ui_server: UiServer, page: Any, table: Table) -> None:
    _open(page, ui_server, f"{table.path}?limit=250")
    _navigate(page, lambda: page.select_option("#group", "params.batch size"))
    assert page.locator("#filter-error").count() == 0
    counts = Counter(run.params["batch size"] for run in table.runs)
    sizes = ("16", "32", "64", "128")  # numeric values sort as numbers
    assert _group_rows(page) == [f"params.batch size = {size} {counts[size]} runs" for size in sizes]


def test_sorting_by_the_grouped_column_orders_the_groups(ui_server: UiServer, page: Any, table: Table) -> None:
    _open(page, ui_server, f"{table.path}?limit=250&group=params.model")
    _navigate(page, lambda: page.locator('#runs thead a[title="Sort by params.model"]').click())
    header = page.locator("#runs thead th", has=page.locator('a[title="Sort by params.model"]'))
    assert header.get_attribute("aria-sort") == "descending"
    labels = [row.split(" = ")[1].rsplit(" ", 2)[0] for row in _group_rows(page)]
    assert labels == ["sgd", "rf", "mlp", "not set"]


# paging -----------------------------------------------------------------------------------------------------


def test_paging_through_runs(ui_server: UiServer, page: Any, table: Table) -> None:
    every = [run.id for run in table.runs]
    _open(page, ui_server, table.path)
    pager = page.locator("nav.pager")

    def go(rel: str) -> None:
        _navigate(page, lambda: pager.locator(f"a[rel={rel}]").click())

    assert pager.locator("a[rel=prev]").count() == 0 and pager.locator("a[rel=first]").count() == 0
    go("next")
    assert _row_ids(page) == every[100:200]
    assert _summary(page) == _span(101, 200, RUN_COUNT)
    assert _query(page)["page"] == ["2"]
    go("last")
    assert _row_ids(page) == every[200:]
    assert _summary(page) == _span(201, RUN_COUNT, RUN_COUNT)
    assert pager.get_by_text("Page 3 of 3").count() == 1
    assert pager.locator("a[rel=next]").count() == 0 and pager.locator("a[rel=last]").count() == 0
    go("prev")
    assert _row_ids(page) == every[100:200]
    go("first")
    assert _row_ids(page) == every[:100]
    assert "page" not in _query(page)
    # Rows per page: back to the first page, at the new size.
    go("next")
    _navigate(page, lambda: page.select_option("#limit", "50"))
    assert _query(page)["limit"] == ["50"] and "page" not in _query(page)
    assert _row_ids(page) == every[:50]
    assert _summary(page) == _span(1, 50, RUN_COUNT)
    assert pager.get_by_text("Page 1 of 5").count() == 1
    go("next")
    assert _row_ids(page) == every[50:100]
    go("last")
    assert _row_ids(page) == every[200:]
    assert _summary(page) == _span(201, RUN_COUNT, RUN_COUNT)
    _navigate(page, lambda: page.select_option("#limit", "250"))
    assert _row_ids(page) == every
    assert pager.locator("a").count() == 0


def test_a_page_past_the_end_reads_sensibly(ui_server: UiServer, page: Any, table: Table) -> None:
    _open(page, ui_server, f"{table.path}?page=9&limit=50")
    summary = _summary(page)
    numbers = [int(number) for number in re.findall(r"\d+", summary.replace(",", ""))]
    assert len(numbers) < 3 or numbers[0] <= numbers[1], summary
    assert page.locator("nav.pager").get_by_text("Page 9 of 5").count() == 0


# the URL ----------------------------------------------------------------------------------------------------


def test_every_view_state_round_trips_through_the_url(
    ui_server: UiServer, page: Any, table: Table, console: ConsoleLog
) -> None:
    _open(page, ui_server, table.path)
    _navigate(page, lambda: page.select_option("#limit", "25"))
    _apply_filter(page, "params.model != 'sgd' and metrics.accuracy > 0.2")
    _navigate(page, lambda: page.locator('#runs thead a[title="Sort by metrics.loss"]').click())
    page.locator("#columns-menu summary").click()
    page.locator('#columns-menu input[value="tags.team"]').check()
    page.locator('#columns-menu input[value="params.lr"]').uncheck()
    _navigate(page, lambda: page.locator("#columns-menu").get_by_role("button", name="Show columns").click())
    _navigate(page, lambda: page.select_option("#group", "tags.team"))
    _navigate(page, lambda: page.locator("nav.pager a[rel=next]").click())
    query = _query(page)
    assert query["limit"] == ["25"] and query["page"] == ["2"] and query["group"] == ["tags.team"]
    assert query["filter"] == ["params.model != 'sgd' and metrics.accuracy > 0.2"]
    assert query["order"] == ["metrics.loss DESC"]
    assert "tags.team" in query["col"] and "params.lr" not in query["col"]

    def state(tab: Any) -> dict[str, Any]:
        return {
            "rows": _row_ids(tab),
            "headers": _header_fields(tab),
            "groups": _group_rows(tab),
            "summary": _summary(tab),
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


# selection and bulk actions ---------------------------------------------------------------------------------


def test_selecting_runs_enables_compare_with_their_ids(ui_server: UiServer, page: Any, table: Table) -> None:
    page.route(
        re.compile(r".*/compare\?.*"),
        lambda route: route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>stub</title>"),
    )
    _open(page, ui_server, table.path)
    compare = page.get_by_role("button", name="Compare")
    count = page.locator("#selection-count")
    boxes = page.locator('#runs tbody input[name="runs"]')
    assert compare.is_disabled() and count.inner_text() == "0 selected"
    boxes.nth(0).check()
    assert compare.is_disabled() and count.inner_text() == "1 selected"
    assert page.locator("#runs tbody tr.selected").count() == 1
    # Select all: more than 50 runs cannot be compared; then none again.
    page.locator("#select-all").check()
    assert count.inner_text() == "100 selected" and compare.is_disabled()
    assert page.get_by_role("button", name="Delete").is_enabled()
    page.locator("#select-all").uncheck()
    assert count.inner_text() == "0 selected"
    boxes.nth(0).check()
    boxes.nth(2).check()
    boxes.nth(5).check()
    assert compare.is_enabled() and count.inner_text() == "3 selected"
    chosen = [table.runs[0].id, table.runs[2].id, table.runs[5].id]
    with page.expect_navigation():
        compare.click()
    parts = urlsplit(page.url)
    assert parts.path == "/compare"
    assert parse_qs(parts.query)["runs"][0].split(",") == chosen


def test_bulk_tag_sets_the_tag_on_exactly_the_selected_runs(ui_server: UiServer, page: Any, reader: Any) -> None:
    project = f"tagging-{uuid.uuid4().hex[:8]}"
    ids = _sdk_runs(ui_server, project, 4)
    _open(page, ui_server, f"/projects/{_project_id(ui_server, project)}")
    for run_id in (ids[1], ids[3]):
        page.locator(f'#runs input[name="runs"][value="{run_id}"]').check()
    editor = page.locator("#tag-editor")
    assert editor.is_hidden()
    page.get_by_role("button", name="Add tag…").click()
    assert editor.is_visible()
    assert page.evaluate("document.activeElement.id") == "tag-key"
    # A tag needs a key.
    page.get_by_role("button", name="Set tag on selected runs").click()
    assert page.locator("#action-status").inner_text() == "Give the tag a key."
    page.fill("#tag-key", "review")
    page.fill("#tag-value", "passed")
    _navigate(page, lambda: page.get_by_role("button", name="Set tag on selected runs").click())
    for run_id in ids:
        tags = reader.get_run(run_id).tags
        assert tags.get("review") == ("passed" if run_id in (ids[1], ids[3]) else None), run_id
    # The table can show the new tag as a column.
    page.locator("#columns-menu summary").click()
    page.locator('#columns-menu input[value="tags.review"]').check()
    _navigate(page, lambda: page.locator("#columns-menu").get_by_role("button", name="Show columns").click())
    shown = dict(zip(_row_ids(page), (cell["text"] for cell in _column(page, "tags.review")), strict=True))
    assert shown == {ids[0]: "", ids[1]: "passed", ids[2]: "", ids[3]: "passed"}
    # Cancel closes the editor without tagging.
    page.locator(f'#runs input[name="runs"][value="{ids[0]}"]').check()
    page.get_by_role("button", name="Add tag…").click()
    page.fill("#tag-key", "never")
    page.get_by_role("button", name="Cancel").click()
    assert editor.is_hidden()
    assert "never" not in reader.get_run(ids[0]).tags


def test_enter_in_the_tag_editor_sets_the_tag(ui_server: UiServer, page: Any, reader: Any) -> None:
    page.route(
        re.compile(r".*/compare\?.*"),
        lambda route: route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>stub</title>"),
    )
    project = f"tag-enter-{uuid.uuid4().hex[:8]}"
    ids = _sdk_runs(ui_server, project, 2)
    path = f"/projects/{_project_id(ui_server, project)}"
    _open(page, ui_server, path)
    page.locator("#select-all").check()
    page.get_by_role("button", name="Add tag…").click()
    page.fill("#tag-key", "stage")
    page.fill("#tag-value", "prod")
    with page.expect_navigation():
        page.press("#tag-value", "Enter")
    assert urlsplit(page.url).path == path
    assert all(reader.get_run(run_id).tags.get("stage") == "prod" for run_id in ids)


def test_delete_moves_runs_to_deleted_and_restore_brings_them_back(ui_server: UiServer, page: Any, reader: Any) -> None:
    project = f"deleting-{uuid.uuid4().hex[:8]}"
    ids = _sdk_runs(ui_server, project, 3)
    path = f"/projects/{_project_id(ui_server, project)}"
    _open(page, ui_server, path)
    for run_id in ids[:2]:
        page.locator(f'#runs input[name="runs"][value="{run_id}"]').check()
    delete = page.get_by_role("button", name="Delete")
    # Dismissing the confirmation deletes nothing.
    questions: list[str] = []

    def dismiss(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    delete.click()
    page.evaluate("0")  # the click's handler has finished
    assert questions == ['Delete 2 run(s)? They can be restored from "Deleted runs".']
    assert not any(reader.get_run(run_id).deleted for run_id in ids)
    assert set(_row_ids(page)) == set(ids)
    # Accepting it deletes the selected runs, and only those.
    page.once("dialog", lambda dialog: dialog.accept())
    _navigate(page, delete.click)
    assert _row_ids(page) == [ids[2]]
    assert [reader.get_run(run_id).deleted for run_id in ids] == [True, True, False]
    _navigate(page, lambda: page.get_by_role("link", name="Deleted runs").click())
    assert _query(page)["deleted"] == ["1"]
    assert set(_row_ids(page)) == set(ids[:2])
    assert page.get_by_role("button", name="Delete").count() == 0
    page.locator(f'#runs input[name="runs"][value="{ids[0]}"]').check()
    _navigate(page, page.get_by_role("button", name="Restore").click)
    assert _row_ids(page) == [ids[1]]
    assert [reader.get_run(run_id).deleted for run_id in ids] == [False, True, False]
    page.locator("#select-all").check()
    _navigate(page, page.get_by_role("button", name="Restore").click)
    assert page.locator("section.empty-state h2").inner_text() == "No deleted runs"
    _navigate(page, lambda: page.get_by_role("link", name="Runs", exact=True).click())
    assert set(_row_ids(page)) == set(ids)
    assert not any(reader.get_run(run_id).deleted for run_id in ids)


# escaping, errors, keyboard, empty state --------------------------------------------------------------------


def test_user_text_is_shown_as_text(ui_server: UiServer, page: Any) -> None:
    project = f"xss {XSS_SCRIPT} {uuid.uuid4().hex[:6]}"
    with ridgeline.start_run(
        project=project,
        name=XSS_SCRIPT,
        config={"note": XSS_IMG, "model": "rf"},
        tags={"who": XSS_SCRIPT},
        tracking_uri=ui_server.url,
    ) as run:
        run.log_metric("loss", 0.5)
    with ridgeline.start_run(project=project, name=XSS_IMG, config={"note": "plain"}, tracking_uri=ui_server.url):
        pass
    project_id = _project_id(ui_server, project)
    httpx.patch(f"{ui_server.url}/api/v1/projects/{project_id}", json={"description": XSS_IMG}).raise_for_status()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    def nothing_ran() -> None:
        assert dialogs == []
        assert page.locator("img[src=x]").count() == 0
        assert page.evaluate("[...document.scripts].filter(s => s.textContent.includes('alert')).length") == 0

    path = f"/projects/{project_id}"
    _open(page, ui_server, f"{path}?col=params.note&col=tags.who")
    nothing_ran()
    assert page.locator("h1").inner_text() == project
    assert page.title() == f"{project} · Ridgeline"
    assert page.locator("p.lead").inner_text() == XSS_IMG
    assert page.locator("#runs td.name a").all_inner_texts() == [XSS_IMG, XSS_SCRIPT]
    assert page.get_by_role("link", name=XSS_SCRIPT, exact=True).is_visible()
    assert sorted(cell["text"] for cell in _column(page, "params.note")) == sorted([XSS_IMG, "plain"])
    assert sorted(cell["text"] for cell in _column(page, "tags.who")) == sorted([XSS_SCRIPT, ""])
    # In a group header, a filter that matches it, and an error message that quotes it.
    _navigate(page, lambda: page.select_option("#group", "tags.who"))
    nothing_ran()
    assert f"tags.who = {XSS_SCRIPT} 1 runs" in _group_rows(page)
    _apply_filter(page, f"params.note = '{XSS_IMG}'")
    nothing_ran()
    assert _row_ids(page) == [run.id]
    assert page.input_value("#filter") == f"params.note = '{XSS_IMG}'"
    _apply_filter(page, f"params.note = {XSS_SCRIPT}")
    nothing_ran()
    assert "near '<'" in page.locator("#filter-error p").inner_text()
    assert page.locator("#filter-error pre.caret").inner_text().startswith(f"params.note = {XSS_SCRIPT}")
    # And on the projects page.
    _open(page, ui_server, f"/?q={project[-6:]}")
    nothing_ran()
    assert page.get_by_role("link", name=project, exact=True).is_visible()
    assert page.locator("#projects td.text", has_text=XSS_IMG).count() == 1


def test_unknown_project_gives_the_html_404_page(ui_server: UiServer, page: Any, console: ConsoleLog) -> None:
    unknown = "0123456789abcdef0123456789abcdef"
    not_found: list[str] = []
    page.on("response", lambda response: not_found.append(response.url) if response.status == 404 else None)
    for path in (f"/projects/{unknown}", "/projects/not-a-project"):
        response = page.goto(ui_server.page_url(path))
        assert response is not None and response.status == 404, path
        assert response.headers["content-type"].startswith("text/html")
        wait_ready(page)
        assert page.locator("h1").inner_text() == "Nothing here"
        assert "does not exist" in page.locator("p.lead").inner_text()
        assert page.get_by_role("link", name="All projects").count() == 1
    # The API behind the same id answers JSON, also to a browser.
    api = page.goto(ui_server.page_url(f"/api/v1/projects/{unknown}/keys"))
    assert api is not None and api.status == 404
    assert api.headers["content-type"].startswith("application/json")
    assert api.json()["error"]["code"] == "NOT_FOUND"
    # Chromium reports each 404 it loads as a console error: only these are expected (see test_projects_page).
    _open(page, ui_server, "/")
    expected = {ui_server.page_url(f"/projects/{unknown}"), ui_server.page_url("/projects/not-a-project")}
    expected.add(ui_server.page_url(f"/api/v1/projects/{unknown}/keys"))
    assert expected <= set(not_found) <= expected | {ui_server.page_url("/favicon.ico")}
    console.errors[:] = [
        message for message in console.errors if "the server responded with a status of 404" not in message
    ]


def test_keyboard_reaches_the_filter_and_links_with_a_visible_focus(ui_server: UiServer, page: Any) -> None:
    project = f"keys-{uuid.uuid4().hex[:8]}"
    ids = _sdk_runs(ui_server, project, 1)
    _open(page, ui_server, f"/projects/{_project_id(ui_server, project)}")
    reached: list[dict[str, Any]] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                """() => {
                  const element = document.activeElement;
                  const style = getComputedStyle(element);
                  return {tag: element.tagName, id: element.id, href: element.getAttribute("href") || "",
                          outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
                          visible: element.matches(":focus-visible")};
                }"""
            )
        )
        if reached[-1]["href"] == f"/runs/{ids[0]}":
            break
    assert reached[0]["href"] == "#main"
    assert any(item["id"] == "filter" for item in reached), reached
    assert reached[-1]["href"] == f"/runs/{ids[0]}", reached
    for item in reached:
        assert item["visible"] and item["outline"] != "none" and item["width"] >= 1, item


def test_a_project_without_runs_shows_how_to_log_one(ui_server: UiServer, page: Any) -> None:
    name = f"empty-{uuid.uuid4().hex[:8]}"
    created = httpx.post(f"{ui_server.url}/api/v1/projects", json={"name": name})
    created.raise_for_status()
    _open(page, ui_server, f"/projects/{created.json()['id']}")
    state = page.locator("section.empty-state")
    assert state.locator("h2").inner_text() == f"No runs in {name} yet"
    assert f'ridgeline.start_run(project="{name}"' in state.locator("pre.snippet code").inner_text()
    assert page.locator("#runs").count() == 0
    _navigate(page, lambda: page.get_by_role("link", name="Deleted runs").click())
    assert page.locator("section.empty-state h2").inner_text() == "No deleted runs"


def test_filter_box_offers_the_project_keys(ui_server: UiServer, page: Any, table: Table) -> None:
    _open(page, ui_server, table.path)
    page.locator("#filter").press_sequentially("batch")
    options = page.locator("#filter-suggestions [role=option]")
    assert options.all_inner_texts() == ["params.`batch size`"]
    page.keyboard.press("Enter")
    assert page.input_value("#filter") == "params.`batch size` "
    assert page.locator("#filter-suggestions").is_hidden()
    page.locator("#filter").press_sequentially("= 32")
    _navigate(page, lambda: page.get_by_role("button", name="Apply").click())
    assert len(_row_ids(page)) == sum(1 for run in table.runs if run.params["batch size"] == "32")
