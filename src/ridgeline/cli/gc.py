"""``ridgeline gc``: remove soft-deleted runs for good, with their artifacts."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ridgeline.cli.common import ArtifactsOption, BackendOption, HomeOption, console, human_bytes, user_errors


def gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only report what would be removed and the space freed."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
    artifacts_uri: str | None = ArtifactsOption,
) -> None:
    """Permanently remove deleted runs: their artifacts (on any artifact store) and their metadata."""
    from ridgeline.cli.artifact_services import artifact_service

    with user_errors(), artifact_service(home, backend_uri, artifacts_uri) as service:
        report = service.gc(dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    if report.runs:
        table = Table(title=f"deleted runs {verb}", title_justify="left")
        for column in ("run id", "name", "files", "size"):
            table.add_column(
                column, justify="right" if column in ("files", "size") else "left", no_wrap=column == "run id"
            )
        for usage in report.runs:
            table.add_row(usage.run_id, usage.run_name, str(usage.files), human_bytes(usage.bytes))
        console.print(table)
    for orphan in report.orphans:
        console.print(f"leftover files of removed run {orphan}", highlight=False)
    for usage in report.kept:
        console.print(
            f"kept deleted run {usage.run_id} ({usage.run_name}): a registered model version uses it", highlight=False
        )
    console.print(
        f"{verb} {len(report.runs)} run(s), {report.files_freed} file(s): "
        f"{human_bytes(report.bytes_freed)} {'to free' if dry_run else 'freed'}",
        highlight=False,
    )
    for failure in report.failures:
        console.print(f"[red]not removed:[/] {failure}", highlight=False)
    if report.failures:
        raise typer.Exit(1)
