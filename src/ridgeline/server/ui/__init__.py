"""The web UI: server-rendered pages (Jinja2) with small ES modules, served by ``ridgeline server`` at ``/``.

Each page lives in ``views/`` (its route and the data it shows), ``templates/`` (its markup, on ``base.html``)
and ``static/js/`` (its behaviour). Pages read through the same services as the API; their scripts talk to the
native API under ``/api/v1``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from ridgeline.server.ui.assets import Assets
from ridgeline.server.ui.templating import PAGE_HEADERS, Templates
from ridgeline.server.ui.views import (
    accounts,
    compare,
    datasets,
    models,
    monitors,
    projects,
    run,
    runs_table,
    static,
)


def install_ui(app: FastAPI) -> APIRouter:
    """Prepare templates and assets on ``app`` and return the router holding every page."""
    assets = Assets()
    app.state.assets = assets
    app.state.templates = Templates(assets)
    router = APIRouter(include_in_schema=False)
    for module in (projects, runs_table, run, compare, datasets, models, monitors, accounts, static):
        router.include_router(module.router)
    return router


def error_page(request: Request, status: int, message: str) -> Response:
    """The HTML form of an error, for people who followed a link or typed an address. A page that needs a login
    sends the visitor to the login page, which comes back here afterwards."""
    if status == 401:
        return login_redirect(request)
    templates: Templates = request.app.state.templates
    template = "404.html" if status == 404 else "error.html"
    return templates.render(request, template, status_code=status, status=status, message=message)


def login_redirect(request: Request) -> Response:
    """303 to ``/login?next=<this page>`` (a path on this server, never an absolute URL)."""
    here = request.url.path
    if request.url.query:
        here += f"?{request.url.query}"
    return RedirectResponse(f"/login?{urlencode({'next': here})}", status_code=303, headers=PAGE_HEADERS)
