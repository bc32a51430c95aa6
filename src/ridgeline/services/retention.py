"""Retention policies: which runs of a project may go, and soft-deleting them (``gc`` then frees their artifacts).

A policy has up to two rules, at least one:

- ``max_age_days``: runs that started more than N days ago may go;
- ``keep_last``: the newest N live runs (by start time, whatever their status) always stay.

With both, a run goes only when it breaks both — older than N days *and* not among the newest N — so a project
that has gone quiet keeps its last N runs instead of losing everything to age. RUNNING runs and protected runs
(:func:`protected_runs`) never go, and soft-deleted runs are already gone as far as retention is concerned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ridgeline.domain import validation as v
from ridgeline.domain.entities import Project, RunStatus
from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.domain.ids import now_ms
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.retention import LiveRun, RetentionPolicy

DAY_MS = 86_400_000
# Bounds that keep the arithmetic in int64 milliseconds and catch typos (a policy of 10^9 days protects nothing).
MAX_AGE_DAYS = 36_500
MAX_KEEP_LAST = 10_000_000
PROTECTED_TAG = "ridgeline.protected"


@dataclass
class RetentionPlan:
    """What a project's policy removes now (or, after ``apply`` without dry run, removed)."""

    project: Project
    policy: RetentionPolicy
    # When the plan was made: "older than N days" is measured back from here.
    planned_at: int
    dry_run: bool
    runs: list[LiveRun] = field(default_factory=list)
    kept: int = 0
    # Runs the rules would remove but that stay: still RUNNING, or protected.
    spared_running: int = 0
    spared_protected: int = 0
    # Runs soft-deleted by ``apply`` (0 on a dry run); fewer than ``runs`` when some changed since the plan.
    deleted: int = 0

    @property
    def bytes(self) -> int:
        return sum(run.bytes for run in self.runs)

    @property
    def files(self) -> int:
        return sum(run.files for run in self.runs)


def check_rule(value: int | None, name: str, maximum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InvalidArgument(f"{name} must be a whole number from 1 to {maximum}, got {value!r}", field=name)
    return value


def protected_runs(store: MetadataStore, runs: list[LiveRun]) -> set[str]:
    """Ids of the runs no policy may remove.

    Runs tagged ``ridgeline.protected=true``, and the runs behind registered model versions (their source runs
    and the runs holding their files).
    """
    values = store.retention.tag_values([run.run_id for run in runs], PROTECTED_TAG)
    tagged = {run_id for run_id, value in values.items() if value.strip().lower() == "true"}
    return tagged | (store.registry.protected_runs() & {run.run_id for run in runs})


class RetentionService:
    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    # policies -----------------------------------------------------------------------------------------------

    def set_policy(
        self, project_id: str, *, max_age_days: int | None = None, keep_last: int | None = None, by: str = ""
    ) -> RetentionPolicy:
        """Set (replace) the project's policy; a rule left out is off, and at least one rule is needed."""
        age = check_rule(max_age_days, "max_age_days", MAX_AGE_DAYS)
        keep = check_rule(keep_last, "keep_last", MAX_KEEP_LAST)
        if age is None and keep is None:
            raise InvalidArgument("a retention policy needs max_age_days, keep_last or both", field="max_age_days")
        project = self._project(project_id)
        return self.store.retention.put(project.id, age, keep, v.check_text(by, "updated_by", v.MAX_NAME_LENGTH))

    def get_policy(self, project_id: str) -> RetentionPolicy:
        return self._policy(self._project(project_id))

    def clear_policy(self, project_id: str) -> bool:
        """Remove the project's policy; False when it had none (clearing twice is harmless)."""
        return self.store.retention.delete(self._project(project_id).id)

    def policies(self) -> list[tuple[Project, RetentionPolicy]]:
        """Every policy with its project, by project name."""
        found = [(self.store.projects.get(p.project_id, stats=False), p) for p in self.store.retention.all()]
        return sorted(found, key=lambda pair: pair[0].name)

    # planning and applying ----------------------------------------------------------------------------------

    def plan(self, project_id: str) -> RetentionPlan:
        """The live runs the project's policy would soft-delete now, newest first, with their artifact bytes."""
        project = self._project(project_id)
        return self._plan(project, self._policy(project), dry_run=True)

    def apply(self, project_id: str, *, dry_run: bool = False) -> RetentionPlan:
        """Soft-delete the runs :meth:`plan` names (restorable until ``gc``); with ``dry_run`` only plan."""
        project = self._project(project_id)
        plan = self._plan(project, self._policy(project), dry_run=dry_run)
        return plan if dry_run else self._delete(plan)

    def apply_all(self, *, dry_run: bool = False) -> list[RetentionPlan]:
        """:meth:`apply` for every project that has a policy, by project name."""
        plans = [self._plan(project, policy, dry_run=dry_run) for project, policy in self.policies()]
        return plans if dry_run else [self._delete(plan) for plan in plans]

    def _plan(self, project: Project, policy: RetentionPolicy, *, dry_run: bool) -> RetentionPlan:
        now = now_ms()
        plan = RetentionPlan(project=project, policy=policy, planned_at=now, dry_run=dry_run)
        live = self.store.retention.live_runs(project.id)
        cutoff = None if policy.max_age_days is None else now - policy.max_age_days * DAY_MS
        # live_runs is newest first, so the newest N are its first N.
        beyond_newest = live if policy.keep_last is None else live[policy.keep_last :]
        doomed = [run for run in beyond_newest if cutoff is None or run.start_time < cutoff]
        protected = protected_runs(self.store, doomed) if doomed else set()
        for run in doomed:
            if run.status is RunStatus.RUNNING:
                plan.spared_running += 1
            elif run.run_id in protected:
                plan.spared_protected += 1
            else:
                plan.runs.append(run)
        plan.kept = len(live) - len(plan.runs)
        return plan

    def _delete(self, plan: RetentionPlan) -> RetentionPlan:
        plan.deleted = self.store.retention.soft_delete([run.run_id for run in plan.runs], now_ms())
        return plan

    def _policy(self, project: Project) -> RetentionPolicy:
        policy = self.store.retention.get(project.id)
        if policy is None:
            raise NotFound(f"project {project.name!r} has no retention policy", field="retention")
        return policy

    def _project(self, project_id: str) -> Project:
        return self.store.projects.get(project_id, stats=False)
