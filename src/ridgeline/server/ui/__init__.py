"""The web UI: server-rendered pages (Jinja2) with small ES modules, served by ``ridgeline server`` at ``/``.

Each page lives in ``views/`` (its route and the data it shows), ``templates/`` (its markup, on ``base.html``)
and ``static/js/`` (its behaviour). Pages read through the same services as the API; their scripts talk to the
native API under ``/api/v1``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response

from ridgeline.server.ui.assets import Assets
from ridgeline.server.ui.templating import Templates
from ridgeline.server.ui.views import compare, datasets, models, monitors, projects, run, runs_table, static


def install_ui(app: FastAPI) -> APIRouter:
    """Prepare templates and assets on ``app`` and return the router holding every page."""
    assets = Assets()
    app.state.assets = assets
    app.state.templates = Templates(assets)
    router = APIRouter(include_in_schema=False)
    for module in (projects, runs_table, run, compare, datasets, models, monitors, static):
        router.include_router(module.router)
    return router


def error_page(request: Request, status: int, message: str) -> Response:
    """The HTML form of an error, for people who followed a link or typed an address."""
    templates: Templates = request.app.state.templates
    template = "404.html" if status == 404 else "error.html"
    return templates.render(request, template, status_code=status, status=status, message=message)
