"""Side-by-side comparison of 2 to 50 runs: overlaid charts, a difference table, parallel coordinates, scatter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ridgeline.domain.errors import InvalidArgument
from ridgeline.server.deps import Tracking
from ridgeline.server.ui.views.common import Pages

router = APIRouter()

MIN_RUNS, MAX_RUNS = 2, 50


@router.get("/compare")
def compare_page(
    request: Request,
    pages: Pages,
    tracking: Tracking,
    runs: Annotated[list[str] | None, Query(max_length=4_000)] = None,
) -> HTMLResponse:
    # Accept both ?runs=a&runs=b (the runs table's form) and ?runs=a,b (a short link to share).
    run_ids = list(dict.fromkeys(item.strip() for value in runs or [] for item in value.split(",") if item.strip()))
    if not MIN_RUNS <= len(run_ids) <= MAX_RUNS:
        raise InvalidArgument(
            f"choose between {MIN_RUNS} and {MAX_RUNS} runs to compare (got {len(run_ids)})", field="runs"
        )
    records = [tracking.get_run(run_id) for run_id in run_ids]
    projects = {record.project_id: tracking.get_project(record.project_id) for record in records}
    return pages.render(
        request,
        "compare.html",
        title=f"Compare {len(records)} runs",
        runs=records,
        projects=projects,
        param_keys=sorted({key for record in records for key in record.params}),
        metric_keys=sorted({key for record in records for key in record.latest_metrics}),
        charts=True,
    )
