"""``ridgeline export`` and ``ridgeline import dir``: a project to and from a folder (docs/export-format.md);
``ridgeline import mlflow``: everything an MLflow installation tracked (docs/import-mlflow.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

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

if TYPE_CHECKING:
    from ridgeline.services.artifacts import ArtifactService
    from ridgeline.services.mlflow_import import MlflowImportSummary

import_app = typer.Typer(
    help="Import runs into this data folder or database: `dir` reads a `ridgeline export` folder, `mlflow` an MLflow "
    "server, database or mlruns folder."
)


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
        # Totals may grow: the MLflow importer counts an experiment's runs when it reaches the experiment.
        bars.update(tasks[phase], completed=done, total=total)

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


@import_app.command("mlflow")
def import_mlflow(
    source: str = typer.Option(
        ...,
        "--from",
        help="An MLflow tracking server URL, its database URI (sqlite:///…, postgresql://…) or an mlruns folder.",
    ),
    artifacts_from: str | None = typer.Option(
        None,
        "--artifacts-from",
        help="For a database or folder source: where its mlflow-artifacts: URIs are read, the MLflow server's URL or "
        "the folder or bucket it was given as --artifacts-destination.",
    ),
    project_prefix: str = typer.Option("", "--project-prefix", help="Put before each experiment's name."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be imported, and write nothing."),
    tracking_uri: str | None = TrackingOption,
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
    artifacts_uri: str | None = ArtifactsOption,
) -> None:
    """Import experiments, runs (params, tags, metric histories, datasets, artifacts) and the model registry
    (logged models, registered models, versions, aliases) from MLflow; rerunning brings only what is new."""
    from ridgeline.services import mlflow_import

    with user_errors():
        # The source is checked before the target is opened: a wrong --from leaves nothing behind.
        reader = mlflow_import.open_source(source, artifacts_from)
        try:
            with _service(tracking_uri, home, backend_uri, artifacts_uri) as service, _bars() as bars:
                summary = mlflow_import.import_mlflow(
                    service.store,
                    service.storage,
                    reader,
                    project_prefix=project_prefix,
                    dry_run=dry_run,
                    progress=_reporter(bars),
                )
        finally:
            reader.close()
    _print_mlflow_summary(summary)


def _print_mlflow_summary(summary: MlflowImportSummary) -> None:
    heading = "dry run, nothing written: would import" if summary.dry_run else "imported"
    console.print(f"{heading} from {summary.source}", highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("experiments", summary.experiments),
        ("projects created", summary.projects_created),
        ("runs new", summary.runs_new),
        ("runs updated", summary.runs_updated),
        ("runs unchanged", summary.runs_unchanged),
        ("runs in another project", summary.runs_elsewhere),
        ("metric points", summary.points),
        ("artifact files", summary.artifacts_copied),
        ("artifact bytes", human_bytes(summary.artifact_bytes)),
        ("datasets created", summary.datasets_created),
        ("dataset versions created", summary.versions_created),
        ("logged models", summary.logged_models),
        ("registered models", summary.models),
        ("model versions", summary.model_versions),
        ("aliases set", summary.aliases),
        ("problems", len(summary.problems)),
    ]
    for name, count in rows:
        table.add_row(name, str(count))
    console.print(table)
    for problem in summary.problems:
        console.print(f"[yellow]problem:[/] {problem}", highlight=False, soft_wrap=True)
