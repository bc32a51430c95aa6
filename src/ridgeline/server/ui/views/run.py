"""A run's page: overview, params, tags, notes and a chart per metric (drawn by static/js/run-page.js)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ridgeline.server.deps import Tracking
from ridgeline.server.ui.views.common import Pages

router = APIRouter()

# Tags the SDK sets itself (source, git, environment): shown in the overview rather than among user tags.
SYSTEM_TAG_PREFIX = "ridgeline."


@router.get("/runs/{run_id}")
def run_page(run_id: str, request: Request, pages: Pages, tracking: Tracking) -> HTMLResponse:
    run = tracking.get_run(run_id)
    project = tracking.get_project(run.project_id)
    system_tags = {k: v for k, v in run.tags.items() if k.startswith(SYSTEM_TAG_PREFIX)}
    user_tags = {k: v for k, v in run.tags.items() if not k.startswith(SYSTEM_TAG_PREFIX)}
    return pages.render(
        request,
        "run.html",
        title=run.name,
        run=run,
        project=project,
        metric_keys=sorted(run.latest_metrics),
        system_tags=system_tags,
        user_tags=user_tags,
        charts=True,
    )
