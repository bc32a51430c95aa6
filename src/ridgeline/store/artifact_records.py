"""Artifact rows: what each run stored (path, size, sha256), and the storage used per run and project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, and_, func, select

from ridgeline.domain.entities import ArtifactFile
from ridgeline.domain.errors import NotFound
from ridgeline.store.database import Database
from ridgeline.store.schema import artifacts, runs
from ridgeline.store.sql import upsert


@dataclass(frozen=True, slots=True)
class RunUsage:
    run_id: str
    run_name: str
    project_id: str
    files: int
    bytes: int
    deleted_at: int | None


def _file(row: Row[Any]) -> ArtifactFile:
    return ArtifactFile(path=row.path, size=row.size, sha256=row.sha256, created_at=row.created_at)


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching paths that start with ``prefix`` (checked paths hold no % or \\; _ is escaped)."""
    return prefix.replace("_", "\\_") + "%"


class ArtifactRecords:
    def __init__(self, database: Database) -> None:
        self.db = database

    def put(self, run_id: str, record: ArtifactFile) -> None:
        """Record a stored file, replacing the row of an earlier upload to the same path."""
        with self.db.write() as conn:
            self.put_many(conn, run_id, [record])

    def put_many(self, conn: Connection, run_id: str, records: list[ArtifactFile]) -> None:
        """Record stored files in ``conn``'s transaction, replacing earlier rows of the same paths."""
        if not records:
            return
        stmt = upsert(self.db, artifacts)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[artifacts.c.run_id, artifacts.c.path],
                set_={
                    "size": stmt.excluded.size,
                    "sha256": stmt.excluded.sha256,
                    "created_at": stmt.excluded.created_at,
                },
            ),
            [
                {"run_id": run_id, "path": r.path, "size": r.size, "sha256": r.sha256, "created_at": r.created_at}
                for r in records
            ],
        )

    def get(self, run_id: str, path: str) -> ArtifactFile:
        with self.db.read() as conn:
            row = conn.execute(select(artifacts).where(artifacts.c.run_id == run_id, artifacts.c.path == path)).first()
        if row is None:
            raise NotFound(f"run {run_id!r} has no artifact {path!r}", field="path")
        return _file(row)

    def files(self, run_id: str, prefix: str = "") -> list[ArtifactFile]:
        query = select(artifacts).where(artifacts.c.run_id == run_id)
        if prefix:
            query = query.where(artifacts.c.path.like(_like_prefix(prefix), escape="\\"))
        with self.db.read() as conn:
            return [_file(row) for row in conn.execute(query.order_by(artifacts.c.path))]

    def delete(self, run_id: str, path: str) -> None:
        with self.db.write() as conn:
            conn.execute(artifacts.delete().where(artifacts.c.run_id == run_id, artifacts.c.path == path))

    def usage(
        self, *, project_id: str | None = None, run_id: str | None = None, deleted_only: bool = False
    ) -> list[RunUsage]:
        """Files and bytes per run (runs without artifacts count zero): of a project, of one run, or of the
        soft-deleted runs."""
        query = (
            select(
                runs.c.id,
                runs.c.name,
                runs.c.project_id,
                runs.c.deleted_at,
                func.count(artifacts.c.path).label("files"),
                func.coalesce(func.sum(artifacts.c.size), 0).label("bytes"),
            )
            .select_from(runs.outerjoin(artifacts, and_(artifacts.c.run_id == runs.c.id)))
            .group_by(runs.c.id, runs.c.name, runs.c.project_id, runs.c.deleted_at)
            .order_by(runs.c.id)
        )
        if project_id is not None:
            query = query.where(runs.c.project_id == project_id)
        if run_id is not None:
            query = query.where(runs.c.id == run_id)
        if deleted_only:
            query = query.where(runs.c.deleted_at.is_not(None))
        with self.db.read() as conn:
            return [
                RunUsage(row.id, row.name, row.project_id, int(row.files), int(row.bytes), row.deleted_at)
                for row in conn.execute(query)
            ]

    def existing_runs(self, run_ids: list[str]) -> set[str]:
        """Which of these ids still have a run row (gc's sweep of folders left by a run removed earlier)."""
        with self.db.read() as conn:
            return {row.id for row in conn.execute(select(runs.c.id).where(runs.c.id.in_(run_ids)))}

    def purge_run(self, run_id: str) -> bool:
        """Remove a soft-deleted run for good; its params, metrics, tags and artifact rows go with it (ON DELETE
        CASCADE). False when the run was restored (or removed) meanwhile."""
        with self.db.write() as conn:
            result = conn.execute(runs.delete().where(runs.c.id == run_id, runs.c.deleted_at.is_not(None)))
        return bool(result.rowcount)
