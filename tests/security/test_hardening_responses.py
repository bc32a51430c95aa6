"""Response hardening on the real server (server/hardening.py, server/errors.py, server/artifact_streams.py):
header injection, artifacts a browser would render served as attachments, security headers on every response, and
no stack trace or echoed input whatever fails. test_hardening.py has the request side.

Runs on the module-scoped ``security_server`` of tests/security/conftest.py (on SQLite), through its
``http`` client, which carries whatever credentials the server needs.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from hardening_fixtures import API, JSON_TYPE, LIMIT, MLFLOW, clean, nested, new_run

from support.servers import running_server

# SQLite only: the checks sit in front of the database, so one backend shows them;
# test_sql_injection.py covers what reaches each database.
SQLITE_ONLY = True

# -- header injection and served artifacts ---------------------------------------------------------------------


def _check_download_headers(response: httpx.Response, name: str) -> None:
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition and "\n" not in disposition
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert all(" " <= char <= "~" and char not in '"\\;' for char in fallback)
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == name
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "sandbox" in policy and "frame-ancestors 'none'" in policy


@pytest.mark.parametrize(
    "name",
    ["page.html", "drawing.svg", "feed.xml", "script.js", "page.xhtml", 'quote"; x=y.html', "résumé «final».svg"],
)
def test_files_a_browser_would_render_download_as_attachments(http: httpx.Client, name: str) -> None:
    run = new_run(http)
    content = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    uploaded = http.put(f"{API}/runs/{run['id']}/artifacts/web/{name}", content=content)
    assert uploaded.status_code == 201, uploaded.text
    _check_download_headers(http.get(f"{API}/runs/{run['id']}/artifacts/web/{name}"), name)
    mlflow_path = f"/api/2.0/mlflow-artifacts/artifacts/{run['project_id']}/{run['id']}/artifacts/web/{name}"
    _check_download_headers(http.get(mlflow_path), name)


@pytest.mark.parametrize("raw", ["a%0d%0aSet-Cookie:%20x=1.html", "a%0aX-Injected:%201.svg", "a%0d.html"])
def test_crlf_in_an_artifact_name_is_refused(http: httpx.Client, raw: str) -> None:
    run = new_run(http)
    for path in (
        f"{API}/runs/{run['id']}/artifacts/{raw}",
        f"/api/2.0/mlflow-artifacts/artifacts/{run['project_id']}/{run['id']}/artifacts/{raw}",
    ):
        response = http.put(path, content=b"<html></html>")
        clean(response)
        # Refused either way: routing finds no route for a path with a line break (404), or the path check (400).
        assert response.status_code in (400, 404), response.text
        assert "set-cookie" not in response.headers and "x-injected" not in response.headers
        assert "\r" not in response.text and "\n" not in response.text
    assert http.get(f"{API}/runs/{run['id']}/artifacts").json()["files"] == []


def test_crlf_in_request_headers_is_never_echoed(http: httpx.Client, security_server: str) -> None:
    """The server echoes no request header (X-Request-Id included); a header smuggling CR or LF is refused by
    the HTTP parser or read as what it is, and never becomes a response header."""
    address = urlsplit(security_server)
    auth = "".join(f"{key}: {value}\r\n" for key, value in http.headers.items() if key.lower() == "authorization")
    for value in ("abc\rSet-Cookie: evil=1", "abc\nSet-Cookie: evil=1", "abc\r\n Set-Cookie: evil=1"):
        request = (
            f"GET {API}/projects HTTP/1.1\r\nHost: {address.netloc}\r\n{auth}X-Request-Id: {value}\r\n"
            "Connection: close\r\n\r\n"
        )
        with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
            conn.sendall(request.encode())
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
        assert head.startswith(("http/1.1 200", "http/1.1 400")), head
        assert "set-cookie" not in head and "evil" not in head and "abc" not in head
    ordinary = http.get(f"{API}/projects", headers={"X-Request-Id": "abc-123"})
    assert "abc-123" not in str(ordinary.headers)


# -- security headers on every response ------------------------------------------------------------------------


def _static_asset(http: httpx.Client) -> str:
    page = http.get("/", headers={"Accept": "text/html"}).text
    start = page.index("/static/")
    return page[start : page.index('"', start)]


def test_every_response_carries_the_security_headers(http: httpx.Client, world: Any) -> None:
    run_id = world.run_id
    responses = {
        "api json": http.get(f"{API}/projects"),
        "api 404": http.get(f"{API}/projects/{uuid.uuid4().hex}"),
        "unknown path": http.get("/no/such/thing"),
        "405": http.delete("/healthz"),
        "415": http.post(f"{API}/projects", content=b"x", headers={"Content-Type": "text/plain"}),
        "400 depth": http.post(f"{API}/projects", content=nested(80, "array"), headers=JSON_TYPE),
        "413": http.post(f"{API}/projects", content=b" " * (LIMIT + 1), headers=JSON_TYPE),
        "mlflow": http.get(f"{MLFLOW}/experiments/search", params={"max_results": 10}),
        "mlflow 404": http.get(f"{MLFLOW}/no-such-endpoint"),
        "ui page": http.get("/", headers={"Accept": "text/html"}),
        "ui 404 page": http.get("/projects/nope", headers={"Accept": "text/html"}),
        "static file": http.get(_static_asset(http)),
        "favicon": http.get("/favicon.ico"),
        "openapi": http.get("/openapi.json"),
        "docs": http.get("/docs"),
        "docs asset": http.get("/docs/assets/swagger-ui.css"),
        "healthz": http.get("/healthz"),
        "artifact": http.get(f"{API}/runs/{run_id}/artifacts/{world.artifact_path}"),
    }
    etag = responses["artifact"].headers["etag"]
    responses["artifact 304"] = http.get(
        f"{API}/runs/{run_id}/artifacts/{world.artifact_path}", headers={"If-None-Match": etag}
    )
    assert responses["artifact 304"].status_code == 304
    for what, response in responses.items():
        clean(response)
        headers = response.headers
        assert headers.get("x-content-type-options") == "nosniff", what
        assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), what
        assert headers.get("x-frame-options") == "DENY", what
        assert headers.get("referrer-policy") == "same-origin", what
        assert "unsafe-inline" not in headers["content-security-policy"], what
        assert "unsafe-eval" not in headers["content-security-policy"], what
    for what in ("ui page", "docs"):
        assert "script-src 'self'" in responses[what].headers["content-security-policy"], what
    for what in ("api json", "openapi", "mlflow", "415", "413"):
        assert responses[what].headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    # API answers are not cached unless they say otherwise; static files keep their own long caching.
    assert responses["api json"].headers["cache-control"] == "no-store"
    assert responses["artifact"].headers["cache-control"] == "private, no-cache"
    assert "max-age" in responses["static file"].headers["cache-control"]


def test_validation_errors_do_not_echo_large_input(http: httpx.Client) -> None:
    huge = "A" * 200_000
    for body in ({"name": [huge]}, {"name": "x", "unexpected": huge}, {"name": huge}):
        response = http.post(f"{API}/projects", json=body)
        clean(response)
        assert response.status_code == 400
        assert len(response.content) < 5_000, response.text[:500]
    response = http.post(f"{MLFLOW}/experiments/create", json={"name": huge})
    clean(response)
    assert len(response.content) < 5_000, response.text[:500]
    # A refusal quoting the input is cut short: a 200 KB wrong value is not sent back whole.
    response = http.post(f"{API}/runs/search", json={"filter": "params.x = 'a' and (" + huge})
    clean(response)
    assert response.status_code == 400 and len(response.content) < 5_000, response.text[:500]
    # A hundred thousand wrong items are a hundred thousand validation errors; the answer names the first few.
    response = http.post(f"{API}/runs/search", json={"project_ids": list(range(100_000))})
    clean(response)
    assert response.status_code == 400 and len(response.content) < 5_000, response.text[:500]
    assert "(and 99999 more)" in response.json()["error"]["message"]


# -- nothing leaks when the server fails -----------------------------------------------------------------------


class _Exploding:
    """A service whose every use fails as an unexpected bug would, with internals in the message."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"secret-internal-detail /srv/ridgeline/{name}.py")


