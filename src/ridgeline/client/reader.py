"""``ridgeline.Client``: reading runs back (with their artifact listings and dataset inputs), and the model registry,
from a server or the local data folder."""

from __future__ import annotations

from types import TracebackType

from ridgeline.client.resolve import backend_for
from ridgeline.config import Settings
from ridgeline.domain import validation as v
from ridgeline.domain.entities import ArtifactFile, DatasetVersion, MetricHistory, Project, RunInput, RunPage, RunRecord
from ridgeline.domain.promotion import (
    EvaluationResult,
    EvaluationSpec,
    ModelEvaluation,
    PromotionResult,
    VersionLineage,
)
from ridgeline.domain.registry import AliasEvent, ModelVersion, RegisteredModel, check_alias, check_version
from ridgeline.store.artifacts.paths import check_path


class Client:
    """Read access to projects, runs, metric histories, artifact listings and dataset inputs; the model registry,
    read and written.

    ``tracking_uri``: argument > ``RIDGELINE_TRACKING_URI`` > the local data folder.
    """

    def __init__(self, tracking_uri: str | None = None) -> None:
        self._backend = backend_for(tracking_uri, Settings.load())

    def get_run(self, run_id: str) -> RunRecord:
        return self._backend.get_run(run_id)

    def search_runs(
        self,
        project: str | list[str],
        filter: str | None = None,
        order_by: str | list[str] | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunPage:
        """One page of runs matching ``filter`` (see docs/search.md); pass ``page.next_cursor`` for the next."""
        projects = [project] if isinstance(project, str) else list(project)
        order = [order_by] if isinstance(order_by, str) else order_by
        return self._backend.search_runs(projects, filter, order, limit, cursor)

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        min_step: int | None = None,
        max_step: int | None = None,
        points: int | None = None,
    ) -> MetricHistory:
        """Every point of a metric (or of a step range); with ``points``, a shape-keeping downsampled view."""
        return self._backend.metric_history(run_id, key, min_step, max_step, points)

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactFile]:
        """Every file of the run under the folder ``path`` (recursively; empty: all of them), by path.

        Paths are relative to the run's root, as logged; a missing folder, or a file's own path, lists nothing.
        """
        # The backends match a plain prefix; the separator keeps folder "a" from matching "ab.txt".
        prefix = f"{check_path(path.removesuffix('/'), 'path')}/" if path else ""
        return self._backend.list_artifacts(v.check_id(run_id, "run_id"), prefix)

    def get_run_inputs(self, run_id: str) -> list[RunInput]:
        """The dataset versions the run used (profiles included), each with its context, in the order recorded."""
        return self._backend.run_inputs(v.check_id(run_id, "run_id"))

    def get_project(self, name: str) -> Project:
        return self._backend.get_project(name)

    def list_projects(self) -> list[Project]:
        return self._backend.list_projects()

    # model registry --------------------------------------------------------------------------------------------

    def create_model(self, name: str, description: str = "", tags: dict[str, str] | None = None) -> RegisteredModel:
        """Register a model name (``AlreadyExists`` when it is taken); versions come with create_model_version."""
        return self._backend.create_model(name, description, tags)

    def get_model(self, name: str) -> RegisteredModel:
        return self._backend.get_model(name)

    def search_models(
        self, filter: str | None = None, order_by: str | list[str] | None = None
    ) -> list[RegisteredModel]:
        """Registered models matching ``filter`` (Ridgeline's grammar: ``attributes.name``, ``attributes.user``,
        ``attributes.start_time``, ``tags.KEY``, …), by name unless ``order_by`` says otherwise."""
        order = [order_by] if isinstance(order_by, str) else order_by
        return self._backend.search_models(filter, order)

    def set_model_tag(self, name: str, key: str, value: str) -> RegisteredModel:
        return self._backend.set_model_tag(name, key, value)

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        """Register the next version of ``name`` from ``source`` (``runs:/RUN_ID/PATH``, ``models:/m-…``, …);
        the run's latest metrics and git commit are copied onto it."""
        return self._backend.create_model_version(name, source, run_id, description, tags)

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self._backend.get_model_version(name, version)

    def get_model_versions(self, name: str) -> list[ModelVersion]:
        """Every version of the model, newest first."""
        return self._backend.get_model_versions(name)

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: str) -> ModelVersion:
        return self._backend.set_model_version_tag(name, version, key, value)

    def set_model_alias(self, name: str, alias: str, version: int | str) -> ModelVersion:
        """Point ``alias`` at ``version`` (creating or moving it, recorded in the alias history); returns it."""
        return self._backend.set_model_alias(name, alias, check_version(version))

    def delete_model_alias(self, name: str, alias: str) -> None:
        self._backend.delete_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._backend.get_model_version_by_alias(name, alias)

    def resolve_model(self, uri: str) -> ModelVersion:
        """The version ``models:/NAME/VERSION``, ``models:/NAME@ALIAS``, ``models:/NAME/latest`` or
        ``models:/NAME/STAGE`` names."""
        return self._backend.resolve_model(uri)

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Every move of the model's aliases (or of one alias), oldest first, with who and when."""
        return self._backend.alias_history(name, alias)

    # lineage and the validation gate -------------------------------------------------------------------------

    def get_model_version_lineage(self, name: str, version: int | str) -> VersionLineage:
        """Version → run (None when it is gone) → the dataset versions it used (``inputs``) → ``git_commit``."""
        return self._backend.version_lineage(name, check_version(version))

    def get_dataset_version_models(self, version_id: str) -> list[ModelVersion]:
        """Every model version trained on the dataset version (its run used it), by model, newest first."""
        return self._backend.dataset_version_models(v.check_id(version_id, "version_id"))

    def resolve_dataset_version(self, name: str, version: str | None = None) -> DatasetVersion:
        """A version of dataset ``name`` by id or digest prefix (at least 4 hex digits); None: the newest."""
        return self._backend.resolve_dataset_version(name, version)

    def record_model_evaluation(self, name: str, spec: EvaluationSpec) -> EvaluationResult:
        """Store metrics computed elsewhere (``ridgeline.registry.evaluate`` computes and stores them for you)."""
        return self._backend.record_evaluation(name, spec)

    def get_model_evaluation(self, name: str, evaluation_id: str) -> EvaluationResult:
        return self._backend.get_evaluation(name, v.check_id(evaluation_id, "evaluation_id"))

    def get_model_evaluations(self, name: str, version: int | str, limit: int = 100) -> list[ModelEvaluation]:
        """The version's stored evaluations, newest first."""
        return self._backend.version_evaluations(name, check_version(version), limit)

    def promote_model(
        self, name: str, version: int | str, alias: str = "champion", require: list[str] | None = None
    ) -> PromotionResult:
        """Point ``alias`` at ``version`` if every rule passes on its stored evaluation (see docs/registry.md);
        raises ``PromotionRefused`` naming the failed rule otherwise."""
        return self._backend.promote_model(name, check_version(version), check_alias(alias), list(require or []))

    def rollback_model(self, name: str, alias: str = "champion") -> PromotionResult:
        """Point ``alias`` back at the version it held before its last move."""
        return self._backend.rollback_model(name, check_alias(alias))

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
