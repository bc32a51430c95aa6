"""Runs with their params, tags and latest metrics; batched logging applied exactly once."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, Table, select

from ridgeline.domain.entities import LogBatch, MetricSeries, MetricValue, RunRecord, RunStatus
from ridgeline.domain.errors import Conflict, InvalidArgument, NotFound
from ridgeline.domain.filters import Expr, OrderKey
from ridgeline.domain.ids import now_ms
from ridgeline.domain.values import numeric_value
from ridgeline.store.database import Database
from ridgeline.store.metrics import MetricStore, SeriesArrays
from ridgeline.store.schema import VALUE_PREFIX_LENGTH, applied_batches, latest_metrics, params, runs, tags
from ridgeline.store.search import FilterCompiler, after_position, base_query
from ridgeline.store.sql import upsert

# Chunk IN (...) lists well below SQLite's bound-parameter limit.
_IN_CHUNK = 500


@dataclass(frozen=True)
class BatchOutcome:
    applied: bool
    conflicts: list[dict[str, str]] = field(default_factory=list)


def _run(row: Row[Any], data: dict[str, Any] | None = None) -> RunRecord:
    data = data or {}
    return RunRecord(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        status=RunStatus(row.status),
        start_time=row.start_time,
        end_time=row.end_time,
        user=row.user_name,
        notes=row.notes,
        parent_run_id=row.parent_run_id,
        deleted_at=row.deleted_at,
        params=data.get("params", {}),
        tags=data.get("tags", {}),
        latest_metrics=data.get("metrics", {}),
    )


def text_row(run_id: str, key: str, value: str) -> dict[str, Any]:
    """A params or tags row with the derived columns search relies on."""
    return {
        "run_id": run_id,
        "key": key,
        "value": value,
        "value_prefix": value[:VALUE_PREFIX_LENGTH],
        "num_value": numeric_value(value),
    }


def _merge_by_key(series: list[MetricSeries]) -> dict[str, SeriesArrays]:
    """One column set per key (a batch may carry a key in several series)."""
    by_key: dict[str, list[SeriesArrays]] = {}
    for item in series:
        by_key.setdefault(item.key, []).append(SeriesArrays.of(item))
    return {key: parts[0] if len(parts) == 1 else SeriesArrays.concat(parts) for key, parts in by_key.items()}


class RunStore:
    def __init__(self, database: Database, metrics: MetricStore) -> None:
        self.db = database
        self.metrics = metrics
        self.filters = FilterCompiler(database)

    def create(self, values: dict[str, Any], params: dict[str, str], tags: dict[str, str]) -> bool:
        """Insert a run with its first params and tags, unless its id exists already (then nothing changes);
        returns True when it was created."""
        now = now_ms()
        row = {"end_time": None, "deleted_at": None, "updated_at": now, **values}
        with self.db.write() as conn:
            # RETURNING, not rowcount: rowcount of INSERT … ON CONFLICT is unreliable across drivers.
            inserted = conn.execute(upsert(self.db, runs).values(**row).on_conflict_do_nothing().returning(runs.c.id))
            if inserted.first() is None:
                return False
            self._log_params(conn, values["id"], params)
            self._log_tags(conn, values["id"], tags.items())
            return True

    def get(self, run_id: str) -> RunRecord:
        with self.db.read() as conn:
            row = self._row(conn, run_id)
            data = self._load_data(conn, [run_id])
        return _run(row, data.get(run_id))

    def get_header(self, run_id: str) -> RunRecord:
        """The run without its params, tags and metrics: one indexed read, for checks on hot paths (artifact
        transfers ask only whether the run exists, where it is and whether it is deleted)."""
        with self.db.read() as conn:
            return _run(self._row(conn, run_id))

    @staticmethod
    def _row(conn: Connection, run_id: str) -> Row[Any]:
        row = conn.execute(select(runs).where(runs.c.id == run_id)).first()
        if row is None:
            raise NotFound(f"run {run_id!r} does not exist", field="run_id")
        return row

    def update(self, run_ids: Sequence[str], **values: Any) -> int:
        values["updated_at"] = now_ms()
        with self.db.write() as conn:
            result = conn.execute(runs.update().where(runs.c.id.in_(list(run_ids))).values(**values))
        return int(result.rowcount)

    def _load_data(self, conn: Connection, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Params, tags and latest metrics of many runs: three queries per chunk, rows read as plain tuples."""
        data: dict[str, dict[str, Any]] = {rid: {"params": {}, "tags": {}, "metrics": {}} for rid in run_ids}
        for start in range(0, len(run_ids), _IN_CHUNK):
            chunk = run_ids[start : start + _IN_CHUNK]
            for table, kind in ((params, "params"), (tags, "tags")):
                query = select(table.c.run_id, table.c.key, table.c.value).where(table.c.run_id.in_(chunk))
                for run_id, key, value in conn.execute(query).all():
                    data[run_id][kind][key] = value
            query = select(
                latest_metrics.c.run_id,
                latest_metrics.c.key,
                latest_metrics.c.value,
                latest_metrics.c.step,
                latest_metrics.c.timestamp,
            ).where(latest_metrics.c.run_id.in_(chunk))
            step: int
            stamp: int
            for run_id, key, value, step, stamp in conn.execute(query).all():
                data[run_id]["metrics"][key] = MetricValue(key, math.nan if value is None else value, step, stamp)
        return data

    def search(
        self,
        project_ids: list[str],
        expr: Expr | None,
        order: list[OrderKey],
        after: list[Any] | None,
        limit: int,
        deleted: bool | None = False,
        offset: int = 0,
    ) -> tuple[list[RunRecord], list[Any] | None]:
        """A page of runs, and the position of its last run when more follow (sort values, then the run id).

        ``after`` is such a position from the previous page.
        """
        stmt = base_query(project_ids, deleted)
        if expr is not None:
            stmt = stmt.where(self.filters.compile(expr))
        stmt, terms = self.filters.order_terms(stmt, order)
        stmt = stmt.add_columns(*(term.column.label(f"sort_{i}") for i, term in enumerate(terms)))
        if after is not None:
            if len(after) != len(terms) + 1:
                raise InvalidArgument("cursor belongs to another query", field="cursor")
            stmt = stmt.where(after_position(terms, after[:-1], after[-1]))
        stmt = stmt.order_by(*(term.ordering() for term in terms), runs.c.id).limit(limit + 1).offset(offset)
        with self.db.read() as conn:
            rows = conn.execute(stmt).all()
            page = rows[:limit]
            data = self._load_data(conn, [row.id for row in page])
        position = None
        if len(rows) > limit:
            last = page[-1]._mapping
            position = [last[f"sort_{i}"] for i in range(len(terms))] + [last["id"]]
        return [_run(row, data[row.id]) for row in page], position

    def log_batch(self, run_id: str, batch: LogBatch) -> BatchOutcome:
        """Apply a batch in one transaction, or nothing if its id was applied before.

        A param that already holds another value is left as it is and reported as a conflict; the rest of
        the batch still lands, so one stale param never costs the metrics logged beside it.
        """
        with self.db.write() as conn:
            claim_run = select(runs.c.deleted_at).where(runs.c.id == run_id)
            if not self.db.is_sqlite:
                # Batches of one run take turns: their per-key locks (tail blocks, latest values) could
                # otherwise be taken in opposite orders and deadlock. SQLite's BEGIN IMMEDIATE already serialises.
                claim_run = claim_run.with_for_update()
            run = conn.execute(claim_run).first()
            if run is None:
                raise NotFound(f"run {run_id!r} does not exist", field="run_id")
            if run.deleted_at is not None:
                raise Conflict(f"run {run_id!r} is deleted; restore it before logging to it", field="run_id")
            claimed = conn.execute(
                upsert(self.db, applied_batches)
                .values(batch_id=batch.batch_id, run_id=run_id, applied_at=now_ms(), point_count=batch.point_count)
                .on_conflict_do_nothing()
                .returning(applied_batches.c.batch_id)
            )
            if claimed.first() is None:
                return BatchOutcome(applied=False)
            conflicts = self._log_params(conn, run_id, batch.params)
            self._log_tags(conn, run_id, batch.tags.items())
            self.metrics.append_many(conn, run_id, _merge_by_key(batch.metrics))
            conn.execute(runs.update().where(runs.c.id == run_id).values(updated_at=now_ms()))
        return BatchOutcome(applied=True, conflicts=conflicts)

    def _log_params(self, conn: Connection, run_id: str, values: dict[str, str]) -> list[dict[str, str]]:
        if not values:
            return []
        existing = {
            row.key: row.value
            for row in conn.execute(
                select(params.c.key, params.c.value).where(params.c.run_id == run_id, params.c.key.in_(list(values)))
            )
        }
        conflicts = [
            {
                "field": f"params.{key}",
                "message": f"param {key!r} is already {existing[key]!r}; params cannot change (got {value!r})",
            }
            for key, value in values.items()
            if key in existing and existing[key] != value
        ]
        fresh = [text_row(run_id, key, value) for key, value in values.items() if key not in existing]
        if fresh:
            conn.execute(params.insert(), fresh)
        return conflicts

    def _log_tags(self, conn: Connection, run_id: str, items: Iterable[tuple[str, str]]) -> None:
        self._put_texts(conn, tags, run_id, items)

    def _put_texts(self, conn: Connection, table: Table, run_id: str, items: Iterable[tuple[str, str]]) -> None:
        """Insert or overwrite params or tags rows."""
        rows = [text_row(run_id, key, value) for key, value in items]
        if not rows:
            return
        stmt = upsert(self.db, table)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.run_id, table.c.key],
                set_={
                    "value": stmt.excluded.value,
                    "value_prefix": stmt.excluded.value_prefix,
                    "num_value": stmt.excluded.num_value,
                },
            ),
            rows,
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        with self.db.write() as conn:
            result = conn.execute(tags.delete().where(tags.c.run_id == run_id, tags.c.key == key))
        if result.rowcount == 0:
            raise NotFound(f"run {run_id!r} has no tag {key!r}", field="key")

    # import and export ----------------------------------------------------------------------------------------

    def get_many(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        """The runs among these ids that exist, with their params, tags and latest metrics."""
        found: dict[str, RunRecord] = {}
        with self.db.read() as conn:
            for start in range(0, len(run_ids), _IN_CHUNK):
                chunk = list(run_ids[start : start + _IN_CHUNK])
                rows = conn.execute(select(runs).where(runs.c.id.in_(chunk))).all()
                data = self._load_data(conn, [row.id for row in rows])
                found.update({row.id: _run(row, data[row.id]) for row in rows})
        return found

    def project_rows(self, project_id: str) -> list[dict[str, Any]]:
        """Every run of the project, soft-deleted ones included, as its stored row with ``params`` and ``tags``
        added, ordered by id."""
        with self.db.read() as conn:
            rows = [
                dict(row._mapping)
                for row in conn.execute(select(runs).where(runs.c.project_id == project_id).order_by(runs.c.id))
            ]
            data = self._load_data(conn, [row["id"] for row in rows])
        for row in rows:
            row["params"] = data[row["id"]]["params"]
            row["tags"] = data[row["id"]]["tags"]
        return rows

    def put_imported(
        self,
        conn: Connection,
        values: dict[str, Any],
        param_values: dict[str, str],
        tag_values: dict[str, str],
        drop_tags: Sequence[str] = (),
    ) -> None:
        """Write a run as another system holds it, in ``conn``'s transaction: the row with its own id, times and
        status (inserted, or overwritten except for its project), these params and tags set (others kept), and the
        ``drop_tags`` removed."""
        stmt = upsert(self.db, runs).values(**values)
        kept = {"id", "project_id"}
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[runs.c.id],
                set_={name: stmt.excluded[name] for name in values if name not in kept},
            )
        )
        self._put_texts(conn, params, values["id"], param_values.items())
        self._put_texts(conn, tags, values["id"], tag_values.items())
        if drop_tags:
            conn.execute(tags.delete().where(tags.c.run_id == values["id"], tags.c.key.in_(list(drop_tags))))
