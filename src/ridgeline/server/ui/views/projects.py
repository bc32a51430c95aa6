"""The home page: every project with its run count and last activity, searchable by name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ridgeline.server.deps import Artifacts, Tracking
from ridgeline.server.ui.views.common import Pages
from ridgeline.server.ui.views.run_tabs import human_bytes

router = APIRouter()


@router.get("/")
def projects_page(
    request: Request,
    pages: Pages,
    tracking: Tracking,
    artifacts: Artifacts,
    q: Annotated[str, Query(max_length=250)] = "",
    deleted: bool = False,
) -> HTMLResponse:
    query = q.strip()
    found = tracking.list_projects(query=query or None, deleted=deleted)
    # The empty state is for a server with no project at all, deleted ones included (they can be restored).
    has_any = bool(found) or bool(tracking.list_projects()) or bool(tracking.list_projects(deleted=True))
    # One grouped query for every run's usage, summed per project here (a query per project would not scale).
    storage: dict[str, int] = {}
    for usage in artifacts.store.artifacts.usage():
        storage[usage.project_id] = storage.get(usage.project_id, 0) + usage.bytes
    return pages.render(
        request,
        "projects.html",
        storage={project.id: storage.get(project.id, 0) for project in found},
        human_bytes=human_bytes,
        projects=found,
        query=query,
        deleted=deleted,
        has_any=has_any,
        title="Projects",
    )
