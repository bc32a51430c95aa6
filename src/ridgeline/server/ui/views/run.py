"""A run's page: overview, params, tags, notes and a chart per metric (drawn by static/js/run-page.js), and
tabs for its artifacts, environment, system metrics and lineage (data in views/run_tabs.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ridgeline.domain.entities import RunRecord
from ridgeline.domain.errors import NotFound
from ridgeline.server.deps import Artifacts, Datasets, Tracking
from ridgeline.server.ui.views import run_tabs
from ridgeline.server.ui.views.common import Pages
from ridgeline.services.tracking import TrackingService

router = APIRouter()

# Tags the SDK sets itself (source, git, environment): shown in the overview rather than among user tags.
SYSTEM_TAG_PREFIX = "ridgeline."
COMMAND_TAG = "ridgeline.source.command"
COMMIT_TAG = "ridgeline.git.commit"
BRANCH_TAG = "ridgeline.git.branch"

X_MODES = ("step", "wall", "relative")
# Downsampling target of the first load: about one point per pixel column of a wide chart.
INITIAL_POINTS = 1000
MAX_SMOOTHING = 0.99


@dataclass(frozen=True)
class ChartView:
    """How the charts are drawn, read from the URL so a shared link reproduces the view."""

    x: str = "step"
    smooth: float = 0.0
    log: bool = False


def chart_view(x: str, smooth: str, log: str) -> ChartView:
    """Lenient on purpose: a hand-edited link with a bad value falls back to the default rather than failing."""
    try:
        weight = float(smooth)
    except ValueError:
        weight = 0.0
    if not 0.0 <= weight <= MAX_SMOOTHING:  # also refuses NaN
        weight = 0.0
    return ChartView(x if x in X_MODES else "step", round(weight, 2), log in ("1", "true", "on"))


def _parent(tracking: TrackingService, run: RunRecord) -> RunRecord | None:
    if run.parent_run_id is None:
        return None
    try:
        return tracking.get_run(run.parent_run_id)
    except NotFound:
        return None


@router.get("/runs/{run_id}")
def run_page(
    run_id: str,
    request: Request,
    pages: Pages,
    tracking: Tracking,
    artifacts: Artifacts,
    datasets: Datasets,
    tab: Annotated[str, Query(max_length=20)] = "overview",
    x: Annotated[str, Query(max_length=20)] = "step",
    smooth: Annotated[str, Query(max_length=20)] = "0",
    log: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    run = tracking.get_run(run_id)
    project = tracking.get_project(run.project_id)
    system_tags = {k: v for k, v in sorted(run.tags.items()) if k.startswith(SYSTEM_TAG_PREFIX)}
    user_tags = {k: v for k, v in sorted(run.tags.items()) if not k.startswith(SYSTEM_TAG_PREFIX)}
    parent = _parent(tracking, run)
    keys = sorted(run.latest_metrics)
    usage = artifacts.run_usage(run.id)
    return pages.render(
        request,
        "run.html",
        title=run.name,
        run=run,
        project=project,
        parent=parent,
        metric_keys=keys,
        main_keys=[key for key in keys if not key.startswith(run_tabs.SYSTEM_PREFIX)],
        system_keys=[key for key in keys if key.startswith(run_tabs.SYSTEM_PREFIX)],
        tab=run_tabs.chosen_tab(tab),
        git_facts=run_tabs.facts(run.tags, run_tabs.GIT_FACTS),
        source_facts=run_tabs.facts(run.tags, run_tabs.SOURCE_FACTS),
        host_facts=run_tabs.facts(run.tags, run_tabs.HOST_FACTS),
        lineage=run_tabs.lineage_view(datasets, run, parent),
        storage_bytes=usage.bytes,
        storage_files=usage.files,
        storage=run_tabs.human_bytes(usage.bytes),
        params=dict(sorted(run.params.items())),
        command=system_tags.pop(COMMAND_TAG, None),
        commit=system_tags.pop(COMMIT_TAG, None),
        branch=system_tags.pop(BRANCH_TAG, None),
        system_tags=system_tags,
        user_tags=user_tags,
        view=chart_view(x, smooth, log),
        initial_points=INITIAL_POINTS,
        charts=True,
    )
