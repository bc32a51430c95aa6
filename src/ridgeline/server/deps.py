"""Typed dependencies that make handler signatures say what they need."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ridgeline.services.artifacts import ArtifactService
from ridgeline.services.tracking import TrackingService


def _tracking(request: Request) -> TrackingService:
    service: TrackingService = request.app.state.tracking
    return service


Tracking = Annotated[TrackingService, Depends(_tracking)]


def _artifacts(request: Request) -> ArtifactService:
    service: ArtifactService = request.app.state.artifacts
    return service


Artifacts = Annotated[ArtifactService, Depends(_artifacts)]
