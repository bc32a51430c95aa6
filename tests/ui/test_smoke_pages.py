"""The harness itself: the projects page loads in a real browser with no console errors."""

from __future__ import annotations

from typing import Any

import ridgeline
from support.browser import UiServer, wait_ready


def test_projects_page_lists_a_logged_project(ui_server: UiServer, page: Any) -> None:
    with ridgeline.start_run(project="harness-check", tracking_uri=ui_server.url) as run:
        run.log_metric("loss", 0.5)
    page.goto(ui_server.page_url("/"))
    wait_ready(page)
    assert page.locator("#projects a", has_text="harness-check").count() == 1
