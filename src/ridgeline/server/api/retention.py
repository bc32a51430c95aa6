"""/api/v1/projects/{project_id}/retention: a project's retention policy, and applying it (or a dry run)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from ridgeline.server.deps import Who
from ridgeline.server.responses import ERROR_RESPONSES, JSON
from ridgeline.server.schemas import Strict
from ridgeline.services.retention import MAX_AGE_DAYS, MAX_KEEP_LAST, RetentionPlan, RetentionService
from ridgeline.store.retention import RetentionPolicy

router = APIRouter(prefix="/projects/{project_id}/retention", tags=["retention"], responses=ERROR_RESPONSES)


def _retention(request: Request) -> RetentionService:
    # The service holds no state beyond the store, so one per request costs nothing and keeps app.py untouched.
    return RetentionService(request.app.state.store)


Retention = Annotated[RetentionService, Depends(_retention)]


class PolicyIn(Strict):
    # strict: JSON true or 1.5 is refused rather than read as 1.
    max_age_days: int | None = Field(
        None, strict=True, description=f"runs that started more than N days ago may go (1-{MAX_AGE_DAYS})"
    )
    keep_last: int | None = Field(
        None, strict=True, description=f"the newest N live runs always stay (1-{MAX_KEEP_LAST})"
    )


class ApplyIn(Strict):
    dry_run: bool = Field(True, description="true (the default): only report; false: soft-delete the runs")


def policy_json(policy: RetentionPolicy) -> dict[str, Any]:
    return {
        "project_id": policy.project_id,
        "max_age_days": policy.max_age_days,
        "keep_last": policy.keep_last,
        "updated_at": policy.updated_at,
        "updated_by": policy.updated_by,
    }


def plan_json(plan: RetentionPlan) -> dict[str, Any]:
    return {
        "project_id": plan.project.id,
        "project_name": plan.project.name,
        "policy": policy_json(plan.policy),
        "planned_at": plan.planned_at,
        "dry_run": plan.dry_run,
        "runs": [
            {
                "run_id": run.run_id,
                "name": run.name,
                "status": run.status.value,
                "start_time": run.start_time,
                "files": run.files,
                "bytes": run.bytes,
            }
            for run in plan.runs
        ],
        "run_count": len(plan.runs),
        "files": plan.files,
        "bytes": plan.bytes,
        "kept": plan.kept,
        "spared_running": plan.spared_running,
        "spared_protected": plan.spared_protected,
        "deleted": plan.deleted,
    }


@router.get("")
def get_policy(project_id: str, retention: Retention) -> JSON:
    """The project's policy; 404 (field ``retention``) when it has none."""
    return JSON(policy_json(retention.get_policy(project_id)))


@router.put("")
def set_policy(project_id: str, body: PolicyIn, retention: Retention, who: Who) -> JSON:
    """Set or replace the policy: a rule left out is off; at least one is needed."""
    policy = retention.set_policy(project_id, max_age_days=body.max_age_days, keep_last=body.keep_last, by=who)
    return JSON(policy_json(policy))


@router.delete("")
def clear_policy(project_id: str, retention: Retention) -> JSON:
    """Remove the policy (no run is touched); ``cleared`` is false when there was none."""
    return JSON({"cleared": retention.clear_policy(project_id)})


@router.post("/apply")
def apply_policy(project_id: str, retention: Retention, body: ApplyIn | None = None) -> JSON:
    """The runs the policy removes, with their bytes and the totals; without ``dry_run`` they are soft-deleted
    (restorable until ``ridgeline gc`` frees their artifacts)."""
    dry_run = True if body is None else body.dry_run
    return JSON(plan_json(retention.apply(project_id, dry_run=dry_run)))
