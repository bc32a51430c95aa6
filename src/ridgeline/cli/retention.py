"""``ridgeline retention``: set, show and clear a project's retention policy, and apply policies (or preview them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from ridgeline.cli.common import ArtifactsOption, BackendOption, HomeOption, console, human_bytes, user_errors
from ridgeline.domain.entities import Project
from ridgeline.domain.errors import NotFound

if TYPE_CHECKING:
    # The services pull in the metadata store (SQLAlchemy); every other command would pay for importing it.
    from ridgeline.services.artifacts import ArtifactService
    from ridgeline.services.retention import RetentionPlan, RetentionService
    from ridgeline.store.retention import RetentionPolicy

app = typer.Typer(help="Retention policies: delete runs older than N days and/or beyond the newest N, per project.")


@contextmanager
def _services(
    home: Path | None, backend_uri: str | None, artifacts_uri: str | None
) -> Iterator[tuple[RetentionService, ArtifactService]]:
    from ridgeline.cli.artifact_services import artifact_service
    from ridgeline.services.retention import RetentionService

    with user_errors(), artifact_service(home, backend_uri, artifacts_uri) as artifacts:
        yield RetentionService(artifacts.store), artifacts


def _project(service: RetentionService, name: str) -> Project:
    project = service.store.projects.find_by_name(name, stats=False)
    if project is None:
        raise NotFound(f"project {name!r} does not exist", field="project")
    return project


def _rules(policy: RetentionPolicy) -> str:
    parts = []
    if policy.max_age_days is not None:
        parts.append(f"older than {policy.max_age_days} day(s) go")
    if policy.keep_last is not None:
        parts.append(f"the newest {policy.keep_last} stay")
    return "; ".join(parts)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


@app.command("set")
def set_policy(
    project: str = typer.Argument(..., help="Project name."),
    max_age_days: int | None = typer.Option(None, "--max-age-days", help="Runs started more than N days ago go."),
    keep_last: int | None = typer.Option(None, "--keep-last", help="The newest N runs always stay."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
    artifacts_uri: str | None = ArtifactsOption,
) -> None:
    """Set (replace) a project's policy; give --max-age-days, --keep-last or both."""
    from ridgeline.client.identity import current_user

    with _services(home, backend_uri, artifacts_uri) as (service, _):
        found = _project(service, project)
        policy = service.set_policy(found.id, max_age_days=max_age_days, keep_last=keep_last, by=current_user())
    console.print(f"retention policy of {found.name}: {_rules(policy)}", highlight=False)


@app.command("show")
def show(
    project: str | None = typer.Argument(None, help="Project name (default: every project with a policy)."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
    artifacts_uri: str | None = ArtifactsOption,
) -> None:
    """Show the policy of one project, or of every project that has one."""
    with _services(home, backend_uri, artifacts_uri) as (service, _):
        if project is None:
            policies = service.policies()
        else:
            found = _project(service, project)
            policies = [(found, service.get_policy(found.id))]
    if not policies:
        console.print("no project has a retention policy")
        return
    table = Table(title="retention policies", title_justify="left")
    for column in ("project", "max age (days)", "keep last", "updated", "by"):
        table.add_column(column)
    for item, policy in policies:
        table.add_row(
            item.name,
            "" if policy.max_age_days is None else str(policy.max_age_days),
            "" if policy.keep_last is None else str(policy.keep_last),
            _when(policy.updated_at),
            policy.updated_by,
        )
    console.print(table)


@app.command("clear")
def clear(
    project: str = typer.Argument(..., help="Project name."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
    artifacts_uri: str | None = ArtifactsOption,
) -> None:
    """Remove a project's policy (its runs are not touched)."""
    with _services(home, backend_uri, artifacts_uri) as (service, _):
        found = _project(service, project)
        cleared = service.clear_policy(found.id)
    console.print(f"{found.name}: {'policy removed' if cleared else 'had no policy'}", highlight=False)


@app.command("apply")
def apply(
    project: str | None = typer.Argument(None, help="Project name (default: every project with a policy)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only report what would go and the space it frees."),
    run_gc: bool = typer.Option(False, "--gc", help="Then run `ridgeline gc` to free the space at once."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
    artifacts_uri: str | None = ArtifactsOption,
) -> None:
    """Soft-delete the runs the policies name; `ridgeline gc` (or --gc) then frees their artifacts."""
    with _services(home, backend_uri, artifacts_uri) as (service, artifacts):
        if project is None:
            plans = service.apply_all(dry_run=dry_run)
        else:
            plans = [service.apply(_project(service, project).id, dry_run=dry_run)]
        for plan in plans:
            _print_plan(plan)
        if not plans:
            console.print("no project has a retention policy")
            return
        total = sum(plan.bytes for plan in plans)
        if dry_run:
            count = sum(len(plan.runs) for plan in plans)
            console.print(f"would delete {count} run(s), freeing {human_bytes(total)}", highlight=False)
            return
        deleted = sum(plan.deleted for plan in plans)
        console.print(f"deleted {deleted} run(s) holding {human_bytes(total)}", highlight=False)
        if not run_gc:
            console.print("run `ridgeline gc` to free the space (the runs can be restored until then)")
            return
        report = artifacts.gc()
    # gc removes every soft-deleted run, not only the ones retention just deleted: say what it did.
    console.print(
        f"gc removed {len(report.runs)} run(s), {report.files_freed} file(s): {human_bytes(report.bytes_freed)} freed",
        highlight=False,
    )
    for failure in report.failures:
        console.print(f"[red]not removed:[/] {failure}", highlight=False)
    if report.failures:
        raise typer.Exit(1)


def _print_plan(plan: RetentionPlan) -> None:
    verb = "would delete" if plan.dry_run else "deleted"
    spared = []
    if plan.spared_running:
        spared.append(f"{plan.spared_running} running")
    if plan.spared_protected:
        spared.append(f"{plan.spared_protected} protected")
    note = f" (spared: {', '.join(spared)})" if spared else ""
    heading = f"{plan.project.name}: {_rules(plan.policy)} — {verb} {len(plan.runs)} run(s), {plan.kept} kept{note}"
    # A line of its own rather than the table's title: a title wraps at the table's width.
    console.print(heading, highlight=False)
    if not plan.runs:
        return
    table = Table()
    for column in ("run id", "name", "started", "files", "size"):
        table.add_column(column, justify="right" if column in ("files", "size") else "left", no_wrap=column == "run id")
    for run in plan.runs:
        table.add_row(run.run_id, run.name, _when(run.start_time), str(run.files), human_bytes(run.bytes))
    table.add_row("", "total", "", str(plan.files), human_bytes(plan.bytes), style="bold")
    console.print(table)
