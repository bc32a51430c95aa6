"""The model registry use cases: registered models, versions, aliases (with the history of every move) and
lookups by ``models:/`` URI. Transport-agnostic: the MLflow-compatible API, the SDK and the CLI call it alike.

A version's files are a folder of a run's artifacts (``artifact_run_id`` + ``artifact_path``), found from its
source when registered: a logged model (``models:/m-…``), ``runs:/RUN/PATH`` or an ``mlflow-artifacts:`` URI
of a run. Deleting a version never deletes files: the run keeps them, and gc/retention leave such runs alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from ridgeline.domain import validation as v
from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.domain.filters import Expr, RunView, evaluate, parse_filter, parse_order_by
from ridgeline.domain.ids import now_ms
from ridgeline.domain.registry import (
    LOGGED_MODEL_ID,
    MAX_DESCRIPTION_LENGTH,
    STAGES,
    AliasEvent,
    ModelVersion,
    RegisteredModel,
    VersionStatus,
    check_alias,
    check_model_name,
    check_version,
    parse_model_uri,
)
from ridgeline.domain.wire import encode_value
from ridgeline.store.artifacts.paths import check_path
from ridgeline.store.metadata import MetadataStore

if TYPE_CHECKING:
    from ridgeline.services.artifacts import ArtifactService

GIT_COMMIT_TAGS = ("ridgeline.git.commit", "mlflow.source.git.commit")
_RUNS_URI = "runs:/"
_PROXY_URI = "mlflow-artifacts:/"
T = TypeVar("T")


@dataclass(frozen=True)
class VersionSpec:
    """What registering a version may say; an importer also fixes the number, times and status."""

    source: str
    run_id: str | None = None
    logged_model_id: str | None = None
    description: str = ""
    tags: Mapping[str, str] | None = None
    flavor: str | None = None
    signature: dict[str, Any] | None = None
    status: VersionStatus = VersionStatus.READY
    version: int | None = None
    created_at: int | None = None
    stage: str = "None"


def _folder(path: str) -> str:
    """A folder in the artifact store that a source names: a clean relative path (the store's own rule; one
    trailing ``/`` allowed), so that no later reader (download URI, lineage, serving, evaluation) is handed a
    path that climbs out or starts again at the root (``runs:/RUN//proc/self/root/...``)."""
    folder = path.removesuffix("/")
    return check_path(folder, "source") if folder else ""


def check_tags(tags: Mapping[str, str] | None, field: str = "tags") -> dict[str, str]:
    checked: dict[str, str] = {}
    for key, value in (tags or {}).items():
        checked[v.check_key(key, f"{field}.key")] = v.check_text(value, f"{field}[{key}]", v.MAX_TAG_VALUE_LENGTH)
    return checked


def model_view(model: RegisteredModel, tag_defaults: Mapping[str, str] | None = None) -> RunView:
    """Registered models seen by the filter grammar: ``name``, ``id``, ``user`` (the owner), ``start_time``
    (created), ``end_time`` (last update) and tags (``tag_defaults`` stand in for tags a model lacks)."""
    return RunView(
        attributes={
            "id": model.id,
            "name": model.name,
            "user": model.owner,
            "start_time": model.created_at,
            "end_time": model.updated_at,
        },
        tags={**(tag_defaults or {}), **model.tags},
    )


def version_view(version: ModelVersion) -> RunView:
    """Versions seen by the filter grammar: ``name`` (the model's), ``run_id`` (the source run, also spelt
    ``id``), ``status``, ``user`` (who registered it), ``start_time``/``end_time``, tags, and the metrics copied
    from the run."""
    return RunView(
        attributes={
            "id": version.run_id,
            "name": version.model_name,
            "status": version.status.value,
            "user": version.created_by,
            "start_time": version.created_at,
            "end_time": version.updated_at,
        },
        metrics=version.metrics,
        tags=version.tags,
    )


def search(items: list[T], views: list[RunView], filter: str | None, order_by: list[str] | None) -> list[T]:
    """The items whose view matches ``filter`` (Ridgeline's grammar), ordered by ``order_by`` (stable, so the
    incoming order breaks ties; items without the ordering value come last)."""
    expr: Expr | None = parse_filter(filter or "")
    chosen = [(item, view) for item, view in zip(items, views, strict=True) if evaluate(expr, view)]
    for key in reversed(parse_order_by(order_by or [])):
        if key.field.kind not in ("attribute", "metric"):
            raise InvalidArgument("order by an attribute (name, start_time, …) or a metric", field="order_by")
        source = "attributes" if key.field.kind == "attribute" else "metrics"

        def value(pair: tuple[T, RunView], source: str = source, name: str = key.field.key) -> Any:
            return getattr(pair[1], source).get(name)

        present = sorted((pair for pair in chosen if value(pair) is not None), key=value, reverse=key.descending)
        chosen = present + [pair for pair in chosen if value(pair) is None]
    return [item for item, _ in chosen]


class RegistryService:
    def __init__(self, store: MetadataStore, artifacts: ArtifactService | None = None) -> None:
        self.store = store
        # Reads a Ridgeline model package's manifest when a version is registered from one (flavor, signature).
        self.artifacts = artifacts

    # registered models -------------------------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        owner: str = "",
        created_at: int | None = None,
    ) -> RegisteredModel:
        return self.store.registry.create_model(
            check_model_name(name),
            v.check_text(description or "", "description", MAX_DESCRIPTION_LENGTH),
            v.check_text(owner, "owner", v.MAX_NAME_LENGTH),
            check_tags(tags),
            created_at=None if created_at is None else v.check_timestamp(created_at, "created_at"),
        )

    def get_model(self, name: str) -> RegisteredModel:
        return self.store.registry.get_model(check_model_name(name))

    def search_models(
        self,
        filter: str | None = None,
        order_by: list[str] | None = None,
        *,
        tag_defaults: Mapping[str, str] | None = None,
    ) -> list[RegisteredModel]:
        """Models matching ``filter`` (Ridgeline's grammar over :func:`model_view`), by name unless ordered."""
        models = self.store.registry.list_models()
        return search(models, [model_view(model, tag_defaults) for model in models], filter, order_by)

    def update_model(
        self, name: str, *, description: str | None = None, new_name: str | None = None
    ) -> RegisteredModel:
        model = self.get_model(name)
        values: dict[str, Any] = {}
        if description is not None:
            values["description"] = v.check_text(description, "description", MAX_DESCRIPTION_LENGTH)
        if new_name is not None and new_name != name:
            values["name"] = check_model_name(new_name, "new_name")
        if values:
            self.store.registry.update_model(model.id, **values)
        return self.get_model(values.get("name", name))

    def delete_model(self, name: str) -> None:
        self.store.registry.delete_model(self.get_model(name).id)

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        self.store.registry.set_model_tags(self.get_model(name).id, check_tags({key: value}))

    def delete_model_tag(self, name: str, key: str) -> None:
        if not self.store.registry.delete_model_tag(self.get_model(name).id, key):
            raise NotFound(f"Registered model {name!r} has no tag {key!r}", field="key")

    # versions ----------------------------------------------------------------------------------------------

    def create_version(self, name: str, spec: VersionSpec, *, user: str = "") -> ModelVersion:
        model = self.get_model(name)
        if not spec.source:
            raise InvalidArgument("a model version needs a source (where its files are)", field="source")
        source = v.check_source_uri(spec.source, "source")
        run_id = v.check_id(spec.run_id, "run_id") if spec.run_id else None
        artifact_run_id, artifact_path, logged_model_id = self._locate(source, spec.logged_model_id)
        run_id = run_id or artifact_run_id
        metrics: dict[str, float] = {}
        git_commit: str | None = None
        if run_id is not None:
            try:
                run = self.store.runs.get(run_id)
            except NotFound:
                raise NotFound(f"Run {run_id!r} does not exist", field="run_id") from None
            metrics = {key: point.value for key, point in run.latest_metrics.items()}
            git_commit = next((run.tags[tag] for tag in GIT_COMMIT_TAGS if run.tags.get(tag)), None)
        if spec.stage not in STAGES:
            raise InvalidArgument(f"stage must be one of {', '.join(STAGES)}", field="stage")
        flavor, signature = spec.flavor, spec.signature
        if flavor is None and artifact_run_id is not None:
            flavor, signature = self._package_description(artifact_run_id, artifact_path)
        now = now_ms()
        created = now if spec.created_at is None else v.check_timestamp(spec.created_at, "created_at")
        values: dict[str, Any] = {
            "version": None if spec.version is None else check_version(spec.version),
            "source": source,
            "run_id": run_id,
            "artifact_run_id": artifact_run_id,
            "artifact_path": artifact_path,
            "logged_model_id": logged_model_id,
            "status": spec.status.value,
            "status_message": "",
            "stage": spec.stage,
            "description": v.check_text(spec.description or "", "description", MAX_DESCRIPTION_LENGTH),
            "flavor": flavor,
            "signature": None if signature is None else orjson.dumps(signature).decode(),
            # Non-finite values as their strings: orjson would write NaN and ±inf as null and lose them.
            "metrics": orjson.dumps({key: encode_value(value) for key, value in metrics.items()}).decode(),
            "git_commit": git_commit,
            "created_by": v.check_text(user, "user", v.MAX_NAME_LENGTH),
            "created_at": created,
            "updated_at": created,
        }
        return self.store.registry.create_version(model, values, check_tags(spec.tags))

    def _package_description(self, run_id: str, path: str) -> tuple[str | None, dict[str, Any] | None]:
        """(flavor, signature) from the manifest when the files are a Ridgeline model package, else nothing."""
        from ridgeline.flavors.manifest import MANIFEST_NAME, parse_manifest

        if self.artifacts is None:
            return None, None
        try:
            data = b"".join(self.artifacts.read(run_id, f"{path}/{MANIFEST_NAME}" if path else MANIFEST_NAME))
        except NotFound:
            return None, None
        manifest = parse_manifest(data)
        return manifest.flavor, manifest.signature

    def _locate(self, source: str, logged_model_id: str | None) -> tuple[str | None, str, str | None]:
        """(run holding the files, folder in it, logged model) for a version's source."""
        if source.startswith("models:/") and logged_model_id is None:
            parsed = parse_model_uri(source)
            if parsed.logged_model_id is None:
                version = self.resolve(source)
                return version.artifact_run_id, version.artifact_path, version.logged_model_id
            logged_model_id = parsed.logged_model_id
        if logged_model_id is not None:
            if not LOGGED_MODEL_ID.fullmatch(logged_model_id):
                raise InvalidArgument(f"{logged_model_id!r} is not a logged model id (m-<32 hex>)", field="model_id")
            logged = self.store.logged_models.get(logged_model_id)
            return logged.run_id, logged.artifact_path, logged.id
        if source.startswith(_RUNS_URI):
            run_id, _, path = source[len(_RUNS_URI) :].partition("/")
            return v.check_id(run_id, "source"), _folder(path), None
        if source.startswith(_PROXY_URI):
            # mlflow-artifacts:/<experiment>/<run>/artifacts/<path>: the layout the MLflow-compatible API hands out.
            parts = _folder(source[len(_PROXY_URI) :]).split("/", 3)
            if len(parts) >= 3 and parts[2] == "artifacts":
                return v.check_id(parts[1], "source"), parts[3] if len(parts) == 4 else "", None
        return None, "", None

    def get_version(self, name: str, version: int | str) -> ModelVersion:
        number = check_version(version)
        return self.store.registry.get_version(self.get_model(name), number)

    def versions(self, name: str) -> list[ModelVersion]:
        """Every version of the model, newest first."""
        return self.store.registry.versions(model_ids=[self.get_model(name).id])

    def search_versions(self, filter: str | None = None, order_by: list[str] | None = None) -> list[ModelVersion]:
        """Versions matching ``filter`` (Ridgeline's grammar over :func:`version_view`)."""
        versions = self.store.registry.versions()
        return search(versions, [version_view(version) for version in versions], filter, order_by)

    def versions_of_runs(self, run_ids: list[str]) -> list[ModelVersion]:
        return self.store.registry.versions(run_ids=run_ids) if run_ids else []

    def update_version(
        self,
        name: str,
        version: int | str,
        *,
        description: str | None = None,
        status: VersionStatus | None = None,
        status_message: str | None = None,
    ) -> ModelVersion:
        found = self.get_version(name, version)
        values: dict[str, Any] = {}
        if description is not None:
            values["description"] = v.check_text(description, "description", MAX_DESCRIPTION_LENGTH)
        if status is not None:
            values["status"] = status.value
        if status_message is not None:
            values["status_message"] = v.check_text(status_message, "status_message", MAX_DESCRIPTION_LENGTH)
        if values:
            self.store.registry.update_version(found.id, **values)
        return self.get_version(name, found.version)

    def transition_stage(
        self, name: str, version: int | str, stage: str, *, archive_existing: bool = False
    ) -> ModelVersion:
        """MLflow's deprecated stages (aliases are the way now); kept for clients and URIs that still use them."""
        chosen = next((item for item in STAGES if item.lower() == stage.strip().lower()), None)
        if chosen is None:
            raise InvalidArgument(f"stage must be one of {', '.join(STAGES)}, got {stage!r}", field="stage")
        found = self.get_version(name, version)
        self.store.registry.update_version(found.id, stage=chosen)
        if archive_existing and chosen in ("Staging", "Production"):
            self.store.registry.archive_stage(found.model_id, chosen, found.id)
        return self.get_version(name, found.version)

    def latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        """The newest version in each stage (each of ``stages``, or every stage that has one)."""
        wanted = {stage.lower() for stage in stages or []}
        latest: dict[str, ModelVersion] = {}
        for version in self.versions(name):
            if (not wanted or version.stage.lower() in wanted) and version.stage not in latest:
                latest[version.stage] = version
        return sorted(latest.values(), key=lambda version: version.version)

    def delete_version(self, name: str, version: int | str, *, user: str = "") -> None:
        self.store.registry.delete_version(self.get_version(name, version), user)

    def set_version_tag(self, name: str, version: int | str, key: str, value: str) -> None:
        self.store.registry.set_version_tags(self.get_version(name, version).id, check_tags({key: value}))

    def delete_version_tag(self, name: str, version: int | str, key: str) -> None:
        found = self.get_version(name, version)
        if not self.store.registry.delete_version_tag(found.id, key):
            raise NotFound(f"Model version {name!r} {found.version} has no tag {key!r}", field="key")

    # aliases -----------------------------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int | str, *, user: str = "", at: int | None = None) -> None:
        """Point ``alias`` at ``version`` (moving it if it is set); every move is kept in the alias history."""
        found = self.get_version(name, version)
        self.store.registry.set_alias(found.model_id, check_alias(alias), found.version, user, at)

    def delete_alias(self, name: str, alias: str, *, user: str = "") -> None:
        model = self.get_model(name)
        if not self.store.registry.delete_alias(model.id, check_alias(alias), user):
            raise NotFound(f"Registered model {name!r} has no alias {alias!r}", field="alias")

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        model = self.get_model(name)
        number = model.aliases.get(check_alias(alias))
        if number is None:
            raise NotFound(f"Registered model alias {alias} not found.", field="alias")
        return self.store.registry.get_version(model, number)

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        return self.store.registry.alias_history(self.get_model(name), alias)

    def resolve(self, uri: str) -> ModelVersion:
        """The version a ``models:/NAME/VERSION``, ``models:/NAME@ALIAS``, ``models:/NAME/STAGE`` or
        ``models:/NAME/latest`` URI names."""
        parsed = parse_model_uri(uri)
        if parsed.name is None:
            raise InvalidArgument(f"{uri!r} names a logged model, not a registered version", field="uri")
        if parsed.alias is not None:
            return self.get_version_by_alias(parsed.name, parsed.alias)
        if parsed.version is not None:
            return self.get_version(parsed.name, parsed.version)
        if parsed.stage is not None:
            found = self.latest_versions(parsed.name, [parsed.stage])
            if not found:
                raise NotFound(f"Registered model {parsed.name!r} has no version in stage {parsed.stage}", field="uri")
            return found[0]
        versions = self.versions(parsed.name)
        if not versions:
            raise NotFound(f"Registered model {parsed.name!r} has no versions", field="uri")
        return versions[0]

    def protected_runs(self) -> set[str]:
        return self.store.registry.protected_runs()
