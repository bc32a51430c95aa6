"""Browser tests: headless Chromium (Debian's, never a downloaded one) driven by Playwright against the real server.

- ``ui_server``: the real server on a free loopback port with its own data folder, shared by a module's tests
  (each test logs into its own project); ``ui_server.url`` is the base URL, also the SDK's tracking URI.
- ``runs_server``, ``runs_reader``, ``runs_table``: the runs-table tests' own server, a ``ridgeline.Client`` on
  it and its project of 240 runs (support/runs_table.py), built once a session for both runs-table modules.
- ``page``: a fresh browser page. Any console error or uncaught exception on it fails the test, and a failing
  test leaves a screenshot of the page in ``$RIDGELINE_TEST_OUTPUT`` (default ``test-output/``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ridgeline
from support.browser import CHROMIUM, ConsoleLog, UiServer, require_browser
from support.runs_table import Table, build_table
from support.servers import running_server

OUTPUT = Path(os.environ.get("RIDGELINE_TEST_OUTPUT", "test-output"))


def _serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    home = tmp_path_factory.mktemp("ui-home")
    with running_server(home) as url:
        yield UiServer(url, home)


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    yield from _serve(tmp_path_factory)


# Session-scoped so that the two runs-table modules share one 240-run project instead of building it each.
@pytest.fixture(scope="session")
def runs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    yield from _serve(tmp_path_factory)


@pytest.fixture(scope="session")
def runs_reader(runs_server: UiServer) -> Iterator[Any]:
    with ridgeline.Client(tracking_uri=runs_server.url) as client:
        yield client


@pytest.fixture(scope="session")
def runs_table(runs_server: UiServer, runs_reader: Any) -> Table:
    return build_table(runs_server, runs_reader)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    item.stash.setdefault(_FAILED, False)
    if report.failed:
        item.stash[_FAILED] = True
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def page(browser: Any, console: ConsoleLog, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.on("console", lambda message: console.errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    yield tab
    if request.node.stash.get(_FAILED, False):
        OUTPUT.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        tab.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)
    context.close()
    assert not console.unexpected(), f"the page logged errors: {console.unexpected()}"
