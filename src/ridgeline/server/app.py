"""The server's app factory: everything is built from a Settings object when ``create_app`` is called."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from ridgeline import __version__
from ridgeline.config import Settings
from ridgeline.domain.addresses import accounts_required
from ridgeline.server.api import accounts as accounts_api
from ridgeline.server.api import admin as admin_api
from ridgeline.server.api import artifact_preview as artifact_preview_api
from ridgeline.server.api import artifacts as artifacts_api
from ridgeline.server.api import datasets as datasets_api
from ridgeline.server.api import logging as logging_api
from ridgeline.server.api import model_servers as model_servers_api
from ridgeline.server.api import monitors as monitors_api
from ridgeline.server.api import projects, retention, runs, system
from ridgeline.server.api import registry as registry_api
from ridgeline.server.api import registry_gate as registry_gate_api
from ridgeline.server.audit_trail import AuditTrail
from ridgeline.server.errors import install_error_handlers
from ridgeline.server.hardening import Hardening
from ridgeline.server.host_check import HostCheck, allowed_hosts
from ridgeline.server.limits import BodyLimit
from ridgeline.server.mlflow import build_router as mlflow_router
from ridgeline.server.permissions import Authorizer, authorize
from ridgeline.server.ui import error_page, install_ui
from ridgeline.services.accounts import AccountService
from ridgeline.services.artifacts import ArtifactService
from ridgeline.services.datasets import DatasetService
from ridgeline.services.logged_models import LoggedModelService
from ridgeline.services.monitoring.service import MonitoringService
from ridgeline.services.registry import RegistryService
from ridgeline.services.tracking import TrackingService
from ridgeline.services.workspaces import WorkspaceService
from ridgeline.store.artifacts.storage import open_storage
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.monitoring_events import MonitoringEvents

log = logging.getLogger("ridgeline.server")


STATISTICS_REFRESH_S = 600


async def _refresh_statistics_periodically(store: MetadataStore) -> None:
    """Keep the query planner's picture of the data current as it grows."""
    while True:
        await asyncio.sleep(STATISTICS_REFRESH_S)
        try:
            await run_in_threadpool(store.refresh_statistics)
        except Exception:
            log.exception("refreshing database statistics failed; will try again")


async def _monitor_periodically(monitoring: MonitoringService, settings: Settings) -> None:
    """Feed the prediction log into the monitors and run their alert rules, every ``monitoring_interval``."""
    while True:
        await asyncio.sleep(settings.monitoring_interval)
        try:
            await run_in_threadpool(monitoring.run_pass, str(settings.prediction_log))
        except Exception:
            log.exception("a monitoring pass failed; will try again")


def create_app(settings: Settings) -> FastAPI:
    """Open (and migrate) the metadata store, then assemble routes, auth and error handling."""
    store = MetadataStore(settings.metadata_uri)
    store.refresh_statistics()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(_refresh_statistics_periodically(store))]
        if settings.monitoring_interval > 0:
            tasks.append(asyncio.create_task(_monitor_periodically(app.state.monitoring, settings)))
        yield
        for task in tasks:
            task.cancel()
        store.close()

    app = FastAPI(
        title="Ridgeline",
        version=__version__,
        description='Native REST API of Ridgeline. Errors: {"error": {"code", "message", "field"}}.',
        docs_url=None,
        openapi_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.tracking = TrackingService(store)
    app.state.datasets = DatasetService(store)
    app.state.artifacts = ArtifactService(store, open_storage(settings.artifacts_location), settings.max_artifact_size)
    app.state.registry = RegistryService(store, app.state.artifacts)
    app.state.logged_models = LoggedModelService(store, app.state.tracking)
    app.state.monitoring = MonitoringService(store, MonitoringEvents(app.state.artifacts.storage))
    app.state.settings_auth = accounts_required(settings)
    app.state.accounts = AccountService(store, settings.session_hours)
    app.state.workspaces = WorkspaceService(store)
    app.state.authorizer = Authorizer(store)

    # Every route passes the one authorisation check (server/permissions.py, its table in permission_table.py).
    checked = [Depends(authorize)]
    api = APIRouter(prefix="/api/v1", dependencies=checked)
    api.include_router(accounts_api.router)
    api.include_router(admin_api.router)
    # The bulk histories route comes first: /runs/histories must not be taken for a run id.
    api.include_router(logging_api.histories_router)
    for module in (projects, runs, logging_api):
        api.include_router(module.router)
    api.include_router(artifacts_api.router)
    api.include_router(artifact_preview_api.router)
    api.include_router(datasets_api.router)
    api.include_router(retention.router)
    api.include_router(registry_api.router)
    api.include_router(registry_gate_api.router)
    api.include_router(model_servers_api.router)
    api.include_router(monitors_api.router)
    app.include_router(api)
    app.include_router(mlflow_router(), dependencies=checked)
    app.include_router(system.router, dependencies=checked)
    app.include_router(install_ui(app), dependencies=checked)
    install_error_handlers(app, html_errors=error_page)
    # Starlette runs the last added outermost: the Host/Origin check first, the audit trail next to the routes.
    app.add_middleware(AuditTrail, store=store.audit)
    app.add_middleware(Hardening)
    app.add_middleware(BodyLimit)
    app.add_middleware(HostCheck, allowed=allowed_hosts(settings))
    return app
