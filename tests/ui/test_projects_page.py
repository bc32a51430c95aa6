"""The projects page ("/") in a real browser, and what every page's responses carry.

Runs are logged through the SDK into projects named per test (the server is shared by the module); the empty
state needs a server that has never seen a project, so those tests start their own.
"""

from __future__ import annotations

import gzip
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import ridgeline
from ridgeline.server.ui.assets import STATIC_ROOT
from support.browser import ConsoleLog, UiServer, assert_focus_visible, navigate, open_page, tab_until, wait_ready
from support.servers import running_server


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _log_runs(server: UiServer, project: str, count: int) -> list[str]:
    ids = []
    for index in range(count):
        with ridgeline.start_run(project=project, config={"index": index}, tracking_uri=server.url) as run:
            run.log_metric("loss", 1 / (index + 1))
        ids.append(run.id)
    return ids


def _project_id(server: UiServer, name: str) -> str:
    with ridgeline.Client(tracking_uri=server.url) as client:
        return client.get_project(name).id


def _listed(page: Any) -> dict[str, str]:
    """Project name → the run count shown beside it, for every row of the table."""
    rows: list[list[str]] = page.locator("#projects tbody tr").evaluate_all(
        "rows => rows.map(row => [row.cells[0].innerText.trim(), row.cells[2].innerText.trim()])"
    )
    return {name: count for name, count in rows}


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[UiServer]:
    """A server that has never seen a project."""
    home = tmp_path / "fresh-home"
    home.mkdir()
    with running_server(home) as url:
        yield UiServer(url, home)


def test_projects_are_listed_with_run_counts_and_activity(ui_server: UiServer, page: Any) -> None:
    big, small = _unique("counts-big"), _unique("counts-small")
    big_runs = _log_runs(ui_server, big, 3)
    _log_runs(ui_server, small, 1)
    # A deleted run no longer counts.
    httpx.post(f"{ui_server.url}/api/v1/runs/delete", json={"run_ids": [big_runs[0]]}).raise_for_status()
    open_page(page, ui_server, "/")
    listed = _listed(page)
    assert listed[big] == "2"
    assert listed[small] == "1"
    # Projects are listed by name.
    assert list(listed) == sorted(listed)
    # Last activity is a real, recent time (shown in local words, with the exact time kept in the markup).
    row = page.locator("#projects tbody tr", has=page.get_by_role("link", name=big, exact=True))
    stamp = row.locator("time").get_attribute("datetime")
    assert stamp is not None
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert datetime.now(UTC) - when < timedelta(minutes=10)
    assert row.locator("time").inner_text().strip()
    # Each name leads to the project's runs.
    navigate(page, lambda: page.get_by_role("link", name=big, exact=True).click())
    assert page.url == ui_server.page_url(f"/projects/{_project_id(ui_server, big)}")
    assert page.locator("h1").inner_text() == big
    assert page.locator("#runs tbody tr[data-run-id]").count() == 2


def test_search_box_filters_projects_by_name(ui_server: UiServer, page: Any) -> None:
    token = uuid.uuid4().hex[:8]
    names = [
        f"vision-{token}-resnet",
        f"vision-{token}-vit",
        f"nlp-{token}-bert",
        f"under_{token}",
        f"underX{token}",
        f"pct%{token}",
        f"pctX{token}",
    ]
    for name in names:
        _log_runs(ui_server, name, 1)
    open_page(page, ui_server, "/")

    def search(text: str) -> set[str]:
        page.fill("#project-search", text)
        navigate(page, lambda: page.press("#project-search", "Enter"))
        # The box keeps what was typed, so the next search starts from it.
        assert page.input_value("#project-search") == text
        return set(_listed(page)) if page.locator("#projects").count() else set()

    assert search(f"vision-{token}") == {f"vision-{token}-resnet", f"vision-{token}-vit"}
    assert "q=" in page.url
    # Case does not matter; a part of the name is enough.
    assert search(f"{token}-VI") == {f"vision-{token}-vit"}
    # "_" is an ordinary character, not a wildcard.
    assert search(f"under_{token}") == {f"under_{token}"}
    assert search(f"pct%{token}") == {f"pct%{token}"}
    assert search(token) == set(names)
    # Nothing found: said in words, with the query shown back.
    assert search(f"nothing-{token}") == set()
    assert page.locator("p.empty").inner_text() == f"No project matches “nothing-{token}”."
    # The search is part of the URL: opening it again gives the same list.
    page.fill("#project-search", f"nlp-{token}")
    navigate(page, lambda: page.click("form.search button[type=submit]"))
    shared = page.url
    open_page(page, ui_server, "/")
    page.goto(shared)
    wait_ready(page)
    assert set(_listed(page)) == {f"nlp-{token}-bert"}


