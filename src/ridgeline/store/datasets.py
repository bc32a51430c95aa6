"""Datasets, their versions (one per content digest) and the runs that used each version."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, func, select

from ridgeline.domain.entities import Dataset, DatasetVersion, RunInput
from ridgeline.domain.errors import NotFound
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.store.database import Database
from ridgeline.store.schema import dataset_versions, datasets, run_inputs, runs
from ridgeline.store.scope import scoped
from ridgeline.store.sql import upsert

# Chunk IN (...) lists well below SQLite's bound-parameter limit.
_IN_CHUNK = 500


def _version(row: Row[Any], run_count: int = 0) -> DatasetVersion:
    return DatasetVersion(
        id=row.id,
        dataset_id=row.dataset_id,
        dataset_name=row.dataset_name,
        digest=row.digest,
        kind=row.kind,
        rows=row.rows,
        size_bytes=row.size_bytes,
        schema=json.loads(row.schema),
        profile=None if row.profile is None else json.loads(row.profile),
        source=row.source,
        created_at=row.created_at,
        created_by=row.created_by,
        ready_at=row.ready_at,
        ready_by=row.ready_by,
        run_count=run_count,
    )


def _rows_in(conn: Connection, column: Any, values: list[str]) -> list[dict[str, Any]]:
    """Rows of ``column``'s table whose ``column`` is one of ``values``."""
    return [
        dict(row._mapping)
        for start in range(0, len(values), _IN_CHUNK)
        for row in conn.execute(select(column.table).where(column.in_(values[start : start + _IN_CHUNK])))
    ]


def _versions_query() -> Any:
    used = (
        select(run_inputs.c.dataset_version_id, func.count(func.distinct(run_inputs.c.run_id)).label("run_count"))
        .group_by(run_inputs.c.dataset_version_id)
        .subquery()
    )
    return (
        select(dataset_versions, datasets.c.name.label("dataset_name"), used.c.run_count)
        .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
        .outerjoin(used, used.c.dataset_version_id == dataset_versions.c.id)
    )


class DatasetStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    def record_input(
        self, run_id: str, name: str, context: str, values: dict[str, Any], created_by: str
    ) -> DatasetVersion:
        """Link ``run_id`` to the version of dataset ``name`` with this content, creating either as needed."""
        return self.record_inputs(run_id, [(name, context, values)], created_by)[0]

    def record_inputs(
        self, run_id: str, inputs: Sequence[tuple[str, str, dict[str, Any]]], created_by: str
    ) -> list[DatasetVersion]:
        """Link ``run_id`` to several (name, context, version values) at once, in one transaction.

        Safe to repeat and to race: the same content logged twice, by one run or many, is one version.
        """
        now = now_ms()
        with self.db.write() as conn:
            version_ids = [
                self._link(conn, run_id, name, context, values, now, created_by) for name, context, values in inputs
            ]
        return [self.version(version_id) for version_id in version_ids]

    def _link(
        self, conn: Connection, run_id: str, name: str, context: str, values: dict[str, Any], now: int, created_by: str
    ) -> str:
        dataset_id = self._dataset_id(conn, name, now)
        conn.execute(
            upsert(self.db, dataset_versions)
            .values(
                id=new_id(),
                dataset_id=dataset_id,
                digest=values["digest"],
                kind=values["kind"],
                rows=values["rows"],
                size_bytes=values["size_bytes"],
                schema=json.dumps(values["schema"]),
                profile=None if values["profile"] is None else json.dumps(values["profile"]),
                source=values["source"],
                created_at=now,
                created_by=created_by,
            )
            .on_conflict_do_nothing(index_elements=["dataset_id", "digest"])
        )
        version_id: str = conn.execute(
            select(dataset_versions.c.id).where(
                dataset_versions.c.dataset_id == dataset_id, dataset_versions.c.digest == values["digest"]
            )
        ).scalar_one()
        conn.execute(
            upsert(self.db, run_inputs)
            .values(run_id=run_id, dataset_version_id=version_id, context=context, created_at=now)
            .on_conflict_do_nothing(index_elements=["run_id", "dataset_version_id", "context"])
        )
        return version_id

    def _dataset_id(self, conn: Connection, name: str, now: int) -> str:
        conn.execute(
            upsert(self.db, datasets)
            .values(id=new_id(), workspace_id=scoped(None), name=name, created_at=now)
            .on_conflict_do_nothing(index_elements=["workspace_id", "name"])
        )
        found: str = conn.execute(
            select(datasets.c.id).where(datasets.c.workspace_id == scoped(None), datasets.c.name == name)
        ).scalar_one()
        return found

    def list_datasets(self) -> list[Dataset]:
        stmt = (
            select(
                datasets,
                func.count(dataset_versions.c.id).label("version_count"),
                func.max(dataset_versions.c.created_at).label("latest"),
            )
            .outerjoin(dataset_versions, dataset_versions.c.dataset_id == datasets.c.id)
            .where(datasets.c.workspace_id == scoped(None))
            .group_by(datasets.c.id)
            .order_by(datasets.c.name)
        )
        with self.db.read() as conn:
            rows = conn.execute(stmt).all()
        return [Dataset(row.id, row.name, row.created_at, row.version_count, row.latest) for row in rows]

    def dataset(self, name: str) -> Dataset:
        for found in self.list_datasets():
            if found.name == name:
                return found
        raise NotFound(f"dataset {name!r} does not exist", field="name")

    def versions(self, dataset_id: str) -> list[DatasetVersion]:
        stmt = (
            _versions_query()
            .where(dataset_versions.c.dataset_id == dataset_id)
            .order_by(dataset_versions.c.created_at.desc(), dataset_versions.c.id)
        )
        with self.db.read() as conn:
            return [_version(row, row.run_count or 0) for row in conn.execute(stmt).all()]

    def version(self, version_id: str) -> DatasetVersion:
        with self.db.read() as conn:
            row = conn.execute(_versions_query().where(dataset_versions.c.id == version_id)).first()
        if row is None:
            raise NotFound(f"dataset version {version_id!r} does not exist", field="version_id")
        return _version(row, row.run_count or 0)

    def find_version(self, dataset_id: str, digest_prefix: str) -> list[DatasetVersion]:
        """Versions whose digest starts with ``digest_prefix`` (hex, checked by the caller: no LIKE wildcards)."""
        stmt = _versions_query().where(
            dataset_versions.c.dataset_id == dataset_id, dataset_versions.c.digest.like(f"{digest_prefix}%")
        )
        with self.db.read() as conn:
            return [_version(row, row.run_count or 0) for row in conn.execute(stmt).all()]

    def mark_ready(self, version_id: str, by: str | None, when: int | None) -> DatasetVersion:
        """Record (or, with ``by`` None, withdraw) that a version is ready for modelling."""
        with self.db.write() as conn:
            changed = conn.execute(
                dataset_versions.update()
                .where(dataset_versions.c.id == version_id)
                .values(ready_at=when if by is not None else None, ready_by=by)
            ).rowcount
        if not changed:
            raise NotFound(f"dataset version {version_id!r} does not exist", field="version_id")
        return self.version(version_id)

    def inputs_of(self, run_id: str) -> list[RunInput]:
        return self.inputs_of_runs([run_id])[run_id]

    def inputs_of_runs(self, run_ids: Sequence[str]) -> dict[str, list[RunInput]]:
        """The inputs of each of these runs, in the order they were logged: one query per :data:`_IN_CHUNK` runs,
        not one per run."""
        found: dict[str, list[RunInput]] = {run_id: [] for run_id in run_ids}
        ids = list(found)
        with self.db.read() as conn:
            for start in range(0, len(ids), _IN_CHUNK):
                stmt = (
                    _versions_query()
                    .add_columns(run_inputs.c.run_id, run_inputs.c.context)
                    .join(run_inputs, run_inputs.c.dataset_version_id == dataset_versions.c.id)
                    .where(run_inputs.c.run_id.in_(ids[start : start + _IN_CHUNK]))
                    .order_by(run_inputs.c.created_at, datasets.c.name)
                )
                for row in conn.execute(stmt):
                    found[row.run_id].append(RunInput(row.run_id, row.context, _version(row, row.run_count or 0)))
        return found

    def runs_using(self, version_id: str) -> list[tuple[str, str]]:
        """(run id, context) of every live run that used the version, newest run first."""
        stmt = (
            select(run_inputs.c.run_id, run_inputs.c.context)
            .join(runs, runs.c.id == run_inputs.c.run_id)
            .where(run_inputs.c.dataset_version_id == version_id, runs.c.deleted_at.is_(None))
            .order_by(runs.c.start_time.desc(), runs.c.id)
        )
        with self.db.read() as conn:
            return [(row.run_id, row.context) for row in conn.execute(stmt)]

    # import and export ----------------------------------------------------------------------------------------

    def put_imported_version(
        self, conn: Connection, name: str, dataset: dict[str, Any], version: dict[str, Any]
    ) -> tuple[str, bool, bool]:
        """The id of the version of dataset ``name`` with ``version["digest"]``, in ``conn``'s transaction.

        An absent dataset or version is created from the values given (``dataset``: ``id``, ``created_at``;
        ``version``: every column but ``dataset_id``), keeping its ``id`` unless another row holds it. Returns
        the version id and whether the dataset and the version were created.
        """
        dataset_id = conn.execute(
            select(datasets.c.id).where(datasets.c.workspace_id == scoped(None), datasets.c.name == name)
        ).scalar()
        dataset_created = dataset_id is None
        if dataset_id is None:
            dataset_id = self._free_id(conn, datasets, dataset.get("id"))
            conn.execute(
                datasets.insert().values(
                    id=dataset_id, workspace_id=scoped(None), name=name, created_at=dataset["created_at"]
                )
            )
        version_id = conn.execute(
            select(dataset_versions.c.id).where(
                dataset_versions.c.dataset_id == dataset_id, dataset_versions.c.digest == version["digest"]
            )
        ).scalar()
        if version_id is not None:
            return str(version_id), dataset_created, False
        version_id = self._free_id(conn, dataset_versions, version.get("id"))
        profile = version["profile"]
        conn.execute(
            dataset_versions.insert().values(
                {
                    **version,
                    "id": version_id,
                    "dataset_id": dataset_id,
                    "schema": json.dumps(version["schema"]),
                    "profile": None if profile is None else json.dumps(profile),
                }
            )
        )
        return version_id, dataset_created, True

    @staticmethod
    def _free_id(conn: Connection, table: Any, wanted: str | None) -> str:
        if wanted is not None and conn.execute(select(table.c.id).where(table.c.id == wanted)).first() is None:
            return wanted
        return new_id()

    def link_inputs(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Add run inputs (``run_id``, ``dataset_version_id``, ``context``, ``created_at``); existing ones stay."""
        if rows:
            conn.execute(
                upsert(self.db, run_inputs).on_conflict_do_nothing(
                    index_elements=["run_id", "dataset_version_id", "context"]
                ),
                rows,
            )

    def input_keys(self, run_ids: list[str]) -> dict[str, set[tuple[str, str, str]]]:
        """(dataset name, version digest, context) of every input of each run (runs without inputs are absent)."""
        found: dict[str, set[tuple[str, str, str]]] = {}
        with self.db.read() as conn:
            for start in range(0, len(run_ids), _IN_CHUNK):
                query = (
                    select(run_inputs.c.run_id, datasets.c.name, dataset_versions.c.digest, run_inputs.c.context)
                    .join(dataset_versions, dataset_versions.c.id == run_inputs.c.dataset_version_id)
                    .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
                    .where(run_inputs.c.run_id.in_(run_ids[start : start + _IN_CHUNK]))
                )
                for run_id, name, digest, context in conn.execute(query).all():
                    found.setdefault(run_id, set()).add((name, digest, context))
        return found

    def export_rows(
        self, run_ids: list[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """The stored rows of these runs' inputs, of the versions they used and of those versions' datasets, each
        list sorted by its key columns; schema and profile decoded from JSON."""
        with self.db.read() as conn:
            inputs = _rows_in(conn, run_inputs.c.run_id, run_ids)
            versions = _rows_in(conn, dataset_versions.c.id, sorted({row["dataset_version_id"] for row in inputs}))
            found = _rows_in(conn, datasets.c.id, sorted({row["dataset_id"] for row in versions}))
        inputs.sort(key=lambda row: (row["run_id"], row["dataset_version_id"], row["context"]))
        versions.sort(key=lambda row: row["id"])
        found.sort(key=lambda row: row["id"])
        for row in versions:
            row["schema"] = json.loads(row["schema"])
            row["profile"] = None if row["profile"] is None else json.loads(row["profile"])
        return found, versions, inputs
