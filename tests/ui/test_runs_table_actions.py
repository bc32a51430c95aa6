"""The runs table ("/projects/{id}") in a real browser, what a user does with it: selecting runs to compare,
tagging, deleting and restoring them, with user text kept as text, the 404 and empty pages, and the keyboard.

Tests that change runs or need special names log a few runs of their own through the SDK, each into a project
of its own; selection reads the shared project of 240 runs (``runs_table``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

import ridgeline
from support.browser import UiServer, assert_focus_visible, navigate, open_page, tab_until, wait_ready
from support.runs_table import (
    ConsoleLog,
    Table,
    apply_filter,
    column,
    group_rows,
    project_id_of,
    row_ids,
    sdk_runs,
    url_query,
)

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"


# selection and bulk actions ---------------------------------------------------------------------------------


def test_selecting_runs_enables_compare_with_their_ids(runs_server: UiServer, page: Any, runs_table: Table) -> None:
    page.route(
        re.compile(r".*/compare\?.*"),
        lambda route: route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>stub</title>"),
    )
    open_page(page, runs_server, runs_table.path)
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
    chosen = [runs_table.runs[0].id, runs_table.runs[2].id, runs_table.runs[5].id]
    with page.expect_navigation():
        compare.click()
    parts = urlsplit(page.url)
    assert parts.path == "/compare"
    assert parse_qs(parts.query)["runs"][0].split(",") == chosen


def test_bulk_tag_sets_the_tag_on_exactly_the_selected_runs(runs_server: UiServer, page: Any, runs_reader: Any) -> None:
    project = f"tagging-{uuid.uuid4().hex[:8]}"
    ids = sdk_runs(runs_server, project, 4)
    open_page(page, runs_server, f"/projects/{project_id_of(runs_server, project)}")
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
    navigate(page, lambda: page.get_by_role("button", name="Set tag on selected runs").click())
    for run_id in ids:
        tags = runs_reader.get_run(run_id).tags
        assert tags.get("review") == ("passed" if run_id in (ids[1], ids[3]) else None), run_id
    # The table can show the new tag as a column.
    page.locator("#columns-menu summary").click()
    page.locator('#columns-menu input[value="tags.review"]').check()
    navigate(page, lambda: page.locator("#columns-menu").get_by_role("button", name="Show columns").click())
    shown = dict(zip(row_ids(page), (cell["text"] for cell in column(page, "tags.review")), strict=True))
    assert shown == {ids[0]: "", ids[1]: "passed", ids[2]: "", ids[3]: "passed"}
    # Cancel closes the editor without tagging.
    page.locator(f'#runs input[name="runs"][value="{ids[0]}"]').check()
    page.get_by_role("button", name="Add tag…").click()
    page.fill("#tag-key", "never")
    page.get_by_role("button", name="Cancel").click()
    assert editor.is_hidden()
    assert "never" not in runs_reader.get_run(ids[0]).tags


def test_enter_in_the_tag_editor_sets_the_tag(runs_server: UiServer, page: Any, runs_reader: Any) -> None:
    page.route(
        re.compile(r".*/compare\?.*"),
        lambda route: route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>stub</title>"),
    )
    project = f"tag-enter-{uuid.uuid4().hex[:8]}"
    ids = sdk_runs(runs_server, project, 2)
    path = f"/projects/{project_id_of(runs_server, project)}"
    open_page(page, runs_server, path)
    page.locator("#select-all").check()
    page.get_by_role("button", name="Add tag…").click()
    page.fill("#tag-key", "stage")
    page.fill("#tag-value", "prod")
    with page.expect_navigation():
        page.press("#tag-value", "Enter")
    assert urlsplit(page.url).path == path
    assert all(runs_reader.get_run(run_id).tags.get("stage") == "prod" for run_id in ids)


def test_delete_moves_runs_to_deleted_and_restore_brings_them_back(
    runs_server: UiServer, page: Any, runs_reader: Any
) -> None:
    project = f"deleting-{uuid.uuid4().hex[:8]}"
    ids = sdk_runs(runs_server, project, 3)
    path = f"/projects/{project_id_of(runs_server, project)}"
    open_page(page, runs_server, path)
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
    assert not any(runs_reader.get_run(run_id).deleted for run_id in ids)
    assert set(row_ids(page)) == set(ids)
    # Accepting it deletes the selected runs, and only those.
    page.once("dialog", lambda dialog: dialog.accept())
    navigate(page, delete.click)
    assert row_ids(page) == [ids[2]]
    assert [runs_reader.get_run(run_id).deleted for run_id in ids] == [True, True, False]
    navigate(page, lambda: page.get_by_role("link", name="Deleted runs").click())
    assert url_query(page)["deleted"] == ["1"]
    assert set(row_ids(page)) == set(ids[:2])
    assert page.get_by_role("button", name="Delete").count() == 0
    page.locator(f'#runs input[name="runs"][value="{ids[0]}"]').check()
    navigate(page, page.get_by_role("button", name="Restore").click)
    assert row_ids(page) == [ids[1]]
    assert [runs_reader.get_run(run_id).deleted for run_id in ids] == [False, True, False]
    page.locator("#select-all").check()
    navigate(page, page.get_by_role("button", name="Restore").click)
    assert page.locator("section.empty-state h2").inner_text() == "No deleted runs"
    navigate(page, lambda: page.get_by_role("link", name="Runs", exact=True).click())
    assert set(row_ids(page)) == set(ids)
    assert not any(runs_reader.get_run(run_id).deleted for run_id in ids)


# escaping, errors, keyboard, empty state --------------------------------------------------------------------


def test_user_text_is_shown_as_text(runs_server: UiServer, page: Any) -> None:
    project = f"xss {XSS_SCRIPT} {uuid.uuid4().hex[:6]}"
    with ridgeline.start_run(
        project=project,
        name=XSS_SCRIPT,
        config={"note": XSS_IMG, "model": "rf"},
        tags={"who": XSS_SCRIPT},
        tracking_uri=runs_server.url,
    ) as run:
        run.log_metric("loss", 0.5)
    with ridgeline.start_run(project=project, name=XSS_IMG, config={"note": "plain"}, tracking_uri=runs_server.url):
        pass
    project_id = project_id_of(runs_server, project)
    httpx.patch(f"{runs_server.url}/api/v1/projects/{project_id}", json={"description": XSS_IMG}).raise_for_status()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    def nothing_ran() -> None:
        assert dialogs == []
        assert page.locator("img[src=x]").count() == 0
        assert page.evaluate("[...document.scripts].filter(s => s.textContent.includes('alert')).length") == 0

    path = f"/projects/{project_id}"
    open_page(page, runs_server, f"{path}?col=params.note&col=tags.who")
    nothing_ran()
    assert page.locator("h1").inner_text() == project
    assert page.title() == f"{project} · Ridgeline"
    assert page.locator("p.lead").inner_text() == XSS_IMG
    assert page.locator("#runs td.name a").all_inner_texts() == [XSS_IMG, XSS_SCRIPT]
    assert page.get_by_role("link", name=XSS_SCRIPT, exact=True).is_visible()
    assert sorted(cell["text"] for cell in column(page, "params.note")) == sorted([XSS_IMG, "plain"])
    assert sorted(cell["text"] for cell in column(page, "tags.who")) == sorted([XSS_SCRIPT, ""])
    # In a group header, a filter that matches it, and an error message that quotes it.
    navigate(page, lambda: page.select_option("#group", "tags.who"))
    nothing_ran()
    assert f"tags.who = {XSS_SCRIPT} 1 runs" in group_rows(page)
    apply_filter(page, f"params.note = '{XSS_IMG}'")
    nothing_ran()
    assert row_ids(page) == [run.id]
    assert page.input_value("#filter") == f"params.note = '{XSS_IMG}'"
    apply_filter(page, f"params.note = {XSS_SCRIPT}")
    nothing_ran()
    assert "near '<'" in page.locator("#filter-error p").inner_text()
    assert page.locator("#filter-error pre.caret").inner_text().startswith(f"params.note = {XSS_SCRIPT}")
    # And on the projects page.
    open_page(page, runs_server, f"/?q={project[-6:]}")
    nothing_ran()
    assert page.get_by_role("link", name=project, exact=True).is_visible()
    assert page.locator("#projects td.text", has_text=XSS_IMG).count() == 1


def test_unknown_project_gives_the_html_404_page(runs_server: UiServer, page: Any, console: ConsoleLog) -> None:
    unknown = "0123456789abcdef0123456789abcdef"
    not_found: list[str] = []
    page.on("response", lambda response: not_found.append(response.url) if response.status == 404 else None)
    for path in (f"/projects/{unknown}", "/projects/not-a-project"):
        response = page.goto(runs_server.page_url(path))
        assert response is not None and response.status == 404, path
        assert response.headers["content-type"].startswith("text/html")
        wait_ready(page)
        assert page.locator("h1").inner_text() == "Nothing here"
        assert "does not exist" in page.locator("p.lead").inner_text()
        assert page.get_by_role("link", name="All projects").count() == 1
    # The API behind the same id answers JSON, also to a browser.
    api = page.goto(runs_server.page_url(f"/api/v1/projects/{unknown}/keys"))
    assert api is not None and api.status == 404
    assert api.headers["content-type"].startswith("application/json")
    assert api.json()["error"]["code"] == "NOT_FOUND"
    # Chromium reports each 404 it loads as a console error: only these are expected (see test_projects_page).
    open_page(page, runs_server, "/")
    expected = {runs_server.page_url(f"/projects/{unknown}"), runs_server.page_url("/projects/not-a-project")}
    expected.add(runs_server.page_url(f"/api/v1/projects/{unknown}/keys"))
    assert expected <= set(not_found) <= expected | {runs_server.page_url("/favicon.ico")}
    console.errors[:] = [
        message for message in console.errors if "the server responded with a status of 404" not in message
    ]


def test_keyboard_reaches_the_filter_and_links_with_a_visible_focus(runs_server: UiServer, page: Any) -> None:
    project = f"keys-{uuid.uuid4().hex[:8]}"
    ids = sdk_runs(runs_server, project, 1)
    open_page(page, runs_server, f"/projects/{project_id_of(runs_server, project)}")
    reached = tab_until(page, lambda item: item["href"] == f"/runs/{ids[0]}")
    assert reached[0]["href"] == "#main"
    assert any(item["id"] == "filter" for item in reached), reached
    assert reached[-1]["href"] == f"/runs/{ids[0]}", reached
    assert_focus_visible(reached)


def test_a_project_without_runs_shows_how_to_log_one(runs_server: UiServer, page: Any) -> None:
    name = f"empty-{uuid.uuid4().hex[:8]}"
    created = httpx.post(f"{runs_server.url}/api/v1/projects", json={"name": name})
    created.raise_for_status()
    open_page(page, runs_server, f"/projects/{created.json()['id']}")
    state = page.locator("section.empty-state")
    assert state.locator("h2").inner_text() == f"No runs in {name} yet"
    assert f'ridgeline.start_run(project="{name}"' in state.locator("pre.snippet code").inner_text()
    assert page.locator("#runs").count() == 0
    navigate(page, lambda: page.get_by_role("link", name="Deleted runs").click())
    assert page.locator("section.empty-state h2").inner_text() == "No deleted runs"
