"""The run page's tabs in a real browser: the artifact tree and its previews (user HTML and SVG shown as text,
never run), tab state in the URL with keyboard navigation, environment and system tabs, the lineage graph, and
storage figures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import ridgeline
from support.browser import UiServer, wait_ready

EVIL_HTML = '<html><body><script>alert("html ran")</script><img src=x onerror="alert(1)"></body></html>'
EVIL_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert("svg ran")</script></svg>'


def log_run(ui_server: UiServer, project: str) -> str:
    with ridgeline.start_run(project=project, tracking_uri=ui_server.url, name="parent") as parent:
        pass
    with ridgeline.start_run(
        project=project, tracking_uri=ui_server.url, name="artifacts-run", parent=parent.id
    ) as run:
        run.log_metric("loss", 0.5, step=0)
        run.log_metric("system/cpu_percent", 12.0, step=0)
        run.log_text("line one\nline two\n", "logs/train.log")
        run.log_dict({"lr": 0.01, "layers": [64, 32]}, "config.json")
        run.log_dict({"model": "rf"}, "params.yaml")
        run.log_text('a,b\n1,"x,y"\n2,z\n', "data/sample.csv")
        run.log_table(pd.DataFrame({"id": range(120), "label": ["cat", "dog"] * 60}), "data/predictions.parquet")
        run.log_image(np.zeros((8, 8, 3), dtype=np.uint8), "images/black.png")
        run.log_text(EVIL_HTML, "evil.html")
        run.log_text(EVIL_SVG, "evil.svg")
        run.log_text('{"data": [{"x": [1, 2], "y": [3, 4], "type": "scatter"}], "layout": {}}', "figure.json")
        run.log_text("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n", "environment/git.diff")
        run.log_text("numpy==2.0.0\npandas==2.2.0\n", "environment/requirements.txt")
        run.log_text("epoch 1 <b>done</b>\n", "console.log")
        run.log_dataset(pd.DataFrame({"x": [1, 2, 3]}), name="tabs-data", context="validation")
        return run.id


def open_tab(page: Any, ui_server: UiServer, run_id: str, query: str) -> None:
    page.on("dialog", lambda dialog: (_ for _ in ()).throw(AssertionError(f"a dialog opened: {dialog.message}")))
    page.goto(ui_server.page_url(f"/runs/{run_id}{query}"))
    wait_ready(page)


def preview_of(page: Any, path: str) -> Any:
    page.locator(f"button.file[data-path='{path}']").click()
    preview = page.locator("#artifact-preview .preview-body")
    preview.locator(".preview-head h3").wait_for()
    return preview


def test_tree_lists_files_and_previews_show_their_content(ui_server: UiServer, page: Any) -> None:
    run_id = log_run(ui_server, "tabs-artifacts")
    open_tab(page, ui_server, run_id, "?tab=artifacts")
    paths = page.locator("#artifact-tree button.file").evaluate_all("(els) => els.map((el) => el.dataset.path)")
    assert {"logs/train.log", "config.json", "data/predictions.parquet", "evil.html", "images/black.png"} <= set(paths)
    assert page.locator("#artifact-tree summary", has_text="data/").count() == 1

    assert "line two" in preview_of(page, "logs/train.log").locator("pre").inner_text()
    assert '"layers": [\n    64,' in preview_of(page, "config.json").locator("pre").inner_text()
    assert "model: rf" in preview_of(page, "params.yaml").locator("pre").inner_text()

    csv = preview_of(page, "data/sample.csv")
    assert csv.locator("thead th").all_inner_texts() == ["a", "b"]
    assert csv.locator("tbody tr").first.locator("td").all_inner_texts() == ["1", "x,y"]

    parquet = preview_of(page, "data/predictions.parquet")
    parquet.locator("table").wait_for()
    assert parquet.locator("tbody tr").count() == 50 and "of 120 rows" in parquet.inner_text()

    image = preview_of(page, "images/black.png").locator("img.preview-image")
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 8", arg=image.element_handle())

    figure = preview_of(page, "figure.json").locator(".preview-figure")
    page.wait_for_function("(el) => el.data && el.data.length === 1", arg=figure.element_handle())
    # The chosen file is in the URL: a reload shows the same preview.
    assert "file=figure.json" in page.url and "tab=artifacts" in page.url


def test_html_and_svg_are_shown_as_text_and_never_run(ui_server: UiServer, page: Any) -> None:
    run_id = log_run(ui_server, "tabs-evil")
    open_tab(page, ui_server, run_id, "?tab=artifacts&file=evil.html")
    preview = page.locator("#artifact-preview .preview-body")
    preview.locator("pre").wait_for()
    assert preview.locator("pre").inner_text().strip() == EVIL_HTML
    assert "never rendered" in preview.inner_text()
    assert preview_of(page, "evil.svg").locator("pre").inner_text().strip() == EVIL_SVG
    # Nothing of the files became elements of the page.
    assert page.locator("#artifact-preview script, #artifact-preview svg script, #artifact-preview img").count() == 0
    page.wait_for_timeout(300)  # a dialog, had one been opened, fails the test through the handler


def test_tabs_keep_their_state_in_the_url_and_follow_the_keyboard(ui_server: UiServer, page: Any) -> None:
    run_id = log_run(ui_server, "tabs-keys")
    open_tab(page, ui_server, run_id, "")
    assert page.locator("#tab-overview").get_attribute("aria-selected") == "true"
    assert page.locator("#panel-artifacts").is_hidden()
    page.locator("#tab-overview").focus()
    page.keyboard.press("ArrowRight")
    assert page.locator("#tab-artifacts").get_attribute("aria-selected") == "true"
    assert page.evaluate("document.activeElement.id") == "tab-artifacts"
    assert "tab=artifacts" in page.url and page.locator("#panel-artifacts").is_visible()
    page.keyboard.press("End")
    assert "tab=lineage" in page.url
    page.reload()
    wait_ready(page)
    assert page.locator("#tab-lineage").get_attribute("aria-selected") == "true"
    assert page.locator("#panel-overview").is_hidden()

    page.locator("#tab-system").click()
    assert page.locator("#system-grid .chart[data-key='system/cpu_percent']").count() == 1
    assert page.locator("#chart-grid .chart[data-key='system/cpu_percent']").count() == 0
    assert page.locator("#chart-grid .chart[data-key='loss']").count() == 1


def test_environment_shows_the_diff_as_styled_text(ui_server: UiServer, page: Any) -> None:
    run_id = log_run(ui_server, "tabs-env")
    open_tab(page, ui_server, run_id, "?tab=environment")
    assert page.locator("#env-diff .diff-add").inner_text().strip() == "+new"
    assert page.locator("#env-diff .diff-del").inner_text().strip() == "-old"
    assert page.locator("#env-packages").inner_text().split() == ["numpy==2.0.0", "pandas==2.2.0"]
    assert page.locator("#env-packages-count").inner_text() == "(2)"
    # Console output is text: markup in it stays as typed.
    assert page.locator("#env-console").inner_text().strip() == "epoch 1 <b>done</b>"
    assert page.locator("#env-console b").count() == 0
    assert "Python" in page.locator("#panel-environment").inner_text()


def test_lineage_graph_has_inputs_run_and_outputs(ui_server: UiServer, page: Any) -> None:
    run_id = log_run(ui_server, "tabs-lineage")
    open_tab(page, ui_server, run_id, "?tab=lineage")
    nodes = page.locator("#lineage-graph .lineage-node")
    kinds = nodes.evaluate_all("(els) => els.map((el) => el.dataset.kind)")
    assert kinds.count("dataset") == 1 and kinds.count("run") == 1 and kinds.count("this") == 1
    labels = page.locator("#lineage-graph .lineage-label").evaluate_all("(els) => els.map((el) => el.textContent)")
    assert {"tabs-data", "parent", "artifacts-run", "data/", "environment/"} <= set(labels)
    # Ten top-level outputs: the eight largest get a node each, the rest one summing node.
    assert kinds.count("artifact") == 8 and "+2 more" in labels
    assert page.locator("#lineage-graph .lineage-edges path").count() == len(kinds) - 1
    assert page.locator("#run-inputs td").first.inner_text() == "tabs-data"


def test_storage_is_shown_per_run_and_per_project(ui_server: UiServer, page: Any) -> None:
    run_id = log_run(ui_server, "tabs-storage")
    open_tab(page, ui_server, run_id, "")
    assert " B" in page.locator("#run-storage").inner_text() or "kB" in page.locator("#run-storage").inner_text()
    page.goto(ui_server.page_url("/?q=tabs-storage"))
    wait_ready(page)
    cell = page.locator("#projects td.storage").first
    assert int(cell.get_attribute("title").split()[0]) > 0 and "kB" in cell.inner_text()