def test_deleted_projects_have_their_own_tab(ui_server: UiServer, page: Any) -> None:
    token = uuid.uuid4().hex[:8]
    kept, gone = f"kept-{token}", f"gone-{token}"
    for name in (kept, gone):
        _log_runs(ui_server, name, 1)
    gone_id = _project_id(ui_server, gone)
    httpx.delete(f"{ui_server.url}/api/v1/projects/{gone_id}").raise_for_status()
    open_page(page, ui_server, "/")
    assert kept in _listed(page) and gone not in _listed(page)
    assert page.get_by_role("link", name="Live").get_attribute("aria-current") == "page"
    navigate(page, lambda: page.get_by_role("link", name="Deleted", exact=True).click())
    assert page.get_by_role("link", name="Deleted", exact=True).get_attribute("aria-current") == "page"
    listed = _listed(page)
    assert gone in listed and kept not in listed
    # Searching within the deleted tab stays in it.
    page.fill("#project-search", token)
    navigate(page, lambda: page.press("#project-search", "Enter"))
    assert set(_listed(page)) == {gone}
    assert "deleted=1" in page.url
    navigate(page, lambda: page.get_by_role("link", name="Live").click())
    assert set(_listed(page)) == {kept}
    assert page.input_value("#project-search") == token


def test_empty_state_shows_how_to_log_a_first_run(fresh_server: UiServer, page: Any) -> None:
    open_page(page, fresh_server, "/")
    state = page.locator("section.empty-state")
    assert state.locator("h2").inner_text() == "No projects yet"
    snippet = state.locator("pre.snippet code").inner_text()
    assert "import ridgeline" in snippet
    assert 'ridgeline.start_run(project="my-project"' in snippet
    assert "run.log_metric(" in snippet
    assert page.locator("#projects").count() == 0
    # Once a run is logged, the same page lists its project.
    _log_runs(fresh_server, "first-project", 1)
    page.reload()
    wait_ready(page)
    assert page.locator("section.empty-state").count() == 0
    assert _listed(page) == {"first-project": "1"}


def test_deleted_projects_stay_reachable_when_no_live_project_is_left(fresh_server: UiServer, page: Any) -> None:
    _log_runs(fresh_server, "only-project", 1)
    project_id = _project_id(fresh_server, "only-project")
    httpx.delete(f"{fresh_server.url}/api/v1/projects/{project_id}").raise_for_status()
    open_page(page, fresh_server, "/?deleted=1")
    assert _listed(page) == {"only-project": "1"}
    open_page(page, fresh_server, "/")
    assert page.get_by_role("link", name="Deleted", exact=True).count() == 1


def test_unknown_path_gives_the_html_404_page_and_api_paths_json(
    ui_server: UiServer, page: Any, console: ConsoleLog
) -> None:
    not_found: list[str] = []
    page.on("response", lambda response: not_found.append(response.url) if response.status == 404 else None)
    response = page.goto(ui_server.page_url("/no/such/page"))
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    wait_ready(page)
    assert page.locator("h1").inner_text() == "Nothing here"
    assert "no such page: GET /no/such/page" in page.locator("p.lead").inner_text()
    navigate(page, lambda: page.get_by_role("link", name="All projects").click())
    assert page.url == ui_server.page_url("/")
    # The API keeps its JSON errors, whoever asks.
    api = page.goto(ui_server.page_url("/api/v1/no/such/endpoint"))
    assert api is not None and api.status == 404
    assert api.headers["content-type"].startswith("application/json")
    assert api.json() == {"error": {"code": "NOT_FOUND", "message": "no such endpoint: GET /api/v1/no/such/endpoint"}}
    # Chromium reports each 404 it loaded as a console error (and asks a JSON page for /favicon.ico): once an
    # ordinary page has loaded after them, exactly those 404s, and nothing else, are expected here.
    open_page(page, ui_server, "/")
    expected = {ui_server.page_url("/no/such/page"), ui_server.page_url("/api/v1/no/such/endpoint")}
    assert expected <= set(not_found) <= expected | {ui_server.page_url("/favicon.ico")}
    console.errors[:] = [
        message for message in console.errors if "the server responded with a status of 404" not in message
    ]


def test_keyboard_reaches_search_and_links_with_a_visible_focus(ui_server: UiServer, page: Any) -> None:
    name = _unique("keyboard")
    _log_runs(ui_server, name, 1)
    open_page(page, ui_server, f"/?q={name}")
    reached = tab_until(page, lambda item: item["tag"] == "A" and item["text"] == name, presses=20)
    # The skip link comes first; then the search box, and the project's link.
    assert reached[0]["text"] == "Skip to content"
    assert any(item["id"] == "project-search" for item in reached), reached
    assert reached[-1]["text"] == name, reached
    assert_focus_visible(reached)