class _ExplodingMiddleware:
    """A middleware that fails for one path, before any route runs."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/explode-in-middleware":
            raise RuntimeError("secret-internal-detail in a middleware")
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def failing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose tracking service raises RuntimeError on every use, and one of whose middlewares raises."""

    def break_it(app: FastAPI) -> None:
        app.state.tracking = _Exploding()
        app.add_middleware(_ExplodingMiddleware)

    home: Path = tmp_path_factory.mktemp("failing-home")
    with running_server(home, f"sqlite:///{home / 'meta.db'}", customize=break_it) as url:
        yield url


def test_an_unexpected_error_is_a_500_without_a_trace(failing_server: str) -> None:
    def get(path: str, **options: Any) -> httpx.Response:
        # A connection per request: after an unhandled error uvicorn closes the one the answer went out on.
        return httpx.get(f"{failing_server}{path}", timeout=30, **options)

    native = get(f"{API}/projects")
    mlflow = get(f"{MLFLOW}/experiments/search", params={"max_results": 10})
    page = get("/", headers={"Accept": "text/html"})
    middleware = get("/explode-in-middleware")
    for response in (native, mlflow, page, middleware):
        assert response.status_code == 500, response.text
        for leak in ("Traceback", "secret-internal-detail", "RuntimeError", "/srv/ridgeline", 'File "'):
            assert leak not in response.text, f"{response.request.url} leaked {leak!r}"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert native.json()["error"]["code"] == "INTERNAL"
    assert middleware.json()["error"]["code"] == "INTERNAL"
    assert mlflow.json()["error_code"] == "INTERNAL_ERROR"
    assert page.headers["content-type"].startswith("text/html")
