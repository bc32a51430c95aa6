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
from ridgeline.services.mlflow_import.model import Artifacts, DatasetInput, Experiment, RunSummary, history
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
            self._has_inputs = {"datasets", "inputs", "input_tags"} <= set(inspector.get_table_names())
            # Databases of MLflow before 2.x lack it.
            self._has_deleted_time = "deleted_time" in {c["name"] for c in inspector.get_columns("runs")}

    def _rows(self, query: Any) -> Sequence[Any]:
        with self.engine.connect() as conn:
            return conn.execute(query).all()

    def _by_run(self, query: Any, ids_column: Any, ids: list[str]) -> Sequence[Any]:
        """Rows of ``query`` for these runs, in chunks the database accepts."""
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
        params = _grouped(self._by_run(select(PARAMS), PARAMS.c.run_uuid, ids))
        tags = _grouped(self._by_run(select(TAGS), TAGS.c.run_uuid, ids))
        latest: dict[str, dict[str, tuple[int, int]]] = {}
        for run_id, key, stamp, step in self._by_run(select(LATEST), LATEST.c.run_uuid, ids):
            latest.setdefault(run_id, {})[key] = (int(step), int(stamp or 0))
        counts: dict[str, dict[str, int]] = {}
        counting = select(METRICS.c.run_uuid, METRICS.c.key, func.count()).group_by(METRICS.c.run_uuid, METRICS.c.key)
        for run_id, key, count in self._by_run(counting, METRICS.c.run_uuid, ids):
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
        rows = self._by_run(query, INPUTS.c.destination_id, ids)
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

    def close(self) -> None:
        self.engine.dispose()
        self.access.close()


def _grouped(rows: Sequence[Any]) -> dict[str, dict[str, str]]:
    """(run id, key, value) rows as run id → {key: value}."""
    found: dict[str, dict[str, str]] = {}
    for run_id, key, value in rows:
        found.setdefault(run_id, {})[key] = value or ""
    return found
