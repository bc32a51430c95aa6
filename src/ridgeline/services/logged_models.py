"""Logged models: a model package a run saved (MLflow 3's "logged model"), before or without registration.

Its files are run artifacts under ``models/<model id>/``, so gc, retention, export and the run's Artifacts tab
treat them like any other file of the run. A model logged outside any run gets a run of its own in the project
(tagged ``ridgeline.logged_model``), so the one rule "files belong to a run" holds without exceptions.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

import orjson

from ridgeline.domain import validation as v
from ridgeline.domain.errors import Conflict, InvalidArgument
from ridgeline.domain.filters import RunView
from ridgeline.domain.ids import now_ms
from ridgeline.domain.registry import LOGGED_MODEL_ID, LoggedModel, LoggedModelStatus
from ridgeline.services.registry import check_tags
from ridgeline.services.tracking import RunSpec, TrackingService
from ridgeline.store.metadata import MetadataStore

HOLDER_TAG = "ridgeline.logged_model"
FOLDER = "models"


def new_logged_model_id() -> str:
    return "m-" + secrets.token_hex(16)


def logged_model_view(model: LoggedModel) -> RunView:
    """Logged models seen by the filter grammar: ``name``, ``id``, ``status``, ``project_id``, ``start_time``
    (created), ``end_time`` (last update), params and tags."""
    return RunView(
        attributes={
            "id": model.id,
            "name": model.name,
            "status": model.status.value,
            "project_id": model.project_id,
            "start_time": model.created_at,
            "end_time": model.updated_at,
        },
        params=model.params,
        tags=model.tags,
    )


class LoggedModelService:
    def __init__(self, store: MetadataStore, tracking: TrackingService) -> None:
        self.store = store
        self.tracking = tracking

    def create(
        self,
        project_id: str,
        name: str,
        *,
        run_id: str | None = None,
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        model_type: str = "",
        user: str = "",
        model_id: str | None = None,
        created_at: int | None = None,
    ) -> LoggedModel:
        name = v.check_name(name, "name", v.MAX_KEY_LENGTH)
        if model_id is not None and not LOGGED_MODEL_ID.fullmatch(model_id):
            raise InvalidArgument(f"{model_id!r} is not a logged model id (m-<32 hex>)", field="model_id")
        checked_params = {
            v.check_key(key, "params.key"): v.check_text(value, f"params[{key}]", v.MAX_PARAM_VALUE_LENGTH)
            for key, value in (params or {}).items()
        }
        checked_tags = check_tags(tags)
        project = self.tracking.get_project(project_id)
        model_id = model_id or new_logged_model_id()
        if run_id is None:
            holder = self.tracking.create_run(
                RunSpec(project_id=project.id, name=f"model {name}", user=user),
                tags={HOLDER_TAG: model_id},
            )
            self.tracking.finish_run(holder.id)
            run_id = holder.id
        run = self.tracking.get_run(run_id)
        if run.project_id != project.id:
            raise Conflict(f"run {run_id} belongs to another experiment than {project_id}", field="source_run_id")
        now = now_ms() if created_at is None else v.check_timestamp(created_at, "created_at")
        return self.store.logged_models.create(
            {
                "id": model_id,
                "project_id": project.id,
                "run_id": run.id,
                "name": name,
                "artifact_path": f"{FOLDER}/{model_id}",
                "status": LoggedModelStatus.PENDING.value,
                "status_message": "",
                "model_type": v.check_text(model_type or "", "model_type", v.MAX_KEY_LENGTH),
                "created_at": now,
                "updated_at": now,
            },
            checked_params,
            checked_tags,
        )

    def get(self, model_id: str) -> LoggedModel:
        if not LOGGED_MODEL_ID.fullmatch(model_id):
            raise InvalidArgument(f"{model_id!r} is not a logged model id (m-<32 hex>)", field="model_id")
        return self.store.logged_models.get(model_id)

    def finalize(self, model_id: str, status: LoggedModelStatus, message: str = "") -> LoggedModel:
        self.get(model_id)
        return self.store.logged_models.update(model_id, status=status.value, status_message=message)

    def set_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        self.get(model_id)
        self.store.logged_models.set_tags(model_id, check_tags(tags))

    def delete_tag(self, model_id: str, key: str) -> None:
        self.get(model_id)
        self.store.logged_models.delete_tag(model_id, key)

    def log_params(self, model_id: str, params: Mapping[str, str]) -> LoggedModel:
        """Add params; a key already set keeps its value unless the new one is equal (params never change)."""
        model = self.get(model_id)
        merged = dict(model.params)
        for key, value in params.items():
            v.check_key(key, "params.key")
            v.check_text(value, f"params[{key}]", v.MAX_PARAM_VALUE_LENGTH)
            if merged.get(key, value) != value:
                raise Conflict(f"param {key!r} of logged model {model_id} is already {merged[key]!r}", field="params")
            merged[key] = value
        return self.store.logged_models.update(model_id, params=orjson.dumps(merged).decode())

    def delete(self, model_id: str) -> None:
        """Forget the logged model; its files stay with its run. Refused while a registered version uses it."""
        self.get(model_id)
        users = [version for version in self.store.registry.versions() if version.logged_model_id == model_id]
        if users:
            names = ", ".join(f"{version.model_name} v{version.version}" for version in users)
            raise Conflict(f"logged model {model_id} backs registered versions ({names}); delete those first")
        self.store.logged_models.delete(model_id)

    def of_projects(self, project_ids: list[str]) -> list[LoggedModel]:
        """The project's logged models whose run is not deleted, newest first."""
        return self.store.logged_models.select(project_ids=project_ids, live_runs_only=True)

    def of_runs(self, run_ids: list[str]) -> dict[str, list[LoggedModel]]:
        found: dict[str, list[LoggedModel]] = {run_id: [] for run_id in run_ids}
        if run_ids:
            for model in self.store.logged_models.select(run_ids=run_ids):
                found[model.run_id].append(model)
        return found
