"""Static files: ``/static/{build}/{name}`` from the in-memory table built at start-up (see ui/assets.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ridgeline.domain.errors import NotFound
from ridgeline.server.ui.assets import Assets

router = APIRouter()


@router.get("/favicon.ico")
def favicon(request: Request) -> Response:
    """Browsers ask for this on any page, the JSON ones included."""
    assets: Assets = request.app.state.assets
    return static_file(assets.build, "favicon.svg", request)


@router.get("/static/{build}/{name:path}")
def static_file(build: str, name: str, request: Request) -> Response:
    assets: Assets = request.app.state.assets
    asset = assets.get(name)
    if asset is None:
        raise NotFound(f"no static file {name!r}")
    # A page from before an upgrade may still ask for the old build: serve the current file, but not for keeps.
    caching = "public, max-age=31536000, immutable" if build == assets.build else "no-cache"
    headers = {"Cache-Control": caching, "X-Content-Type-Options": "nosniff"}
    if "gzip" in request.headers.get("accept-encoding", "") and len(asset.body) > 1024:
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = "Accept-Encoding"
        return Response(asset.gzipped(), media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
