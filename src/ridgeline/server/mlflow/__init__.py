"""The MLflow-compatible REST API (``/api/2.0/mlflow/``, ``/api/2.0/mlflow-artifacts/`` and the one ``/api/3.0/``
route the client needs, ``/api/3.0/mlflow/server-info``): MLflow's official client works against it unchanged.

An MLflow experiment is a Ridgeline project and MLflow runs are Ridgeline runs: the routes here translate
MLflow's messages, filter strings and error codes and call the same services as the native API.
docs/mlflow.md says what is covered.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from ridgeline.server.mlflow import (
    artifacts,
    experiments,
    logged_models,
    metrics,
    model_versions,
    registered_models,
    runs,
)
from ridgeline.server.mlflow.errors import MlflowRoute, endpoint_not_found
from ridgeline.server.responses import JSON

PREFIX = "/api/2.0/mlflow"


def build_router() -> APIRouter:
    """Every MLflow route, then a catch-all that answers any other ``/api/2.0/`` path ENDPOINT_NOT_FOUND."""
    router = APIRouter(route_class=MlflowRoute, include_in_schema=False)
    mlflow = APIRouter(prefix=PREFIX, route_class=MlflowRoute, include_in_schema=False)
    for module in (experiments, runs, metrics, registered_models, model_versions, logged_models, artifacts):
        mlflow.include_router(module.router)
    mlflow.include_router(logged_models.outputs_router)
    router.include_router(mlflow)
    router.include_router(artifacts.proxy_router)
    router.include_router(artifacts.info_router)

    @router.api_route("/api/2.0/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def not_found(path: str, request: Request) -> JSON:
        return endpoint_not_found(request)

    return router