def _static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_carry_security_headers_and_no_inline_code(ui_server: UiServer) -> None:
    name = _unique("headers")
    _log_runs(ui_server, name, 1)
    project_id = _project_id(ui_server, name)
    for path, status in [("/", 200), (f"/?q={name}", 200), (f"/projects/{project_id}", 200), ("/nowhere", 404)]:
        response = httpx.get(ui_server.page_url(path), headers={"Accept": "text/html"})
        assert response.status_code == status, path
        policy = response.headers["content-security-policy"]
        directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
        assert directives["script-src"] == ["'self'"], policy
        assert directives["style-src"] == ["'self'"], policy
        assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"], policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        # Nothing on the page needs an exception to the policy: no inline scripts, styles or handlers.
        html = response.text
        for tag in re.findall(r"<script\b[^>]*>", html):
            # A script runs only from a file; data blocks (JSON) are not scripts.
            assert 'src="/static/' in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"<style\b|\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path


def test_static_files_are_cached_for_good_and_gzipped(ui_server: UiServer) -> None:
    name = _unique("static")
    _log_runs(ui_server, name, 1)
    urls = sorted(
        {
            url
            for path in ("/", f"/projects/{_project_id(ui_server, name)}")
            for url in _static_urls(httpx.get(ui_server.page_url(path)).text)
        }
    )
    assert {url.rsplit("/", 1)[-1] for url in urls} >= {"ui.css", "base.js", "favicon.svg", "runs-table.js"}
    # Plotly comes from the plotly package, not from static/: checked on its own below.
    vendor = [url for url in urls if "/vendor/" in url]
    assert [url.rsplit("/", 1)[-1] for url in vendor] == ["plotly.min.js"]
    urls = [url for url in urls if url not in vendor]
    with httpx.Client(base_url=ui_server.url) as http:
        plotly = http.get(vendor[0], headers={"Accept-Encoding": "gzip"})
    assert plotly.status_code == 200
    assert plotly.headers["content-encoding"] == "gzip"
    assert plotly.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plotly.content.startswith(b"/**\n* plotly.js v")
    # The modules those scripts import are served from the same build.
    for url in list(urls):
        if url.endswith(".js"):
            source = (STATIC_ROOT / url.split("/", 3)[3]).read_text()
            folder = url.rsplit("/", 1)[0]
            urls += [f"{folder}/{module}" for module in re.findall(r'from "\./([\w./-]+\.js)"', source)]
    assert any(url.endswith("/js/api.js") for url in urls)
    with httpx.Client(base_url=ui_server.url) as http:
        for url in urls:
            file_name = url.split("/", 3)[3]
            body = (STATIC_ROOT / file_name).read_bytes()
            response = http.get(url, headers={"Accept-Encoding": "gzip"})
            assert response.status_code == 200, url
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable", url
            assert response.headers["x-content-type-options"] == "nosniff", url
            assert response.content == body, url
            if len(body) > 1024:
                assert response.headers["content-encoding"] == "gzip", url
                assert "accept-encoding" in response.headers["vary"].lower(), url
            media_types = {"css": "text/css", "js": "text/javascript", "svg": "image/svg+xml"}
            assert response.headers["content-type"].startswith(media_types[file_name.rsplit(".")[-1]]), url
            # Without gzip in Accept-Encoding the same bytes come uncompressed.
            plain = http.get(url, headers={"Accept-Encoding": "identity"})
            assert "content-encoding" not in plain.headers and plain.content == body, url
        css = next(url for url in urls if url.endswith("/ui.css"))
        # Compressed on the wire: the raw body is gzip and smaller than the file.
        with http.stream("GET", css, headers={"Accept-Encoding": "gzip"}) as streamed:
            wire = b"".join(streamed.iter_raw())
        assert len(wire) < len((STATIC_ROOT / "ui.css").read_bytes())
        assert gzip.decompress(wire) == (STATIC_ROOT / "ui.css").read_bytes()
        # A page from an older build still gets its file, but not to keep.
        build = css.split("/")[2]
        old = http.get(css.replace(f"/{build}/", "/000000000000/"))
        assert old.status_code == 200 and old.headers["cache-control"] == "no-cache"
        # Only the files that exist are served, whatever the path; errors there are JSON, not pages.
        for missing in [f"/static/{build}/nope.js", f"/static/{build}/%2e%2e/templates/base.html"]:
            refused = http.get(missing, headers={"Accept": "text/html"})
            assert refused.status_code == 404, missing
            assert refused.json()["error"]["code"] == "NOT_FOUND", missing
