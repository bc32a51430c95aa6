"""``ridgeline import mlflow``: everything an MLflow installation tracked, written through the exchange sink (runs)
and the registry services (models, registry.py).

Idempotent: a run Ridgeline already holds as the source describes it is skipped after comparing its summary
(no history or artifact is read for it); a run that changed since (it finished, got new points, tags or files)
is brought up to date; nothing is duplicated. docs/import-mlflow.md has the mapping and the limits.
"""

from __future__ import annotations

from pathlib import Path

from ridgeline.domain import validation as v
from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.outbound import OutboundPolicy
from ridgeline.services.exchange.format import Progress, quiet
from ridgeline.services.exchange.records import StoredRun
from ridgeline.services.exchange.sink import Sink
from ridgeline.services.mlflow_import.artifacts import ArtifactAccess, is_http
from ridgeline.services.mlflow_import.database import DatabaseSource
from ridgeline.services.mlflow_import.folder import FolderSource
from ridgeline.services.mlflow_import.mapping import (
    EXPERIMENT_ID_TAG,
    SOURCE_TAG,
    project_data,
    run_data,
    unchanged,
)
from ridgeline.services.mlflow_import.model import Experiment, MlflowSource, RunSummary
from ridgeline.services.mlflow_import.registry import RegistryImport
from ridgeline.services.mlflow_import.server import ServerSource
from ridgeline.services.mlflow_import.summary import MlflowImportSummary
from ridgeline.store.artifacts.storage import ArtifactStorage
from ridgeline.store.metadata import MetadataStore

_DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "mssql", "oracle")


def open_source(uri: str, artifacts_from: str | None = None, outbound: OutboundPolicy | None = None) -> MlflowSource:
    """The source ``uri`` names: a tracking server URL, a database URI or an mlruns folder. ``outbound``: the policy
    HTTP requests follow (services/outbound.py); None, the one ``RIDGELINE_OUTBOUND_ALLOW`` sets now."""
    if is_http(uri):
        if artifacts_from is not None:
            raise InvalidArgument(
                "--artifacts-from is for a database or folder source; a server serves its own", field="artifacts-from"
            )
        return ServerSource(uri, outbound)
    scheme = uri.partition("://")[0].partition("+")[0].lower() if "://" in uri else ""
    if scheme and scheme != "file":
        if scheme not in _DATABASE_SCHEMES:
            raise InvalidArgument(
                f"{uri!r} is no kind of MLflow URI known here: give a tracking server URL (http://…), a database "
                "URI (sqlite:///…, postgresql://…, mysql://…) or an mlruns folder",
                field="from",
            )
        return DatabaseSource(uri, ArtifactAccess.given(artifacts_from, outbound))
    folder = Path(uri.removeprefix("file://") if scheme else uri.removeprefix("file:")).expanduser()
    return FolderSource(folder, ArtifactAccess.given(artifacts_from, outbound))


def import_mlflow(
    store: MetadataStore,
    storage: ArtifactStorage,
    source: MlflowSource,
    *,
    project_prefix: str = "",
    dry_run: bool = False,
    progress: Progress = quiet,
) -> MlflowImportSummary:
    """Import every experiment, run, logged and registered model of ``source``; with ``dry_run``, count what would
    change and write nothing."""
    sink = Sink(store, storage)
    summary = MlflowImportSummary(source=source.label, dry_run=dry_run)
    registry = RegistryImport(sink, source, summary)
    experiments = source.experiments()
    done = total = 0
    for index, experiment in enumerate(experiments, 1):
        progress("experiments", index, len(experiments))
        name = project_prefix + experiment.name
        try:
            v.check_name(name, "project")
        except InvalidArgument as exc:
            summary.problems.append(f"experiment {experiment.id}: {exc.message}; skipped")
            continue
        summary.experiments += 1
        project_id = _project(sink, experiment, name, source.label, summary)
        runs = list(source.runs(experiment))
        total += len(runs)
        stored = sink.stored_runs([run.id for run in runs])
        for run in runs:
            _import_run(sink, source, project_id, run, stored.get(run.id), summary)
            done += 1
            progress("runs", done, total)
        registry.logged_models(source.logged_models(experiment), project_id)
    registry.registered_models()
    return summary


def _project(sink: Sink, experiment: Experiment, name: str, label: str, summary: MlflowImportSummary) -> str | None:
    """The id of the experiment's project: the one of that name, else the one an earlier import of this
    experiment from this source made (the experiment was renamed since), else a new one (None in a dry run)."""
    data = project_data(experiment, name, label)
    project = sink.find_project(name)
    if project is None:
        earlier = sink.store.projects.with_tag(EXPERIMENT_ID_TAG, experiment.id)
        tags = sink.store.projects.tags([p.id for p in earlier])
        project = next((p for p in earlier if tags[p.id].get(SOURCE_TAG) == label), None)
    if project is None:
        summary.projects_created += 1
        return None if summary.dry_run else sink.create_project(data)
    if not summary.dry_run:
        sink.update_project(project, data)
    return project.id


def _import_run(
    sink: Sink,
    source: MlflowSource,
    project_id: str | None,
    run: RunSummary,
    stored: StoredRun | None,
    summary: MlflowImportSummary,
) -> None:
    try:
        v.check_id(run.id, "run_id")
    except InvalidArgument as exc:
        summary.problems.append(f"run {run.id!r}: {exc.message}; skipped")
        return
    if stored is not None and stored.record.project_id != project_id:
        summary.runs_elsewhere += 1
        summary.problems.append(f"run {run.id}: exists in another Ridgeline project; left alone")
        return
    if stored is not None and unchanged(run, stored):
        summary.runs_unchanged += 1
        return
    if project_id is None or summary.dry_run:
        summary.runs_new += stored is None
        summary.runs_updated += stored is not None
        return
    artifacts = source.artifacts(run)
    outcome = sink.write_run(project_id, run_data(run, source.histories(run)), artifacts.files, artifacts.problems)
    summary.add(f"run {run.id}", outcome)
