"""/api/2.0/mlflow/experiments/*: an MLflow experiment is a Ridgeline project."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ridgeline.domain import validation as v
from ridgeline.domain.entities import Project
from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.domain.filters import RunView, evaluate, parse_filter, parse_order_by
from ridgeline.server.deps import Tracking
from ridgeline.server.mlflow.errors import MlflowRoute
from ridgeline.server.mlflow.filters import EXPERIMENT_ATTRIBUTES, translate, translate_order_by
from ridgeline.server.mlflow.messages import Msg, experiment_json
from ridgeline.server.mlflow.paging import page
from ridgeline.server.responses import JSON
from ridgeline.services.tracking import TrackingService

router = APIRouter(prefix="/experiments", route_class=MlflowRoute)

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
MAX_EXPERIMENTS_PAGE = 50_000


def project_for(tracking: TrackingService, experiment_id: str) -> Project:
    """The project behind an experiment id; MLflow's default experiment "0" is the project "Default"."""
    if experiment_id == DEFAULT_EXPERIMENT_ID:
        return tracking.ensure_project(DEFAULT_EXPERIMENT_NAME)
    try:
        return tracking.get_project(experiment_id)
    except NotFound:
        raise NotFound(f"No Experiment with id={experiment_id} exists", field="experiment_id") from None


def _one(tracking: TrackingService, project: Project) -> dict[str, Any]:
    return experiment_json(project, tracking.project_tags([project.id])[project.id])


@router.post("/create")
def create_experiment(msg: Msg, tracking: Tracking) -> JSON:
    name = msg.required("name")
    tags = msg.key_values("tags")
    for key, value in tags.items():  # checked before the project exists: a refusal leaves nothing behind
        v.check_key(key, "tags.key")
        v.check_text(value, "tags.value", v.MAX_TAG_VALUE_LENGTH)
    project = tracking.create_project(name)
    for key, value in tags.items():
        tracking.set_project_tag(project.id, key, value)
    return JSON({"experiment_id": project.id})


@router.get("/get")
def get_experiment(msg: Msg, tracking: Tracking) -> JSON:
    project = project_for(tracking, msg.required("experiment_id"))
    return JSON({"experiment": _one(tracking, project)})


@router.get("/get-by-name")
def get_experiment_by_name(msg: Msg, tracking: Tracking) -> JSON:
    name = msg.required("experiment_name")
    try:
        project = tracking.get_project_by_name(name)
    except NotFound:
        raise NotFound(f"Could not find experiment with name '{name}'", field="experiment_name") from None
    return JSON({"experiment": _one(tracking, project)})


@router.api_route("/search", methods=["POST", "GET"])
def search_experiments(msg: Msg, tracking: Tracking) -> JSON:
    view = (msg.text("view_type") or "ACTIVE_ONLY").upper()
    if view not in ("ACTIVE_ONLY", "DELETED_ONLY", "ALL"):
        raise InvalidArgument(f"view_type must be ACTIVE_ONLY, DELETED_ONLY or ALL, got {view!r}", field="view_type")
    projects: list[Project] = []
    if view != "DELETED_ONLY":
        projects += tracking.list_projects(deleted=False)
    if view != "ACTIVE_ONLY":
        projects += tracking.list_projects(deleted=True)
    tags = tracking.project_tags([project.id for project in projects])
    views = {
        project.id: RunView(
            attributes={
                "id": project.id,
                "name": project.name,
                "start_time": project.created_at,
                "end_time": project.updated_at,
            },
            tags=tags[project.id],
        )
        for project in projects
    }
    expr = parse_filter(translate(msg.text("filter") or "", EXPERIMENT_ATTRIBUTES))
    if expr is not None:
        projects = [project for project in projects if evaluate(expr, views[project.id])]
    order = parse_order_by(translate_order_by(msg.texts("order_by"), EXPERIMENT_ATTRIBUTES))
    # Real MLflow's default: newest first; the experiment id breaks ties so pages never overlap.
    projects.sort(key=lambda project: project.id)
    if not order:
        projects.sort(key=lambda project: project.created_at, reverse=True)
    for key in reversed(order):
        if key.field.kind != "attribute":
            raise InvalidArgument("order experiments by name, creation_time or last_update_time", field="order_by")
        attribute = key.field.key
        projects.sort(key=lambda project: views[project.id].attributes[attribute] or 0, reverse=key.descending)
    chosen, extra = page(projects, msg, default=1000, maximum=MAX_EXPERIMENTS_PAGE)
    return JSON({"experiments": [experiment_json(project, tags[project.id]) for project in chosen], **extra})


@router.post("/update")
def update_experiment(msg: Msg, tracking: Tracking) -> JSON:
    project = project_for(tracking, msg.required("experiment_id"))
    new_name = msg.text("new_name")
    if new_name:
        tracking.update_project(project.id, name=new_name)
    return JSON({})


@router.post("/delete")
def delete_experiment(msg: Msg, tracking: Tracking) -> JSON:
    tracking.delete_project(project_for(tracking, msg.required("experiment_id")).id)
    return JSON({})


@router.post("/restore")
def restore_experiment(msg: Msg, tracking: Tracking) -> JSON:
    tracking.restore_project(project_for(tracking, msg.required("experiment_id")).id)
    return JSON({})


@router.post("/set-experiment-tag")
def set_experiment_tag(msg: Msg, tracking: Tracking) -> JSON:
    project = project_for(tracking, msg.required("experiment_id"))
    tracking.set_project_tag(project.id, msg.required("key"), msg.text("value") or "")
    return JSON({})


@router.post("/delete-experiment-tag")
def delete_experiment_tag(msg: Msg, tracking: Tracking) -> JSON:
    project = project_for(tracking, msg.required("experiment_id"))
    tracking.delete_project_tag(project.id, msg.required("key"))
    return JSON({})
