"""``ridgeline storage``: artifact storage used per project and per run."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ridgeline.cli.common import ArtifactsOption, BackendOption, HomeOption, console, human_bytes, user_errors
from ridgeline.domain.errors import NotFound


def storage(
    project: list[str] = typer.Option(None, "--project", "-p", help="Show only these projects (repeatable)."),
    runs: int = typer.Option(10, "--runs", "-n", help="Largest runs listed per project (0: none)."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
    artifacts_uri: str | None = ArtifactsOption,
) -> None:
    """Artifact storage used per project, and by its largest runs (deleted runs hold space until `gc`)."""
    from ridgeline.cli.artifact_services import artifact_service

    with user_errors(), artifact_service(home, backend_uri, artifacts_uri) as service:
        projects = service.store.projects.list_projects()
        chosen = [item for item in projects if not project or item.name in project]
        missing = set(project or []) - {item.name for item in chosen}
        if missing:
            raise NotFound(f"no project named {', '.join(sorted(missing))}", field="project")
        usage = {item.id: service.project_usage(item.id) for item in chosen}
    totals = Table(title="artifact storage per project", title_justify="left")
    for column in ("project", "runs", "files", "size"):
        totals.add_column(column, justify="left" if column == "project" else "right")
    for item in chosen:
        rows = usage[item.id]
        totals.add_row(
            item.name, str(len(rows)), str(sum(r.files for r in rows)), human_bytes(sum(r.bytes for r in rows))
        )
    console.print(totals)
    for item in chosen:
        largest = sorted((r for r in usage[item.id] if r.files), key=lambda r: -r.bytes)[:runs]
        if not largest:
            continue
        table = Table(title=f"largest runs in {item.name}", title_justify="left")
        for column in ("run id", "name", "files", "size", "deleted"):
            table.add_column(
                column, justify="right" if column in ("files", "size") else "left", no_wrap=column == "run id"
            )
        for r in largest:
            deleted = "yes" if r.deleted_at is not None else ""
            table.add_row(r.run_id, r.run_name, str(r.files), human_bytes(r.bytes), deleted)
        console.print(table)
