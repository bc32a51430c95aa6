"""Typed dependencies that make handler signatures say what they need."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ridgeline.domain.accounts import Principal
from ridgeline.services.artifacts import ArtifactService
from ridgeline.services.datasets import DatasetService
from ridgeline.services.logged_models import LoggedModelService
from ridgeline.services.monitoring.service import MonitoringService
from ridgeline.services.registry import RegistryService
from ridgeline.services.tracking import TrackingService


async def _tracking(request: Request) -> TrackingService:
    service: TrackingService = request.app.state.tracking
    return service


Tracking = Annotated[TrackingService, Depends(_tracking)]


async def _artifacts(request: Request) -> ArtifactService:
    service: ArtifactService = request.app.state.artifacts
    return service


Artifacts = Annotated[ArtifactService, Depends(_artifacts)]


async def _datasets(request: Request) -> DatasetService:
    service: DatasetService = request.app.state.datasets
    return service


Datasets = Annotated[DatasetService, Depends(_datasets)]


async def _registry(request: Request) -> RegistryService:
    service: RegistryService = request.app.state.registry
    return service


Registry = Annotated[RegistryService, Depends(_registry)]


async def _monitoring(request: Request) -> MonitoringService:
    service: MonitoringService = request.app.state.monitoring
    return service


Monitoring = Annotated[MonitoringService, Depends(_monitoring)]


async def _logged_models(request: Request) -> LoggedModelService:
    service: LoggedModelService = request.app.state.logged_models
    return service


LoggedModels = Annotated[LoggedModelService, Depends(_logged_models)]


async def principal_name(request: Request) -> str:
    """Who is asking, as recorded in the data (the authentication dependency has set it)."""
    principal: Principal = request.state.principal
    return principal.name


Who = Annotated[str, Depends(principal_name)]
