"""System endpoints of the real server: health, the API description, offline docs and the shape of errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
from api_helpers import check_response, error, ok

from support.coroutines import run_coroutine


def _client(server: str) -> httpx.Client:
    """A client on the server root (not /api/v1) that checks every response like the API client does."""
    return httpx.Client(base_url=server, timeout=30, event_hooks={"response": [check_response]})


def test_healthz_and_openapi(server: str) -> None:
    with _client(server) as http:
        response = http.get("/healthz")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert body["status"] == "ok"
        assert isinstance(body["version"], str) and body["version"]
        spec = ok(http.get("/openapi.json"))
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path, method in [
        ("/api/v1/projects", "post"),
        ("/api/v1/projects", "get"),
        ("/api/v1/projects/by-name", "get"),
        ("/api/v1/projects/{project_id}", "get"),
        ("/api/v1/projects/{project_id}", "patch"),
        ("/api/v1/projects/{project_id}", "delete"),
        ("/api/v1/projects/{project_id}/restore", "post"),
        ("/api/v1/runs", "post"),
        ("/api/v1/runs/search", "post"),
        ("/api/v1/runs/move", "post"),
        ("/api/v1/runs/delete", "post"),
        ("/api/v1/runs/restore", "post"),
        ("/api/v1/runs/{run_id}", "get"),
        ("/api/v1/runs/{run_id}", "patch"),
        ("/api/v1/runs/{run_id}/finish", "post"),
        ("/api/v1/runs/{run_id}/resume", "post"),
        ("/api/v1/runs/{run_id}/batches", "post"),
        ("/api/v1/runs/{run_id}/tags", "delete"),
        ("/api/v1/runs/{run_id}/metrics", "get"),
        ("/api/v1/runs/{run_id}/metrics/history", "get"),
    ]:
        assert path in paths, f"{path} missing from /openapi.json"
        assert method in paths[path], f"{method.upper()} {path} missing from /openapi.json"
    # The batch endpoint reads its body itself; its schema is still documented for users.
    batch_body = paths["/api/v1/runs/{run_id}/batches"]["post"]["requestBody"]
    assert "batch_id" in str(batch_body)


def test_docs_page_works_offline(server: str) -> None:
    with _client(server) as http:
        page = http.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        html = page.text
        assert "swagger-ui" in html
        # No CDN or other host: every absolute URL in the page would be one.
        assert not re.search(r"https?://", html, re.IGNORECASE), html
        assert not re.search(r"""(src|href)\s*=\s*["']//""", html, re.IGNORECASE), html
        # No inline scripts or styles, so a strict Content-Security-Policy holds.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html, re.IGNORECASE), html
        assert "<style" not in html.lower()
        referenced = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        assert "/docs/assets/swagger-ui-bundle.js" in referenced
        for asset in referenced:
            assert asset.startswith("/"), f"asset {asset!r} is not served by this server"
            response = http.get(asset)
            assert response.status_code == 200, f"{asset} is not served: {response.status_code}"
            assert response.content, f"{asset} is empty"
        bundle = http.get("/docs/assets/swagger-ui-bundle.js")
        assert bundle.status_code == 200
        assert "javascript" in bundle.headers["content-type"]
        assert len(bundle.content) > 100_000
        init = http.get("/docs/init.js")
        assert "/openapi.json" in init.text
        assert not re.search(r"https?://", init.text)


def test_unknown_paths_and_wrong_methods_answer_json_errors(server: str) -> None:
    with _client(server) as http:
        for path in ["/nope", "/api/v1/nope", "/api/v1/projects/x/y/z", "/docs/assets/no-such-file.js"]:
            response = http.get(path)
            assert response.status_code == 404, path
            body = response.json()
            assert body["error"]["code"] == "NOT_FOUND", body
            assert body["error"]["message"], body
        for method, path in [
            ("DELETE", "/healthz"),
            ("PUT", "/api/v1/projects"),
            ("PUT", "/api/v1/runs/search"),
            ("GET", "/api/v1/runs/0123456789abcdef0123456789abcdef/batches"),
            ("PUT", "/api/v1/runs/0123456789abcdef0123456789abcdef/batches"),
        ]:
            response = http.request(method, path)
            assert response.status_code == 405, (method, path, response.text)
            body = response.json()
            assert body == {"error": {"code": "METHOD_NOT_ALLOWED", "message": body["error"]["message"]}}
            assert method in body["error"]["message"] and path in body["error"]["message"]
        # Errors of the API itself: JSON, with the documented keys and the field at fault.
        run = ok(http.post("/api/v1/runs", json={"project": "p"}), 201)
        failed = http.get("/api/v1/runs/0123456789abcdef0123456789abcdef")
        assert failed.headers["content-type"].startswith("application/json")
        message = failed.json()["error"]["message"]
        assert failed.json() == {"error": {"code": "NOT_FOUND", "message": message, "field": "run_id"}}
        invalid = error(
            http.patch(f"/api/v1/runs/{run['id']}", json={"status": "DONE"}), 400, "INVALID_ARGUMENT", "status"
        )
        assert "DONE" in invalid["message"]


