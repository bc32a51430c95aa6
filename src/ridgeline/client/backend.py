"""The SDK's transport interface, with two implementations side by side: ``local`` and ``http``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

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

if TYPE_CHECKING:
    from ridgeline.client.monitoring_transport import MonitoringTransport


class MonitoringBackend(Protocol):
    @property
    def monitoring(self) -> MonitoringTransport:
        """The monitors of this data folder or server (``ridgeline.monitoring``'s functions)."""
        ...


class RegistryBackend(Protocol):
    """What ``ridgeline.Client`` needs of the model registry. Writes are recorded as the caller (the server's
    principal, or the operating-system user when embedded)."""

    def create_model(self, name: str, description: str, tags: dict[str, str] | None) -> RegisteredModel: ...

    def get_model(self, name: str) -> RegisteredModel: ...

    def search_models(self, filter: str | None, order_by: list[str] | None) -> list[RegisteredModel]: ...

    def set_model_tag(self, name: str, key: str, value: str) -> RegisteredModel: ...

    def create_model_version(
        self, name: str, source: str, run_id: str | None, description: str, tags: dict[str, str] | None
    ) -> ModelVersion: ...

    def get_model_version(self, name: str, version: int | str) -> ModelVersion: ...

    def get_model_versions(self, name: str) -> list[ModelVersion]:
        """Newest first."""
        ...

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: str) -> ModelVersion: ...

    def set_model_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        """Point ``alias`` at ``version``; returns that version."""
        ...

    def delete_model_alias(self, name: str, alias: str) -> None: ...

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...

    def alias_history(self, name: str, alias: str | None) -> list[AliasEvent]: ...

    def resolve_model(self, uri: str) -> ModelVersion: ...

    def record_evaluation(self, name: str, spec: EvaluationSpec) -> EvaluationResult:
        """Store an evaluation's metrics (the candidate's and the alias holder's) under one evaluation id."""
        ...

    def get_evaluation(self, name: str, evaluation_id: str) -> EvaluationResult: ...

    def version_evaluations(self, name: str, version: int, limit: int) -> list[ModelEvaluation]:
        """Newest first."""
        ...

    def promote_model(self, name: str, version: int, alias: str, require: list[str]) -> PromotionResult:
        """Move the alias if every rule passes; ``PromotionRefused`` (naming the failed rule) otherwise."""
        ...

    def rollback_model(self, name: str, alias: str) -> PromotionResult: ...

    def version_lineage(self, name: str, version: int) -> VersionLineage: ...

    def dataset_version_models(self, version_id: str) -> list[ModelVersion]:
        """Every model version whose run used the dataset version."""
        ...

    def resolve_dataset_version(self, name: str, version: str | None) -> DatasetVersion:
        """A version of ``name`` by id or digest prefix; None: the newest."""
        ...


class TrackingBackend(RegistryBackend, MonitoringBackend, Protocol):
    """What the SDK needs from wherever runs are kept. Errors are :class:`RidgelineError` subclasses;
    :class:`Unavailable` means "try again later" and is the only one the background sender retries."""

    def create_run(
        self,
        project: str,
        run_id: str,
        name: str | None,
        user: str,
        start_time: int,
        parent_run_id: str | None,
    ) -> RunRecord: ...

    def get_run(self, run_id: str) -> RunRecord: ...

    def resume_run(self, run_id: str) -> RunRecord: ...

    def finish_run(self, run_id: str, status: str, end_time: int) -> RunRecord: ...

    def log_batch(self, run_id: str, batch: LogBatch) -> list[dict[str, str]]:
        """Apply a batch (exactly once per batch id); returns the params that conflicted."""
        ...

    def get_project(self, name: str) -> Project: ...

    def get_project_by_id(self, project_id: str) -> Project: ...

    def list_projects(self) -> list[Project]: ...

    def search_runs(
        self,
        projects: list[str],
        filter: str | None,
        order_by: list[str] | None,
        limit: int,
        cursor: str | None,
    ) -> RunPage: ...

    def metric_history(
        self, run_id: str, key: str, min_step: int | None, max_step: int | None, points: int | None
    ) -> MetricHistory: ...

    def upload_artifact(self, run_id: str, path: str, source: Path | bytes) -> ArtifactFile:
        """Store a file (streamed, constant memory) or bytes as the run's artifact ``path``."""
        ...

    def list_artifacts(self, run_id: str, prefix: str) -> list[ArtifactFile]:
        """The run's files whose path starts with ``prefix`` (empty: all), by path."""
        ...

    def download_artifact(self, run_id: str, path: str, destination: Path) -> None:
        """Write the artifact to ``destination`` (streamed; the sha256 checked before it appears there)."""
        ...

    def log_dataset_input(self, run_id: str, name: str, context: str, version: dict[str, Any]) -> DatasetVersion:
        """Record that the run used this content of dataset ``name`` (``version``: services/dataset_description.py's
        description as JSON); the same content is always the same version."""
        ...

    def run_inputs(self, run_id: str) -> list[RunInput]:
        """The run's dataset inputs in the order recorded, each version with its profile."""
        ...

    def mark_dataset_ready(self, name: str, version: str | None, ready: bool) -> DatasetVersion:
        """Mark a version of ``name`` (id or digest prefix; None: the latest) ready for modelling, or not."""
        ...

    def close(self) -> None: ...
