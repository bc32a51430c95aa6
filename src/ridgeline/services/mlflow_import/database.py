"""An MLflow database (``sqlite:///…``, ``postgresql://…``, ``mysql://…``) as a source, read with SQL from MLflow's
own schema (mlflow/store/tracking/dbmodels/models.py, as MLflow 3.17 creates it) and never written to.

Artifacts are read where each run's ``artifact_uri`` points (see artifacts.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, TableClause, column, create_engine, func, inspect, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from ridgeline.domain.errors import InvalidArgument, Unavailable
from ridgeline.services.mlflow_import.artifacts import ArtifactAccess
from ridgeline.services.mlflow_import.model import (
    DELETED_STAGE,
    LOGGED_MODEL_STATUS,
    PROMPT_TAG,
    Artifacts,
    DatasetInput,
    Experiment,
    LoggedModelInfo,
    RegisteredModelInfo,
    RunSummary,
    VersionInfo,
    history,
)
from ridgeline.store.metrics import SeriesArrays

_IN_CHUNK = 500


def _table(name: str, *columns: str) -> TableClause:
    # Plain table clauses, no reflection: SQLAlchemy still quotes names (``key``) for each dialect.
    return table(name, *(column(name) for name in columns))


EXPERIMENTS = _table("experiments", "experiment_id", "name", "lifecycle_stage", "creation_time", "last_update_time")
EXPERIMENT_TAGS = _table("experiment_tags", "experiment_id", "key", "value")
RUNS = _table(
    "runs",
    "run_uuid",
    "experiment_id",
    "name",
    "status",
    "start_time",
    "end_time",
    "user_id",
    "lifecycle_stage",
    "deleted_time",
    "artifact_uri",
)
PARAMS = _table("params", "run_uuid", "key", "value")
TAGS = _table("tags", "run_uuid", "key", "value")
METRICS = _table("metrics", "run_uuid", "key", "value", "timestamp", "step", "is_nan")
LATEST = _table("latest_metrics", "run_uuid", "key", "timestamp", "step")
DATASETS = _table(
    "datasets",
    "dataset_uuid",
    "name",
    "digest",
    "dataset_source_type",
    "dataset_source",
    "dataset_schema",
    "dataset_profile",
)
INPUTS = _table("inputs", "input_uuid", "source_type", "source_id", "destination_type", "destination_id")
INPUT_TAGS = _table("input_tags", "input_uuid", "name", "value")
LOGGED_MODELS = _table(
    "logged_models",
    "model_id",
    "experiment_id",
    "name",
    "artifact_location",
    "creation_timestamp_ms",
    "status",
    "lifecycle_stage",
    "model_type",
    "source_run_id",
)
LOGGED_MODEL_PARAMS = _table("logged_model_params", "model_id", "param_key", "param_value")
LOGGED_MODEL_TAGS = _table("logged_model_tags", "model_id", "tag_key", "tag_value")
MODELS = _table("registered_models", "name", "creation_time", "last_updated_time", "description")
MODEL_TAGS = _table("registered_model_tags", "name", "key", "value")
ALIASES = _table("registered_model_aliases", "name", "alias", "version")
VERSIONS = _table(
    "model_versions",
    "name",
    "version",
    "creation_time",
    "description",
    "user_id",
    "current_stage",
    "source",
    "run_id",
    "status",
)
VERSION_TAGS = _table("model_version_tags", "name", "version", "key", "value")
_REQUIRED = {"experiments", "experiment_tags", "runs", "params", "tags", "metrics", "latest_metrics"}


def open_engine(uri: str) -> Engine:
    """A read-only-minded engine on an existing MLflow database; clear errors for the usual mistakes."""
    try:
        url = make_url(uri)
    except ArgumentError:
        raise InvalidArgument(f"{uri!r} is not a database URI", field="from") from None
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        # MLflow's URIs name no driver; Ridgeline ships psycopg 3.
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and (not url.database or not Path(url.database).is_file()):
        raise InvalidArgument(f"no SQLite database at {url.database!r}", field="from")
    try:
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    except NoSuchModuleError as exc:
        raise InvalidArgument(f"cannot open {url.drivername} databases here: {exc}", field="from") from None
    except (SQLAlchemyError, ImportError) as exc:
        shown = url.render_as_string(hide_password=True)
        raise Unavailable(f"cannot open the database {shown}: {str(exc).splitlines()[0]}", field="from") from None
    missing = sorted(_REQUIRED - tables)
    if missing:
        engine.dispose()
        shown = url.render_as_string(hide_password=True)
        raise InvalidArgument(
            f"{shown} is not an MLflow tracking database (no {', '.join(missing)} table)", field="from"
        )
    return engine


class DatabaseSource:
    def __init__(self, uri: str, access: ArtifactAccess) -> None:
        self.engine = open_engine(uri)
        self.label = self.engine.url.render_as_string(hide_password=True)
        self.access = access
        with self.engine.connect() as conn:
            inspector = inspect(conn)
            tables = set(inspector.get_table_names())
            # Each exists from some MLflow version on (datasets 2.4, logged models 3.0).
            self._has_inputs = {"datasets", "inputs", "input_tags"} <= tables
            self._has_logged_models = {"logged_models", "logged_model_params", "logged_model_tags"} <= tables
            self._has_registry = {"registered_models", "registered_model_tags", "model_versions"} <= tables
            self._has_aliases = "registered_model_aliases" in tables
            # Databases of MLflow before 2.x lack it.
            self._has_deleted_time = "deleted_time" in {c["name"] for c in inspector.get_columns("runs")}

    def _rows(self, query: Any) -> Sequence[Any]:
        with self.engine.connect() as conn:
            return conn.execute(query).all()

    def _rows_in(self, query: Any, ids_column: Any, ids: list[str]) -> Sequence[Any]:
        """Rows of ``query`` whose ``ids_column`` is one of ``ids``, asked in chunks the database accepts."""
        found: list[Any] = []
        for start in range(0, len(ids), _IN_CHUNK):
            found += self._rows(query.where(ids_column.in_(ids[start : start + _IN_CHUNK])))
        return found

    def experiments(self) -> list[Experiment]:
        tags: dict[str, dict[str, str]] = {}
        for experiment_id, key, value in self._rows(select(EXPERIMENT_TAGS)):
            tags.setdefault(str(experiment_id), {})[key] = value or ""
        return [
            Experiment(
                str(row.experiment_id),
                row.name,
                row.lifecycle_stage == "deleted",
                row.creation_time,
                row.last_update_time,
                tags.get(str(row.experiment_id), {}),
            )
            for row in self._rows(select(EXPERIMENTS).order_by(EXPERIMENTS.c.experiment_id))
        ]

    def runs(self, experiment: Experiment) -> Iterator[RunSummary]:
        deleted_time = RUNS.c.deleted_time if self._has_deleted_time else func.null()
        query = select(*(c for c in RUNS.c if c.name != "deleted_time"), deleted_time.label("deleted_time"))
        rows = self._rows(query.where(RUNS.c.experiment_id == int(experiment.id)).order_by(RUNS.c.run_uuid))
        ids = [row.run_uuid for row in rows]
        params = _grouped(self._rows_in(select(PARAMS), PARAMS.c.run_uuid, ids))
        tags = _grouped(self._rows_in(select(TAGS), TAGS.c.run_uuid, ids))
        latest: dict[str, dict[str, tuple[int, int]]] = {}
        for run_id, key, stamp, step in self._rows_in(select(LATEST), LATEST.c.run_uuid, ids):
            latest.setdefault(run_id, {})[key] = (int(step), int(stamp or 0))
        counts: dict[str, dict[str, int]] = {}
        counting = select(METRICS.c.run_uuid, METRICS.c.key, func.count()).group_by(METRICS.c.run_uuid, METRICS.c.key)
        for run_id, key, count in self._rows_in(counting, METRICS.c.run_uuid, ids):
            counts.setdefault(run_id, {})[key] = int(count)
        inputs = self._inputs(ids) if self._has_inputs else {}
        for row in rows:
            yield RunSummary(
                id=row.run_uuid,
                experiment_id=experiment.id,
                name=row.name or "",
                status=row.status or "RUNNING",
                start_time=row.start_time,
                end_time=row.end_time,
                user=row.user_id or "",
                deleted=row.lifecycle_stage == "deleted",
                deleted_time=row.deleted_time,
                artifact_uri=row.artifact_uri or "",
                params=params.get(row.run_uuid, {}),
                tags=tags.get(row.run_uuid, {}),
                latest=latest.get(row.run_uuid, {}),
                inputs=inputs.get(row.run_uuid, []),
                point_counts=counts.get(row.run_uuid, {}),
            )

    def _inputs(self, ids: list[str]) -> dict[str, list[DatasetInput]]:
        query = (
            select(INPUTS.c.destination_id, INPUTS.c.input_uuid, *(c for c in DATASETS.c if c.name != "dataset_uuid"))
            .select_from(INPUTS.join(DATASETS, DATASETS.c.dataset_uuid == INPUTS.c.source_id))
            .where(INPUTS.c.source_type == "DATASET", INPUTS.c.destination_type == "RUN")
            .order_by(INPUTS.c.destination_id, DATASETS.c.name, DATASETS.c.digest)
        )
        rows = self._rows_in(query, INPUTS.c.destination_id, ids)
        tags: dict[str, dict[str, str]] = {}
        uuids = [row.input_uuid for row in rows]
        for start in range(0, len(uuids), _IN_CHUNK):
            chunk = uuids[start : start + _IN_CHUNK]
            for input_uuid, name, value in self._rows(select(INPUT_TAGS).where(INPUT_TAGS.c.input_uuid.in_(chunk))):
                tags.setdefault(input_uuid, {})[name] = value
        found: dict[str, list[DatasetInput]] = {}
        for row in rows:
            found.setdefault(row.destination_id, []).append(
                DatasetInput(
                    name=row.name,
                    digest=row.digest,
                    source_type=row.dataset_source_type,
                    source=row.dataset_source,
                    schema=row.dataset_schema,
                    profile=row.dataset_profile,
                    tags=tags.get(row.input_uuid, {}),
                )
            )
        return found

    def histories(self, run: RunSummary) -> dict[str, SeriesArrays]:
        points: dict[str, list[tuple[int, int, float]]] = {}
        query = select(METRICS.c.key, METRICS.c.step, METRICS.c.timestamp, METRICS.c.value, METRICS.c.is_nan)
        for key, step, stamp, value, is_nan in self._rows(query.where(METRICS.c.run_uuid == run.id)):
            points.setdefault(key, []).append((int(step), int(stamp), float("nan") if is_nan else float(value)))
        return {key: history(items) for key, items in points.items()}

    def artifacts(self, run: RunSummary) -> Artifacts:
        return self.access.files(run.artifact_uri)

    def logged_models(self, experiment: Experiment) -> list[LoggedModelInfo]:
        if not self._has_logged_models:
            return []
        rows = self._rows(
            select(LOGGED_MODELS)
            .where(LOGGED_MODELS.c.experiment_id == int(experiment.id), LOGGED_MODELS.c.lifecycle_stage != "deleted")
            .order_by(LOGGED_MODELS.c.model_id)
        )
        ids = [row.model_id for row in rows]
        params = _grouped(self._rows_in(select(LOGGED_MODEL_PARAMS), LOGGED_MODEL_PARAMS.c.model_id, ids))
        tags = _grouped(self._rows_in(select(LOGGED_MODEL_TAGS), LOGGED_MODEL_TAGS.c.model_id, ids))
        return [
            LoggedModelInfo(
                id=row.model_id,
                experiment_id=experiment.id,
                name=row.name,
                artifact_uri=row.artifact_location,
                created=row.creation_timestamp_ms,
                status=LOGGED_MODEL_STATUS.get(row.status, "PENDING"),
                model_type=row.model_type or "",
                run_id=row.source_run_id or None,
                params=params.get(row.model_id, {}),
                tags=tags.get(row.model_id, {}),
            )
            for row in rows
        ]

    def model_files(self, model: LoggedModelInfo) -> Artifacts:
        return self.access.files(model.artifact_uri)

    def registered_models(self) -> list[RegisteredModelInfo]:
        if not self._has_registry:
            return []
        model_tags = _grouped(self._rows(select(MODEL_TAGS)))
        aliases: dict[str, dict[str, int]] = {}
        for name, alias, version in self._rows(select(ALIASES)) if self._has_aliases else []:
            aliases.setdefault(name, {})[alias] = int(version)
        version_tags: dict[tuple[str, int], dict[str, str]] = {}
        for name, version, key, value in self._rows(select(VERSION_TAGS)):
            version_tags.setdefault((name, int(version)), {})[key] = value or ""
        versions: dict[str, list[VersionInfo]] = {}
        live = VERSIONS.c.current_stage != DELETED_STAGE
        for row in self._rows(select(VERSIONS).where(live).order_by(VERSIONS.c.name, VERSIONS.c.version)):
            versions.setdefault(row.name, []).append(
                VersionInfo(
                    version=int(row.version),
                    created=row.creation_time,
                    description=row.description or "",
                    user=row.user_id or "",
                    stage=row.current_stage or "None",
                    source=row.source or "",
                    run_id=row.run_id or None,
                    status=row.status or "READY",
                    # MLflow's database keeps a version's logged model in its source (models:/m-…) only.
                    model_id=None,
                    tags=version_tags.get((row.name, int(row.version)), {}),
                )
            )
        return [
            RegisteredModelInfo(
                name=row.name,
                description=row.description or "",
                created=row.creation_time,
                updated=row.last_updated_time,
                tags=model_tags.get(row.name, {}),
                aliases=aliases.get(row.name, {}),
                versions=versions.get(row.name, []),
            )
            for row in self._rows(select(MODELS).order_by(MODELS.c.name))
            if model_tags.get(row.name, {}).get(PROMPT_TAG) != "true"
        ]

    def close(self) -> None:
        self.engine.dispose()
        self.access.close()


def _grouped(rows: Sequence[Any]) -> dict[str, dict[str, str]]:
    """(owner, key, value) rows as owner → {key: value}."""
    found: dict[str, dict[str, str]] = {}
    for run_id, key, value in rows:
        found.setdefault(run_id, {})[key] = value or ""
    return found
