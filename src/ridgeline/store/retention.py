"""Retention policies per project, and the facts a retention plan is computed from: each live run's start time,
status and artifact bytes, and which runs carry a given tag."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from ridgeline.domain.entities import RunStatus
from ridgeline.domain.ids import now_ms
from ridgeline.store.database import Database
from ridgeline.store.schema import artifacts, retention_policies, runs, tags
from ridgeline.store.sql import upsert

# Chunk IN (...) lists well below SQLite's bound-parameter limit.
_IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    project_id: str
    max_age_days: int | None
    keep_last: int | None
    updated_at: int
    updated_by: str


@dataclass(frozen=True, slots=True)
class LiveRun:
    """A live run of a project as retention sees it, with what its artifacts hold."""

    run_id: str
    name: str
    status: RunStatus
    start_time: int
    files: int
    bytes: int


class RetentionStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    def put(
        self, project_id: str, max_age_days: int | None, keep_last: int | None, by: str, when: int | None = None
    ) -> RetentionPolicy:
        """Set the project's policy, replacing any earlier one (both rules: a rule left out is switched off);
        ``when`` is the time it was set, now unless an import brings the original time."""
        now = now_ms() if when is None else when
        values = {"max_age_days": max_age_days, "keep_last": keep_last, "updated_at": now, "updated_by": by}
        stmt = upsert(self.db, retention_policies).values(project_id=project_id, **values)
        with self.db.write() as conn:
            conn.execute(stmt.on_conflict_do_update(index_elements=[retention_policies.c.project_id], set_=values))
        return RetentionPolicy(project_id, max_age_days, keep_last, now, by)

    def get(self, project_id: str) -> RetentionPolicy | None:
        found = self._select(project_id)
        return found[0] if found else None

    def all(self) -> list[RetentionPolicy]:
        return self._select(None)

    def _select(self, project_id: str | None) -> list[RetentionPolicy]:
        query = select(retention_policies).order_by(retention_policies.c.project_id)
        if project_id is not None:
            query = query.where(retention_policies.c.project_id == project_id)
        with self.db.read() as conn:
            return [
                RetentionPolicy(row.project_id, row.max_age_days, row.keep_last, row.updated_at, row.updated_by)
                for row in conn.execute(query)
            ]

    def delete(self, project_id: str) -> bool:
        """Remove the project's policy; False when it had none."""
        with self.db.write() as conn:
            result = conn.execute(retention_policies.delete().where(retention_policies.c.project_id == project_id))
        return bool(result.rowcount)

    def live_runs(self, project_id: str) -> list[LiveRun]:
        """The project's runs that are not soft-deleted, newest first (start time, then id for equal times)."""
        query = (
            select(
                runs.c.id,
                runs.c.name,
                runs.c.status,
                runs.c.start_time,
                func.count(artifacts.c.path).label("files"),
                func.coalesce(func.sum(artifacts.c.size), 0).label("bytes"),
            )
            .select_from(runs.outerjoin(artifacts, artifacts.c.run_id == runs.c.id))
            .where(runs.c.project_id == project_id, runs.c.deleted_at.is_(None))
            .group_by(runs.c.id, runs.c.name, runs.c.status, runs.c.start_time)
            .order_by(runs.c.start_time.desc(), runs.c.id.desc())
        )
        with self.db.read() as conn:
            return [
                LiveRun(row.id, row.name, RunStatus(row.status), row.start_time, int(row.files), int(row.bytes))
                for row in conn.execute(query)
            ]

    def tag_values(self, run_ids: Sequence[str], key: str) -> dict[str, str]:
        """The value of tag ``key`` on each of these runs that has it."""
        found: dict[str, str] = {}
        with self.db.read() as conn:
            for start in range(0, len(run_ids), _IN_CHUNK):
                chunk = list(run_ids[start : start + _IN_CHUNK])
                query = select(tags.c.run_id, tags.c.value).where(tags.c.key == key, tags.c.run_id.in_(chunk))
                found.update({row.run_id: row.value for row in conn.execute(query)})
        return found

    def soft_delete(self, run_ids: Sequence[str], when: int) -> int:
        """Mark these runs deleted, except any that were deleted or resumed (RUNNING again) since the plan."""
        changed = 0
        with self.db.write() as conn:
            for start in range(0, len(run_ids), _IN_CHUNK):
                chunk = list(run_ids[start : start + _IN_CHUNK])
                result = conn.execute(
                    runs.update()
                    .where(
                        runs.c.id.in_(chunk),
                        runs.c.deleted_at.is_(None),
                        runs.c.status != RunStatus.RUNNING.value,
                    )
                    .values(deleted_at=when, updated_at=when)
                )
                changed += int(result.rowcount)
        return changed
