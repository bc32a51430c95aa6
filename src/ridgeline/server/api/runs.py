"""/api/v1/runs: lifecycle, search and bulk moves."""

from __future__ import annotations

from fastapi import APIRouter

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.wire import run_to_json
from ridgeline.server.deps import Tracking
from ridgeline.server.responses import ERROR_RESPONSES, JSON
from ridgeline.server.schemas import (
    Changed,
    CountRequest,
    MoveRuns,
    RunCreate,
    RunFinish,
    RunIds,
    RunOut,
    RunPageOut,
    RunUpdate,
    SearchRequest,
)
from ridgeline.services.batches import parse_batch
from ridgeline.services.tracking import RunSpec

router = APIRouter(prefix="/runs", tags=["runs"], responses=ERROR_RESPONSES)


@router.post("", response_model=RunOut, status_code=201)
def create_run(body: RunCreate, tracking: Tracking) -> JSON:
    """Create a run in a project (by id, or by name: created on first use). Safe to retry with the same run_id."""
    if (body.project is None) == (body.project_id is None):
        raise InvalidArgument("give exactly one of project (a name) or project_id", field="project")
    spec = RunSpec(
        project_id=body.project_id,
        run_id=body.run_id,
        name=body.name,
        user=body.user,
        start_time=body.start_time,
        notes=body.notes,
        parent_run_id=body.parent_run_id,
    )
    # Checked whole before anything is written: a refused creation leaves no run and no project behind.
    initial = parse_batch({"batch_id": "run-create", "params": body.params, "tags": body.tags})
    if initial.rejected:
        first = initial.rejected[0]
        raise InvalidArgument(first["message"], field=first["field"], details={"rejected": initial.rejected})
    run = tracking.create_run(spec, project_name=body.project, params=initial.batch.params, tags=initial.batch.tags)
    return JSON(run_to_json(run), status_code=201)


@router.post("/search", response_model=RunPageOut)
def search_runs(body: SearchRequest, tracking: Tracking) -> JSON:
    """Runs of one or more projects matching a filter, ordered, one page at a time (see docs/search.md)."""
    ids = list(body.project_ids or [])
    ids += tracking.project_ids(body.projects or [])
    page = tracking.search_runs(
        ids,
        filter=body.filter,
        order_by=body.order_by,
        limit=body.limit,
        cursor=body.cursor,
        deleted=body.deleted,
    )
    return JSON({"runs": [run_to_json(run) for run in page.runs], "next_cursor": page.next_cursor})


@router.post("/count")
def count_runs(body: CountRequest, tracking: Tracking) -> JSON:
    """How many runs match a filter (the same filter grammar as search)."""
    ids = list(body.project_ids or []) + tracking.project_ids(body.projects or [])
    return JSON({"count": tracking.count_runs(ids, filter=body.filter, deleted=body.deleted)})


@router.post("/move", response_model=Changed)
def move_runs(body: MoveRuns, tracking: Tracking) -> JSON:
    return JSON({"changed": tracking.move_runs(body.run_ids, body.project_id)})


@router.post("/delete", response_model=Changed)
def delete_runs(body: RunIds, tracking: Tracking) -> JSON:
    """Soft-delete several runs (restore with /runs/restore)."""
    return JSON({"changed": tracking.delete_runs(body.run_ids)})


@router.post("/restore", response_model=Changed)
def restore_runs(body: RunIds, tracking: Tracking) -> JSON:
    return JSON({"changed": tracking.restore_runs(body.run_ids)})


@router.get("/{run_id}", response_model=RunOut)
def get_run(run_id: str, tracking: Tracking) -> JSON:
    return JSON(run_to_json(tracking.get_run(run_id)))


@router.patch("/{run_id}", response_model=RunOut)
def update_run(run_id: str, body: RunUpdate, tracking: Tracking) -> JSON:
    return JSON(run_to_json(tracking.update_run(run_id, name=body.name, status=body.status, notes=body.notes)))


@router.post("/{run_id}/finish", response_model=RunOut)
def finish_run(run_id: str, tracking: Tracking, body: RunFinish | None = None) -> JSON:
    """End a run: FINISHED unless the body says FAILED or KILLED; end_time defaults to now."""
    body = body or RunFinish()
    return JSON(run_to_json(tracking.finish_run(run_id, body.status, body.end_time)))


@router.post("/{run_id}/resume", response_model=RunOut)
def resume_run(run_id: str, tracking: Tracking) -> JSON:
    """Mark a run RUNNING again to log more to it."""
    return JSON(run_to_json(tracking.resume_run(run_id)))


@router.delete("/{run_id}", response_model=RunOut)
def delete_run(run_id: str, tracking: Tracking) -> JSON:
    tracking.delete_runs([run_id])
    return JSON(run_to_json(tracking.get_run(run_id)))


@router.post("/{run_id}/restore", response_model=RunOut)
def restore_run(run_id: str, tracking: Tracking) -> JSON:
    tracking.restore_runs([run_id])
    return JSON(run_to_json(tracking.get_run(run_id)))