def test_malformed_requests_get_precise_json_errors(server: str) -> None:
    """Hostile or broken input gets a 4xx JSON error; ``check_response`` also rejects any 5xx or traceback."""
    with _client(server) as http:
        api = "/api/v1"
        run = ok(http.post(f"{api}/runs", json={"project": "p"}), 201)
        run_id = run["id"]
        json_header = {"content-type": "application/json"}

        error(
            http.post(f"{api}/runs/{run_id}/batches", content=b"{not json", headers=json_header),
            400,
            "INVALID_ARGUMENT",
            "body",
        )
        # JSON of the wrong shape.
        for body in [b"[1, 2]", b'"text"', b"null", b"42"]:
            response = http.post(f"{api}/projects", content=body, headers=json_header)
            error(response, 400, "INVALID_ARGUMENT")
            response = http.post(f"{api}/runs/{run_id}/batches", content=body, headers=json_header)
            error(response, 400, "INVALID_ARGUMENT", "body")
        # Wrong types in otherwise valid requests.
        error(http.post(f"{api}/projects", json={"name": 5}), 400, "INVALID_ARGUMENT", "name")
        error(http.post(f"{api}/runs/search", json={"projects": "p"}), 400, "INVALID_ARGUMENT", "projects")
        error(http.post(f"{api}/runs/search", json={"projects": ["p"], "limit": "x"}), 400, "INVALID_ARGUMENT", "limit")
        error(
            http.get(f"{api}/runs/{run_id}/metrics/history", params={"key": "m", "min_step": "x"}),
            400,
            "INVALID_ARGUMENT",
            "min_step",
        )
        error(
            http.get(f"{api}/runs/{run_id}/metrics/history", params={"key": "m", "points": "many"}),
            400,
            "INVALID_ARGUMENT",
            "points",
        )
        # Ids that are not ids.
        for bad in ["x", "0" * 33, "G" * 32, "%00"]:
            response = http.get(f"{api}/runs/{bad}")
            assert response.status_code in (400, 404), response.text
        # Deeply nested or very long filters.
        deep = "(" * 5000 + "metrics.a > 1" + ")" * 5000
        error(http.post(f"{api}/runs/search", json={"projects": ["p"], "filter": deep}), 400, "INVALID_ARGUMENT")
        long_or = " or ".join(f"params.p{i} = 'v'" for i in range(200))
        ok(http.post(f"{api}/runs/search", json={"projects": ["p"], "filter": long_or}))
        too_long = " or ".join(f"params.p{i} = 'v'" for i in range(201))
        error(http.post(f"{api}/runs/search", json={"projects": ["p"], "filter": too_long}), 400, "INVALID_ARGUMENT")
        many_keys = [f"metrics.m{i}" for i in range(11)]
        error(
            http.post(f"{api}/runs/search", json={"projects": ["p"], "order_by": many_keys}),
            400,
            "INVALID_ARGUMENT",
            "order_by",
        )
        # A 500 would also fail here through check_response; the run is intact afterwards.
        assert ok(http.get(f"{api}/runs/{run_id}"))["id"] == run_id
        # A body that is not JSON at all names the body, as the batch endpoint does (not a character offset).
        for path in ["/runs", "/projects", "/runs/search"]:
            response = http.post(f"{api}{path}", content=b"{not json", headers=json_header)
            error(response, 400, "INVALID_ARGUMENT", "body")


def test_bundled_swagger_ui_reads_openapi_3_1() -> None:
    """FastAPI describes the API as OpenAPI 3.1, which Swagger UI renders from version 5 on."""
    import swagger_ui_bundle

    folder = Path(swagger_ui_bundle.swagger_ui_path).name
    major = int(folder.removeprefix("swagger-ui-").split(".")[0])
    assert major >= 5, folder


def test_oversized_bodies_are_refused_with_413_before_being_buffered(server: str) -> None:
    from ridgeline.server.limits import MAX_REQUEST_BYTES

    chunk = b" " * (1024 * 1024)

    def stream() -> Iterator[bytes]:
        for _ in range(MAX_REQUEST_BYTES // len(chunk) + 2):
            yield chunk

    with httpx.Client(base_url=server, timeout=60) as http:
        headers = {"content-type": "application/json"}
        refused = http.post("/api/v1/projects", content=stream(), headers=headers)
        assert refused.status_code == 413
        assert refused.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert http.get("/healthz").status_code == 200


def test_every_route_passes_the_auth_dependency(tmp_path: Path) -> None:
    """DESIGN: every request goes through one authorisation dependency — API, docs and health alike.

    With that dependency made to refuse everyone, every route of the API description, and the routes outside
    it, must answer 401.
    """

    from ridgeline.config import Settings
    from ridgeline.domain.errors import Unauthenticated
    from ridgeline.server.app import create_app
    from ridgeline.server.permissions import authorize

    app = create_app(Settings.load(home=tmp_path))
    schema = app.openapi()

    def refuse() -> None:
        raise Unauthenticated("nobody may pass")

    app.dependency_overrides[authorize] = refuse
    # Routes outside the API description: UI pages, static files, docs, health.
    outside = ["/", "/projects/x", "/runs/x", "/compare", "/static/x/ui.css", "/healthz", "/openapi.json", "/docs"]
    calls = [("GET", path) for path in [*outside, "/docs/init.js", "/docs/assets/swagger-ui.css"]]
    for path, operations in schema["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "0" * 32, path)
        calls += [(method.upper(), concrete) for method in operations]
    assert len(calls) > 25

    async def statuses() -> list[tuple[str, str, int]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return [(method, path, (await http.request(method, path, json={})).status_code) for method, path in calls]

    try:
        answers = run_coroutine(statuses())
    finally:
        app.state.store.close()
    assert [answer for answer in answers if answer[2] != 401] == []
