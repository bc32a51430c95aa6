"""Dataset pages in a real browser: the list, a dataset's versions with the runs that used each, the profile
of a chosen version, Mark ready through the API, and the empty state."""

from __future__ import annotations

from typing import Any

import pandas as pd

import ridgeline
from support.browser import UiServer, navigate, open_page, wait_ready


def log_versions(ui_server: UiServer, name: str) -> list[str]:
    """Two versions of `name`: the first used by two runs, the second by one. Returns the run ids."""
    first = pd.DataFrame({"age": [31, 45, None, 22], "plan": ["pro", "free", "free", "<b>team</b>"]})
    runs = []
    for index, frame in enumerate([first, first, first.assign(age=[1, 2, 3, 4])]):
        with ridgeline.start_run(project="datasets-ui", tracking_uri=ui_server.url, name=f"{name}-run-{index}") as run:
            run.log_dataset(frame, name=name, context="training" if index < 2 else "test")
            runs.append(run.id)
    return runs


def test_an_empty_server_shows_how_to_log_a_dataset(ui_server: UiServer, page: Any) -> None:
    open_page(page, ui_server, "/datasets")
    if page.locator("#datasets").count() == 0:
        assert "run.log_dataset(df, name=" in page.locator(".empty-state").inner_text()


def test_datasets_list_and_versions_with_their_runs(ui_server: UiServer, page: Any) -> None:
    runs = log_versions(ui_server, "churn-ui")
    open_page(page, ui_server, "/datasets")
    row = page.locator("#datasets tr", has_text="churn-ui")
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == "2" and cells[3] == "3"
    navigate(page, lambda: row.locator("a").click())

    assert page.locator("h1").inner_text() == "churn-ui"
    assert page.locator(".crumbs li").all_inner_texts() == ["Datasets", "churn-ui"]
    versions = page.locator("#versions tbody tr")
    assert versions.count() == 2
    # Newest first: the test-context run used the second version.
    assert versions.nth(0).locator(".run-links").inner_text().split() == ["churn-ui-run-2", "test"]
    older = versions.nth(1).locator(".run-links a").evaluate_all("(els) => els.map((el) => el.getAttribute('href'))")
    assert older == [f"/runs/{runs[0]}?tab=lineage", f"/runs/{runs[1]}?tab=lineage"] or older == [
        f"/runs/{runs[1]}?tab=lineage",
        f"/runs/{runs[0]}?tab=lineage",
    ]

    # The profile of the chosen version: the older one, through its link.
    navigate(page, lambda: versions.nth(1).locator("td").first.locator("a").click())
    profile = page.locator("#profile tbody tr")
    age = profile.filter(has_text="age").locator("td").all_inner_texts()
    assert age[0].startswith("numeric") and age[1] == "1" and age[2] == "22" and age[3] == "45"
    plan = profile.filter(has_text="plan").locator("td").all_inner_texts()
    assert "free (2)" in plan[-1] and "<b>team</b> (1)" in plan[-1]
    assert page.locator("#profile b").count() == 0


def test_mark_ready_records_who_and_when(ui_server: UiServer, page: Any) -> None:
    log_versions(ui_server, "ready-ui")
    open_page(page, ui_server, "/datasets/ready-ui")
    newest = page.locator("#versions tbody tr").first
    navigate(page, lambda: newest.locator("button[data-mark-ready]").click())
    cell = page.locator("#versions tbody tr").first.locator(".ready-cell")
    assert "ready" in cell.inner_text() and "by" in cell.inner_text()
    assert page.locator("#versions tbody tr").nth(1).locator("button[data-mark-ready]").count() == 1


def test_an_unknown_dataset_is_the_404_page(ui_server: UiServer, page: Any, console: Any) -> None:
    console.expect("404")
    response = page.goto(ui_server.page_url("/datasets/no-such-dataset"))
    wait_ready(page)
    assert response is not None and response.status == 404
