"""Helpers for browser tests (fixtures live in tests/ui/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def require_browser() -> None:
    """Skip without Chromium, unless RIDGELINE_REQUIRE_BROWSER=1 (CI) makes that a failure."""
    if CHROMIUM.exists():
        return
    message = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("RIDGELINE_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class UiServer:
    url: str
    home: Path

    def page_url(self, path: str) -> str:
        return f"{self.url}{path}"


def wait_ready(tab: Any) -> None:
    """Until the page says it is drawn (base.js, or the page's own module once its charts are in)."""
    # A selector, not an expression: under the pages' CSP (no 'unsafe-eval') Playwright cannot re-evaluate a string.
    tab.wait_for_selector("html[data-ready='true']", state="attached")


def navigate(tab: Any, action: Callable[[], None]) -> None:
    """Do something that loads a new page, and wait until that page is ready."""
    with tab.expect_navigation():
        action()
    wait_ready(tab)


def open_page(tab: Any, server: UiServer, path: str) -> None:
    """Load ``path`` from ``server``, expect a 200, and wait until the page is ready."""
    response = tab.goto(server.page_url(path))
    assert response is not None and response.status == 200, path
    wait_ready(tab)
