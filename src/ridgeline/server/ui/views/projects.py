"""The home page: every project with its run count and last activity, searchable by name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ridgeline.server.deps import Tracking
from ridgeline.server.ui.views.common import Pages

router = APIRouter()


@router.get("/")
def projects_page(
    request: Request,
    pages: Pages,
    tracking: Tracking,
    q: Annotated[str, Query(max_length=250)] = "",
    deleted: bool = False,
) -> HTMLResponse:
    query = q.strip()
    found = tracking.list_projects(query=query or None, deleted=deleted)
    everything = found if (not query and not deleted) else tracking.list_projects()
    return pages.render(
        request,
        "projects.html",
        projects=found,
        query=query,
        deleted=deleted,
        has_any=bool(everything),
        title="Projects",
    )
