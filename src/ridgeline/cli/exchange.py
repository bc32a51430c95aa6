"""``ridgeline export`` and ``ridgeline import dir``: a project to and from a folder (docs/export-format.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from ridgeline.cli.common import (
    ArtifactsOption,
    BackendOption,
    HomeOption,
    TrackingOption,
    console,
    human_bytes,
    path_or_none,
    user_errors,
)
from ridgeline.domain.errors import InvalidArgument
from ridgeline.services.artifacts import ArtifactService

import_app = typer.Typer(help="Import runs into this data folder or database: `dir` reads a `ridgeline export` folder.")


def _place(tracking_uri: str | None, home: Path | None, backend_uri: str | None) -> tuple[Path | None, str | None]:
    """--tracking-uri as a data folder or a database URI (a server URL is not supported here yet)."""
    if tracking_uri is None:
        return path_or_none(home), backend_uri
    if tracking_uri.startswith(("http://", "https://")):
        raise InvalidArgument(
            "export and import work on a data folder or database, not a server URL yet: run them where the "
            "server's data lives, with --home or --backend-uri",
            field="tracking-uri",
        )
    if "://" in tracking_uri and not tracking_uri.startswith("file://"):
        return path_or_none(home), tracking_uri
    return Path(tracking_uri.removeprefix("file://")).expanduser(), backend_uri


@contextmanager
def _service(
    tracking_uri: str | None, home: Path | None, backend_uri: str | None, artifacts_uri: str | None
) -> Iterator[ArtifactService]:
    from ridgeline.cli.artifact_services import artifact_service

    folder, database = _place(tracking_uri, home, backend_uri)
    with artifact_service(folder, database, artifacts_uri) as service:
        yield service


@contextmanager
def _bars() -> Iterator[Progress]:
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as bars:
        yield bars


def _reporter(bars: Progress) -> Callable[[str, int, int], None]:
    tasks: dict[str, TaskID] = {}

    def report(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bars.add_task(phase, total=total)
        bars.update(tasks[phase], completed=done)

    return report


def export(
    project: str = typer.Option(..., "--project", help="Name of the project to export."),
    to: Path = typer.Option(..., "--to", help="Folder to write (new or empty)."),
    tracking_uri: str | None = TrackingOption,
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
    artifacts_uri: str | None = ArtifactsOption,
) -> None:
    """Write a project (runs, params, tags, metric histories, datasets, artifacts) to a versioned folder."""
    from ridgeline.services.exchange import export_project

    with user_errors(), _service(tracking_uri, home, backend_uri, artifacts_uri) as service, _bars() as bars:
        summary = export_project(service.store, service.storage, project, to.expanduser(), _reporter(bars))
    counts = summary.counts
    console.print(
        f"exported {summary.project} to {summary.folder}: {counts['runs']} run(s) ({counts['deleted_runs']} deleted), "
        f"{counts['metric_points']} metric point(s) in {counts['metric_series']} series, "
        f"{counts['artifacts']} artifact(s) ({human_bytes(counts['artifact_bytes'])}), "
        f"{counts['dataset_versions']} dataset version(s)",
        highlight=False,
    )


@import_app.command("dir")
def import_dir(
    folder: Path = typer.Argument(..., help="A folder written by `ridgeline export`."),
    tracking_uri: str | None = TrackingOption,
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
    artifacts_uri: str | None = ArtifactsOption,
) -> None:
    """Import an export folder, keeping ids, times, statuses and histories; runs already there are skipped."""
    from ridgeline.services.exchange import import_folder

    with user_errors(), _service(tracking_uri, home, backend_uri, artifacts_uri) as service, _bars() as bars:
        summary = import_folder(service.store, service.storage, folder.expanduser(), _reporter(bars))
    created = " (created)" if summary.project_created else ""
    console.print(
        f"imported into project {summary.project}{created}: {summary.runs_imported} run(s), "
        f"{summary.runs_updated} updated ({summary.points} metric point(s)), {summary.runs_skipped} already there; "
        f"{summary.artifacts_copied} artifact(s) copied, {summary.artifacts_skipped} already there; "
        f"{summary.datasets_created} dataset(s) and {summary.versions_created} version(s) created",
        highlight=False,
    )
    for run_id in summary.skipped_in_other_project:
        console.print(f"[yellow]skipped:[/] run {run_id} exists in another project", highlight=False)
