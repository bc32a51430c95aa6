"""The embedded backend: the SDK writes straight into a data folder (or database) in-process.

``ridgeline server`` started on the same folder shows these runs; SQLite's WAL mode lets several training
processes and a server share the folder.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ridgeline.client.identity import current_user
from ridgeline.config import Settings
from ridgeline.domain import columns
from ridgeline.domain.entities import (
    ArtifactFile,
    DatasetVersion,
    LogBatch,
    MetricHistory,
    Project,
    RunInput,
    RunPage,
    RunRecord,
)
from ridgeline.domain.promotion import (
    EvaluationResult,
    EvaluationSpec,
    ModelEvaluation,
    PromotionResult,
    VersionLineage,
)
from ridgeline.domain.registry import AliasEvent, ModelVersion, RegisteredModel
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store.metadata import MetadataStore

if TYPE_CHECKING:
    from ridgeline.client.monitoring_transport import MonitoringTransport
    from ridgeline.services.artifacts import ArtifactService
    from ridgeline.services.datasets import DatasetService
    from ridgeline.services.registry import RegistryService
    from ridgeline.services.registry_gate import RegistryGate

_CHUNK = 8 * 1024 * 1024
_stores: dict[str, MetadataStore] = {}
_stores_lock = threading.Lock()


def _shared_store(uri: str) -> MetadataStore:
    """One store (engine and pool) per database per process, however many runs and clients use it."""
    with _stores_lock:
        store = _stores.get(uri)
        if store is None:
            store = _stores[uri] = MetadataStore(uri)
        return store


def _artifacts_location(database_uri: str) -> str:
    """Where an embedded run keeps artifacts: the ``artifacts_uri`` setting, else beside a SQLite file (the data
    folder's ``artifacts``, where ``ridgeline server`` on that folder looks), else the data folder's."""
    settings = Settings.load()
    if settings.artifacts_uri:
        return settings.artifacts_uri
    if database_uri.startswith("sqlite:///"):
        return str(Path(database_uri.removeprefix("sqlite:///")).parent / "artifacts")
    return settings.artifacts_location


def _prediction_log(database_uri: str) -> Path:
    """Where model servers on this data folder log predictions (``ridgeline serve``'s default)."""
    if database_uri.startswith("sqlite:///"):
        return Path(database_uri.removeprefix("sqlite:///")).parent / "predictions"
    return Settings.load().prediction_log


class LocalBackend:
    def __init__(self, database_uri: str) -> None:
        self.uri = database_uri
        self.service = TrackingService(_shared_store(database_uri))
        self._artifacts: ArtifactService | None = None

    @property
    def artifacts(self) -> ArtifactService:
        """Built on first use: a run that logs no artifact never imports or touches the artifact store."""
        if self._artifacts is None:
            from ridgeline.services.artifacts import ArtifactService
            from ridgeline.store.artifacts.storage import open_storage

            location = _artifacts_location(self.uri)
            limit = Settings.load().max_artifact_size
            self._artifacts = ArtifactService(self.service.store, open_storage(location), limit)
        return self._artifacts

    @property
    def monitoring(self) -> MonitoringTransport:
        from ridgeline.client.monitoring_transport import LocalMonitoring
        from ridgeline.services.monitoring.service import MonitoringService
        from ridgeline.store.monitoring_events import MonitoringEvents

        service = MonitoringService(self.service.store, MonitoringEvents(self.artifacts.storage))
        return LocalMonitoring(service, str(_prediction_log(self.uri)), current_user())

    def create_run(
        self,
        project: str,
        run_id: str,
        name: str | None,
        user: str,
        start_time: int,
        parent_run_id: str | None,
    ) -> RunRecord:
        spec = RunSpec(
            run_id=run_id,
            name=name,
            user=user,
            start_time=start_time,
            parent_run_id=parent_run_id,
        )
        return self.service.create_run(spec, project_name=project)

    def get_run(self, run_id: str) -> RunRecord:
        return self.service.get_run(run_id)

    def resume_run(self, run_id: str) -> RunRecord:
        return self.service.resume_run(run_id)

    def finish_run(self, run_id: str, status: str, end_time: int) -> RunRecord:
        return self.service.finish_run(run_id, status, end_time)

    def log_batch(self, run_id: str, batch: LogBatch) -> list[dict[str, str]]:
        return self.service.log_batch(run_id, batch).conflicts

    def get_project(self, name: str) -> Project:
        return self.service.get_project_by_name(name)

    def get_project_by_id(self, project_id: str) -> Project:
        return self.service.get_project(project_id)

    def list_projects(self) -> list[Project]:
        return self.service.list_projects()

    def search_runs(
        self,
        projects: list[str],
        filter: str | None,
        order_by: list[str] | None,
        limit: int,
        cursor: str | None,
    ) -> RunPage:
        ids = self.service.project_ids(projects)
        return self.service.search_runs(ids, filter=filter, order_by=order_by, limit=limit, cursor=cursor)

    def metric_history(
        self, run_id: str, key: str, min_step: int | None, max_step: int | None, points: int | None
    ) -> MetricHistory:
        history = self.service.metric_history(run_id, key, min_step=min_step, max_step=max_step, points=points)
        return columns.as_arrays(history)

    def upload_artifact(self, run_id: str, path: str, source: Path | bytes) -> ArtifactFile:
        if isinstance(source, bytes):
            return self.artifacts.upload(run_id, path, [source])
        with open(source, "rb") as handle:
            return self.artifacts.upload(run_id, path, iter(lambda: handle.read(_CHUNK), b""))

    def list_artifacts(self, run_id: str, prefix: str) -> list[ArtifactFile]:
        return self.artifacts.list_files(run_id, prefix)

    def download_artifact(self, run_id: str, path: str, destination: Path) -> None:
        import hashlib

        record = self.artifacts.info(run_id, path)
        digest = hashlib.sha256()
        partial = destination.with_name(f".{destination.name}.part")
        with open(partial, "wb") as out:
            for chunk in self.artifacts.read(run_id, path):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != record.sha256:
            partial.unlink()
            raise OSError(f"artifact {path!r} of run {run_id} does not match its recorded sha256")
        os.replace(partial, destination)

    def log_dataset_input(self, run_id: str, name: str, context: str, version: dict[str, Any]) -> DatasetVersion:
        return self._datasets.log_input(run_id, name, context, version, current_user())

    def run_inputs(self, run_id: str) -> list[RunInput]:
        # inputs_of_runs lists nothing for an unknown run; NotFound must come from here, as from the server.
        self.service.get_run(run_id)
        return self._datasets.inputs_of_runs([run_id])[run_id]

    def mark_dataset_ready(self, name: str, version: str | None, ready: bool) -> DatasetVersion:
        found = self._datasets.resolve_version(name, version)
        return self._datasets.mark_ready(found.id, current_user(), ready)

    @property
    def _datasets(self) -> DatasetService:
        from ridgeline.services.datasets import DatasetService

        return DatasetService(self.service.store)

    @property
    def _registry(self) -> RegistryService:
        from ridgeline.services.registry import RegistryService

        return RegistryService(self.service.store, self.artifacts)

    def create_model(self, name: str, description: str, tags: dict[str, str] | None) -> RegisteredModel:
        return self._registry.create_model(name, description=description, tags=tags, owner=current_user())

    def get_model(self, name: str) -> RegisteredModel:
        return self._registry.get_model(name)

    def search_models(self, filter: str | None, order_by: list[str] | None) -> list[RegisteredModel]:
        return self._registry.search_models(filter, order_by)

    def set_model_tag(self, name: str, key: str, value: str) -> RegisteredModel:
        self._registry.set_model_tag(name, key, value)
        return self._registry.get_model(name)

    def create_model_version(
        self, name: str, source: str, run_id: str | None, description: str, tags: dict[str, str] | None
    ) -> ModelVersion:
        from ridgeline.services.registry import VersionSpec

        spec = VersionSpec(source=source, run_id=run_id, description=description, tags=tags)
        return self._registry.create_version(name, spec, user=current_user())

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self._registry.get_version(name, version)

    def get_model_versions(self, name: str) -> list[ModelVersion]:
        return self._registry.versions(name)

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: str) -> ModelVersion:
        self._registry.set_version_tag(name, version, key, value)
        return self._registry.get_version(name, version)

    def set_model_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        self._registry.set_alias(name, alias, version, user=current_user())
        return self._registry.get_version_by_alias(name, alias)

    def delete_model_alias(self, name: str, alias: str) -> None:
        self._registry.delete_alias(name, alias, user=current_user())

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._registry.get_version_by_alias(name, alias)

    def alias_history(self, name: str, alias: str | None) -> list[AliasEvent]:
        return self._registry.alias_history(name, alias)

    def resolve_model(self, uri: str) -> ModelVersion:
        return self._registry.resolve(uri)

    @property
    def _gate(self) -> RegistryGate:
        from ridgeline.services.registry_gate import RegistryGate

        return RegistryGate(self.service.store)

    def record_evaluation(self, name: str, spec: EvaluationSpec) -> EvaluationResult:
        return self._gate.record_evaluation(name, spec, user=current_user())

    def get_evaluation(self, name: str, evaluation_id: str) -> EvaluationResult:
        return self._gate.get_evaluation(name, evaluation_id)

    def version_evaluations(self, name: str, version: int, limit: int) -> list[ModelEvaluation]:
        return self._gate.evaluations(name, version, limit)

    def promote_model(self, name: str, version: int, alias: str, require: list[str]) -> PromotionResult:
        return self._gate.promote(name, version, alias, require, user=current_user())

    def rollback_model(self, name: str, alias: str) -> PromotionResult:
        return self._gate.rollback(name, alias, user=current_user())

    def version_lineage(self, name: str, version: int) -> VersionLineage:
        return self._gate.version_lineage(name, version)

    def dataset_version_models(self, version_id: str) -> list[ModelVersion]:
        return self._gate.versions_trained_on(version_id)

    def resolve_dataset_version(self, name: str, version: str | None) -> DatasetVersion:
        return self._datasets.resolve_version(name, version)

    def close(self) -> None:
        """Stores are shared per process and closed at exit; nothing to release per client."""
