"""Helpers for browser tests (fixtures live in tests/ui/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
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


_FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {tag: element.tagName, id: element.id, text: element.textContent.trim(),
          href: element.getAttribute("href") || "", outline: style.outlineStyle,
          width: parseFloat(style.outlineWidth), visible: element.matches(":focus-visible")};
}"""


def tab_until(tab: Any, done: Callable[[dict[str, Any]], bool], presses: int = 40) -> list[dict[str, Any]]:
    """Press Tab until ``done(focused)`` holds; returns what each press focused (tag, id, text, href, outline)."""
    reached: list[dict[str, Any]] = []
    for _ in range(presses):
        tab.keyboard.press("Tab")
        reached.append(tab.evaluate(_FOCUSED))
        if done(reached[-1]):
            break
    return reached


def assert_focus_visible(reached: list[dict[str, Any]]) -> None:
    for item in reached:
        assert item["visible"] and item["outline"] != "none" and item["width"] >= 1, item


@dataclass
class ConsoleLog:
    errors: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def expect(self, text: str) -> None:
        """Allow console errors containing ``text`` (Chromium logs one for every page answered with 4xx)."""
        self.expected.append(text)

    def unexpected(self) -> list[str]:
        return [error for error in self.errors if not any(text in error for text in self.expected)]
