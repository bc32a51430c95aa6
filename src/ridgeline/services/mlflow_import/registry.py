"""The registry part of ``ridgeline import mlflow``, through Ridgeline's registry services: MLflow 3 logged models
(their files become their run's artifacts under ``models/<model id>/``, where Ridgeline keeps a logged model's
package), registered models with their description and tags, versions with their own numbers, times, sources,
runs, statuses, stages and tags, and aliases.

Idempotent like the rest: what exists is left or brought up to date (new tags, a changed description, a moved
alias), never duplicated. A version whose run or logged model Ridgeline lacks is reported and left out.
"""

from __future__ import annotations

from dataclasses import replace

from ridgeline.domain.entities import RunRecord
from ridgeline.domain.errors import NotFound, RidgelineError
from ridgeline.domain.registry import (
    LoggedModel,
    LoggedModelStatus,
    ModelVersion,
    RegisteredModel,
    VersionStatus,
    check_model_name,
)
from ridgeline.services.exchange.sink import Sink
from ridgeline.services.logged_models import FOLDER, LoggedModelService
from ridgeline.services.mlflow_import.model import LoggedModelInfo, MlflowSource, RegisteredModelInfo, VersionInfo
from ridgeline.services.mlflow_import.summary import MlflowImportSummary
from ridgeline.services.registry import RegistryService, VersionSpec
from ridgeline.services.tracking import TrackingService

_VERSION_STATUS = {
    "READY": VersionStatus.READY,
    "PENDING_REGISTRATION": VersionStatus.PENDING,
    "FAILED_REGISTRATION": VersionStatus.FAILED,
}


class RegistryImport:
    def __init__(self, sink: Sink, source: MlflowSource, summary: MlflowImportSummary) -> None:
        self.sink = sink
        self.source = source
        self.summary = summary
        self.logged = LoggedModelService(sink.store, TrackingService(sink.store))
        self.registry = RegistryService(sink.store)

    # logged models ------------------------------------------------------------------------------------------

    def logged_models(self, models: list[LoggedModelInfo], project_id: str | None) -> None:
        """Import an experiment's logged models into its project (after its runs: a model belongs to one)."""
        runs = self.sink.store.runs.get_many([model.run_id for model in models if model.run_id])
        for model in models:
            try:
                existing: LoggedModel | None = self.logged.get(model.id)
            except NotFound:
                existing = None
            except RidgelineError as exc:
                self.summary.problems.append(f"logged model {model.id!r}: {exc.message}; skipped")
                continue
            if existing is None:
                self.summary.logged_models += 1
                if project_id is not None and not self.summary.dry_run:
                    self._create_logged(model, project_id, runs.get(model.run_id or ""))
            elif not self.summary.dry_run:
                self._update_logged(model, existing)

    def _create_logged(self, model: LoggedModelInfo, project_id: str, run: RunRecord | None) -> None:
        # Its run's files come first, so an interrupted import leaves no logged model without its package.
        run_id = run.id if run is not None and run.project_id == project_id else None
        if run_id is not None:
            self._copy_files(model, run_id)
        created = self.logged.create(
            project_id,
            model.name,
            run_id=run_id,
            params=model.params,
            tags=model.tags,
            model_type=model.model_type,
            model_id=model.id,
            created_at=model.created,
        )
        if run_id is None:
            # The service made a run to hold the package of a model logged outside any run.
            self._copy_files(model, created.run_id)
        self.logged.finalize(model.id, LoggedModelStatus(model.status))

    def _update_logged(self, model: LoggedModelInfo, existing: LoggedModel) -> None:
        fresh = {key: value for key, value in model.tags.items() if existing.tags.get(key) != value}
        if fresh:
            self.logged.set_tags(model.id, fresh)
        if existing.status.value != model.status:
            self.logged.finalize(model.id, LoggedModelStatus(model.status))
        if not self.sink.store.artifacts.files(existing.run_id, f"{existing.artifact_path}/"):
            # An earlier import stopped between the record and the files of a model logged outside any run.
            self._copy_files(model, existing.run_id)

    def _copy_files(self, model: LoggedModelInfo, run_id: str) -> None:
        found = self.source.model_files(model)
        files = [replace(item, path=f"{FOLDER}/{model.id}/{item.path}") for item in found.files]
        outcome = self.sink.add_artifacts(run_id, files)
        outcome.problems[:0] = found.problems
        self.summary.add_files(f"logged model {model.id}", outcome)

    # registered models --------------------------------------------------------------------------------------

    def registered_models(self) -> None:
        for model in self.source.registered_models():
            try:
                check_model_name(model.name)
                self._registered_model(model)
            except RidgelineError as exc:
                self.summary.problems.append(f"registered model {model.name!r}: {exc.message}")

    def _registered_model(self, model: RegisteredModelInfo) -> None:
        try:
            existing: RegisteredModel | None = self.registry.get_model(model.name)
        except NotFound:
            existing = None
        held = {} if existing is None else {v.version: v for v in self.registry.versions(model.name)}
        moved = {alias: n for alias, n in model.aliases.items() if existing is None or existing.aliases.get(alias) != n}
        if self.summary.dry_run:
            self.summary.models += existing is None
            self.summary.model_versions += sum(1 for version in model.versions if version.version not in held)
            self.summary.aliases += len(moved)
            return
        if existing is None:
            self.registry.create_model(
                model.name, description=model.description, tags=model.tags, created_at=model.created
            )
            self.summary.models += 1
        else:
            if existing.description != model.description:
                self.registry.update_model(model.name, description=model.description)
            for key, value in model.tags.items():
                if existing.tags.get(key) != value:
                    self.registry.set_model_tag(model.name, key, value)
        for version in model.versions:
            try:
                if version.version in held:
                    self._update_version(model.name, version, held[version.version])
                else:
                    self._create_version(model.name, version)
                    self.summary.model_versions += 1
            except RidgelineError as exc:
                self.summary.problems.append(
                    f"registered model {model.name!r} version {version.version}: {exc.message}"
                )
        for alias, number in moved.items():
            try:
                self.registry.set_alias(model.name, alias, number, at=model.updated)
                self.summary.aliases += 1
            except RidgelineError as exc:
                self.summary.problems.append(f"registered model {model.name!r} alias {alias!r}: {exc.message}")

    def _create_version(self, name: str, version: VersionInfo) -> None:
        spec = VersionSpec(
            source=version.source,
            run_id=version.run_id,
            logged_model_id=version.model_id,
            description=version.description,
            tags=version.tags,
            status=_VERSION_STATUS.get(version.status, VersionStatus.READY),
            version=version.version,
            created_at=version.created,
            stage=version.stage,
        )
        self.registry.create_version(name, spec, user=version.user)

    def _update_version(self, name: str, version: VersionInfo, held: ModelVersion) -> None:
        if held.description != version.description:
            self.registry.update_version(name, version.version, description=version.description)
        for key, value in version.tags.items():
            if held.tags.get(key) != value:
                self.registry.set_version_tag(name, version.version, key, value)
