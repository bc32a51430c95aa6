"""Model registry pages: every registered model (/models) and one model (/models/{name}) with its aliases and
their history, versions, lineage, a metrics comparison and stored evaluations; the promote and rollback dialogs
and the servers serving it are drawn by static/js/models-page.js."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ridgeline.server.deps import Datasets, Monitoring, Registry, Tracking
from ridgeline.server.ui.views import model_data
from ridgeline.server.ui.views.common import Pages
from ridgeline.services.registry_gate import RegistryGate

router = APIRouter()


@router.get("/models")
def models_page(
    request: Request,
    pages: Pages,
    registry: Registry,
    q: Annotated[str, Query(max_length=250)] = "",
) -> HTMLResponse:
    query = q.strip()
    every = registry.search_models()
    found = [model for model in every if query.lower() in model.name.lower()] if query else every
    return pages.render(request, "models.html", title="Models", models=found, query=query, has_any=bool(every))


@router.get("/models/{name}")
def model_page(
    name: str,
    request: Request,
    pages: Pages,
    registry: Registry,
    tracking: Tracking,
    datasets: Datasets,
    monitoring: Monitoring,
    compare: Annotated[list[str] | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    model = registry.get_model(name)
    versions = registry.versions(model.name)
    compared = model_data.chosen_versions(compare or [], versions)
    history = registry.alias_history(model.name)
    return pages.render(
        request,
        "model.html",
        title=model.name,
        model=model,
        versions=versions,
        key_metrics=model_data.key_metrics(versions),
        lineage=model_data.lineage(versions, tracking, datasets),
        compared=compared,
        comparison=model_data.compare(compared),
        evaluations=model_data.evaluations(RegistryGate(registry.store), model.name, versions),
        history=list(reversed(history)),
        aliases=sorted(model.aliases.items()),
        monitors=monitoring.find(model.name),
    )
