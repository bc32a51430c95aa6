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
    # The empty state is for a server with no project at all, deleted ones included (they can be restored).
    has_any = bool(found) or bool(tracking.list_projects()) or bool(tracking.list_projects(deleted=True))
    return pages.render(
        request,
        "projects.html",
        projects=found,
        query=query,
        deleted=deleted,
        has_any=has_any,
        title="Projects",
    )
