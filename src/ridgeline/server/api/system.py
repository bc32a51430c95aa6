"""/healthz and offline API docs (Swagger UI shipped by the swagger-ui-bundle package)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import text

from ridgeline import __version__
from ridgeline.domain.errors import NotFound
from ridgeline.server.responses import ERROR_RESPONSES, JSON

router = APIRouter(tags=["system"], responses=ERROR_RESPONSES)

STATIC = Path(__file__).resolve().parent.parent / "static"

_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ridgeline API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>"""


@router.get("/healthz")
def healthz(request: Request) -> JSON:
    """200 once the server can answer: the database is reachable and migrated."""
    with request.app.state.store.database.read() as conn:
        conn.execute(text("SELECT 1"))
    return JSON({"status": "ok", "version": __version__})


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    return HTMLResponse(_DOCS_PAGE)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> JSON:
    """The API description, served here (not by FastAPI itself) so it passes the same auth dependency."""
    return JSON(request.app.openapi())


# The Swagger UI files the docs page loads; a fixed allow-list, so no request can name another file.
_SWAGGER_FILES = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}


@router.get("/docs/assets/{name}", include_in_schema=False)
def docs_asset(name: str) -> FileResponse:
    import swagger_ui_bundle

    media_type = _SWAGGER_FILES.get(name)
    if media_type is None:
        raise NotFound(f"no such docs asset: {name}")
    return FileResponse(Path(swagger_ui_bundle.swagger_ui_path) / name, media_type=media_type)


@router.get("/docs/init.js", include_in_schema=False)
def docs_init() -> HTMLResponse:
    return HTMLResponse((STATIC / "swagger-init.js").read_text(), media_type="text/javascript")
