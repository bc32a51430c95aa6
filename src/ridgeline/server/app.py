"""The server's app factory: everything is built from a Settings object when ``create_app`` is called."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from ridgeline import __version__
from ridgeline.config import Settings
from ridgeline.server.api import logging as logging_api
from ridgeline.server.api import projects, runs, system
from ridgeline.server.auth import authenticate
from ridgeline.server.errors import install_error_handlers
from ridgeline.services.tracking import TrackingService
from ridgeline.store.metadata import MetadataStore


def _swagger_assets() -> str:
    import swagger_ui_bundle

    return str(swagger_ui_bundle.swagger_ui_path)


def create_app(settings: Settings) -> FastAPI:
    """Open (and migrate) the metadata store, then assemble routes, auth and error handling."""
    store = MetadataStore(settings.metadata_uri)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        title="Ridgeline",
        version=__version__,
        description='Native REST API of Ridgeline. Errors: {"error": {"code", "message", "field"}}.',
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.tracking = TrackingService(store)

    api = APIRouter(prefix="/api/v1", dependencies=[Depends(authenticate)])
    for module in (projects, runs, logging_api):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(system.router, dependencies=[Depends(authenticate)])
    app.mount("/docs/assets", StaticFiles(directory=_swagger_assets()), name="docs-assets")
    install_error_handlers(app)
    return app
