"""/api/v1/projects"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ridgeline.domain.wire import project_to_json
from ridgeline.server.deps import Tracking
from ridgeline.server.responses import ERROR_RESPONSES, JSON
from ridgeline.server.schemas import ProjectCreate, ProjectList, ProjectOut, ProjectUpdate

router = APIRouter(prefix="/projects", tags=["projects"], responses=ERROR_RESPONSES)


@router.post("", response_model=ProjectOut, status_code=201)
def create_project(body: ProjectCreate, tracking: Tracking) -> JSON:
    return JSON(project_to_json(tracking.create_project(body.name, body.description)), status_code=201)


@router.get("", response_model=ProjectList)
def list_projects(
    tracking: Tracking,
    deleted: bool = False,
    q: Annotated[str | None, Query(max_length=200, description="name contains")] = None,
) -> JSON:
    return JSON({"projects": [project_to_json(p) for p in tracking.list_projects(deleted=deleted, query=q)]})


@router.get("/by-name", response_model=ProjectOut)
def get_project_by_name(name: Annotated[str, Query(max_length=200)], tracking: Tracking) -> JSON:
    return JSON(project_to_json(tracking.get_project_by_name(name)))


@router.get("/{project_id}", response_model=ProjectOut)
def get_project(project_id: str, tracking: Tracking) -> JSON:
    return JSON(project_to_json(tracking.get_project(project_id)))


@router.get("/{project_id}/keys")
def run_keys(project_id: str, tracking: Tracking, deleted: bool = False) -> JSON:
    """The param, metric and tag keys this project's runs use."""
    return JSON(tracking.run_keys([project_id], deleted=deleted))


@router.patch("/{project_id}", response_model=ProjectOut)
def update_project(project_id: str, body: ProjectUpdate, tracking: Tracking) -> JSON:
    return JSON(project_to_json(tracking.update_project(project_id, name=body.name, description=body.description)))


@router.delete("/{project_id}", response_model=ProjectOut)
def delete_project(project_id: str, tracking: Tracking) -> JSON:
    """Soft delete: the project leaves the project list (`?deleted=true` lists it) and takes no new runs."""
    return JSON(project_to_json(tracking.delete_project(project_id)))


@router.post("/{project_id}/restore", response_model=ProjectOut)
def restore_project(project_id: str, tracking: Tracking) -> JSON:
    return JSON(project_to_json(tracking.restore_project(project_id)))
