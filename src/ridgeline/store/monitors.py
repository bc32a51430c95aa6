"""Monitors, their periods, window profiles and performance, alerts, and ingested prediction log files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, Row, and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ridgeline.domain.errors import AlreadyExists, NotFound
from ridgeline.domain.ids import now_ms
from ridgeline.domain.monitors import Alert, Monitor, Period
from ridgeline.store.database import Database
from ridgeline.store.schema import (
    monitor_alerts,
    monitor_log_files,
    monitor_periods,
    monitor_windows,
    monitors,
    registered_models,
)
from ridgeline.store.scope import scoped
from ridgeline.store.sql import upsert

_JSON_COLUMNS = ("policy", "quality", "rules", "channels", "segment_by")


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class WindowRow:
    """One stored period x window x segment."""

    __slots__ = ("labelled", "performance", "period", "profile", "rows", "segment", "updated_at", "window_start")

    def __init__(self, row: Row[Any]) -> None:
        self.period: int = row.period
        self.window_start: int = row.window_start
        self.segment: str = row.segment
        self.rows: int = row.rows
        self.profile: dict[str, Any] = orjson.loads(row.profile)
        self.labelled: int = row.labelled
        self.performance: dict[str, Any] | None = None if row.performance is None else orjson.loads(row.performance)
        self.updated_at: int = row.updated_at


class MonitorStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    # monitors ------------------------------------------------------------------------------------------------

    def create(self, monitor: Monitor, workspace_id: str | None = None) -> Monitor:
        workspace_id = scoped(workspace_id)
        with self.db.write() as conn:
            model_id = self._model_id(conn, monitor.model_name, workspace_id)
            try:
                conn.execute(monitors.insert().values(workspace_id=workspace_id, model_id=model_id, **_row(monitor)))
            except IntegrityError:
                raise AlreadyExists(f"a monitor named {monitor.name!r} already exists", field="name") from None
        return self.get(monitor.name, workspace_id)

    def update(self, monitor: Monitor) -> Monitor:
        values = _row(monitor)
        for key in ("id", "created_at", "created_by"):
            values.pop(key)
        with self.db.write() as conn:
            conn.execute(update(monitors).where(monitors.c.id == monitor.id).values(**values))
        return self.get_by_id(monitor.id)

    def delete(self, monitor_id: str) -> None:
        with self.db.write() as conn:
            for table in (monitor_windows, monitor_periods, monitor_alerts):
                conn.execute(delete(table).where(table.c.monitor_id == monitor_id))
            conn.execute(delete(monitors).where(monitors.c.id == monitor_id))

    def get(self, name: str, workspace_id: str | None = None) -> Monitor:
        workspace_id = scoped(workspace_id)
        found = self._select(monitors.c.workspace_id == workspace_id, monitors.c.name == name)
        if not found:
            raise NotFound(f"no monitor named {name!r}", field="monitor")
        return found[0]

    def get_by_id(self, monitor_id: str) -> Monitor:
        found = self._select(monitors.c.id == monitor_id)
        if not found:
            raise NotFound(f"no monitor with id {monitor_id!r}", field="monitor")
        return found[0]

    def find(self, model_name: str | None = None, workspace_id: str | None = None) -> list[Monitor]:
        workspace_id = scoped(workspace_id)
        where = [monitors.c.workspace_id == workspace_id]
        if model_name is not None:
            where.append(registered_models.c.name == model_name)
        return self._select(*where)

    def everywhere(self) -> list[tuple[str, Monitor]]:
        """Every monitor of every workspace, with its workspace id (the server's periodic pass serves them all)."""
        query = select(monitors.c.workspace_id).order_by(monitors.c.name)
        with self.db.read() as conn:
            workspace_ids = sorted({row[0] for row in conn.execute(query)})
        return [(workspace_id, monitor) for workspace_id in workspace_ids for monitor in self.find(None, workspace_id)]

    def _select(self, *where: Any) -> list[Monitor]:
        query = (
            select(monitors, registered_models.c.name.label("model_name"))
            .join(registered_models, registered_models.c.id == monitors.c.model_id)
            .where(*where)
            .order_by(monitors.c.name)
        )
        with self.db.read() as conn:
            return [_monitor(row) for row in conn.execute(query)]

    @staticmethod
    def _model_id(conn: Connection, name: str, workspace_id: str) -> str:
        found = conn.execute(
            select(registered_models.c.id).where(
                registered_models.c.workspace_id == workspace_id, registered_models.c.name == name
            )
        ).scalar()
        if found is None:
            raise NotFound(f"Registered model {name!r} not found", field="model")
        return str(found)

    # periods -------------------------------------------------------------------------------------------------

    def periods(self, monitor_id: str) -> list[Period]:
        query = select(monitor_periods).where(monitor_periods.c.monitor_id == monitor_id)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(monitor_periods.c.number)).all()
        return [
            Period(
                row.monitor_id,
                row.number,
                row.model_version,
                orjson.loads(row.reference),
                row.reference_source,
                row.started_at,
            )
            for row in rows
        ]

    def add_period(
        self, monitor_id: str, model_version: int | None, reference: dict[str, Any], source: str, started_at: int
    ) -> Period:
        """A new period, numbered after the last; if another writer just added one for the same version, that
        one is returned instead (one period per version)."""
        for _attempt in range(3):
            try:
                with self.db.write() as conn:
                    existing = conn.execute(
                        select(monitor_periods.c.number).where(
                            monitor_periods.c.monitor_id == monitor_id, _same_version(model_version)
                        )
                    ).scalar()
                    if existing is None:
                        last = conn.execute(
                            select(func.max(monitor_periods.c.number)).where(monitor_periods.c.monitor_id == monitor_id)
                        ).scalar()
                        conn.execute(
                            monitor_periods.insert().values(
                                monitor_id=monitor_id,
                                number=(last or 0) + 1,
                                model_version=model_version,
                                reference=_dumps(reference),
                                reference_source=source,
                                started_at=started_at,
                            )
                        )
                break
            except IntegrityError:
                continue  # another writer took that number: look again
        return next(period for period in self.periods(monitor_id) if period.model_version == model_version)

    # windows -------------------------------------------------------------------------------------------------

    def merge_windows(
        self,
        monitor_id: str,
        parts: dict[tuple[int, int, str], tuple[int, dict[str, Any]]],
        merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
    ) -> None:
        """Fold partial profiles into the stored ones: ``parts`` maps (period, window_start, segment) to (rows,
        profile JSON); ``merge`` combines two profile JSONs. Read and write happen in one write transaction with
        the rows locked (PostgreSQL) or the writer lock held (SQLite), so concurrent ingestion loses nothing."""
        stamp = now_ms()
        with self.db.write() as conn:
            # Rows are locked in one global order, so writers touching the same windows wait instead of deadlocking.
            for (period, window_start, segment), (rows, profile) in sorted(parts.items()):
                key = and_(
                    monitor_windows.c.monitor_id == monitor_id,
                    monitor_windows.c.period == period,
                    monitor_windows.c.window_start == window_start,
                    monitor_windows.c.segment == segment,
                )
                stored = conn.execute(
                    select(monitor_windows.c.rows, monitor_windows.c.profile).where(key).with_for_update()
                ).first()
                if stored is None:
                    statement = upsert(self.db, monitor_windows).values(
                        monitor_id=monitor_id,
                        period=period,
                        window_start=window_start,
                        segment=segment,
                        rows=rows,
                        profile=_dumps(profile),
                        labelled=0,
                        updated_at=stamp,
                    )
                    # A concurrent first insert of the same window: retry as a merge. (RETURNING says whether this
                    # insert happened; rowcount does not, PostgreSQL drivers report -1 here.)
                    inserted = conn.execute(
                        statement.on_conflict_do_nothing().returning(monitor_windows.c.window_start)
                    ).first()
                    if inserted is not None:
                        continue
                    stored = conn.execute(
                        select(monitor_windows.c.rows, monitor_windows.c.profile).where(key).with_for_update()
                    ).one()
                merged = merge(orjson.loads(stored.profile), profile)
                conn.execute(
                    update(monitor_windows)
                    .where(key)
                    .values(rows=stored.rows + rows, profile=_dumps(merged), updated_at=stamp)
                )

    def set_performance(
        self, monitor_id: str, results: Iterable[tuple[int, int, str, int, dict[str, Any] | None]]
    ) -> None:
        """(period, window_start, segment, labelled rows, metrics) for windows whose actuals changed."""
        stamp = now_ms()
        with self.db.write() as conn:
            for period, window_start, segment, labelled, metrics in results:
                conn.execute(
                    update(monitor_windows)
                    .where(
                        monitor_windows.c.monitor_id == monitor_id,
                        monitor_windows.c.period == period,
                        monitor_windows.c.window_start == window_start,
                        monitor_windows.c.segment == segment,
                    )
                    .values(
                        labelled=labelled,
                        performance=None if metrics is None else _dumps(metrics),
                        updated_at=stamp,
                    )
                )

    def windows(
        self,
        monitor_id: str,
        *,
        start: int | None = None,
        end: int | None = None,
        segment: str | None = None,
        period: int | None = None,
    ) -> list[WindowRow]:
        where = [monitor_windows.c.monitor_id == monitor_id]
        if start is not None:
            where.append(monitor_windows.c.window_start >= start)
        if end is not None:
            where.append(monitor_windows.c.window_start < end)
        if segment is not None:
            where.append(monitor_windows.c.segment == segment)
        if period is not None:
            where.append(monitor_windows.c.period == period)
        order = (monitor_windows.c.period, monitor_windows.c.window_start, monitor_windows.c.segment)
        with self.db.read() as conn:
            return [WindowRow(row) for row in conn.execute(select(monitor_windows).where(*where).order_by(*order))]

    def latest_window(self, monitor_id: str) -> int | None:
        query = select(func.max(monitor_windows.c.window_start)).where(monitor_windows.c.monitor_id == monitor_id)
        with self.db.read() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else int(found)

    def segments(self, monitor_id: str) -> list[str]:
        query = select(monitor_windows.c.segment).where(monitor_windows.c.monitor_id == monitor_id).distinct()
        with self.db.read() as conn:
            return sorted(conn.execute(query).scalars())

    # alerts --------------------------------------------------------------------------------------------------

    def open_alerts(self, monitor_id: str) -> dict[str, Alert]:
        """The raised (not yet resolved) alerts by rule key."""
        found = self.alerts(monitor_id, status="raised", limit=10_000)
        return {alert.rule_key: alert for alert in found}

    def latest_alerts(self, monitor_id: str) -> dict[str, Alert]:
        """The most recent alert of every rule key, raised or resolved (for cool-down decisions)."""
        latest: dict[str, Alert] = {}
        for alert in reversed(self.alerts(monitor_id, limit=10_000)):
            latest[alert.rule_key] = alert
        return latest

    def save_alert(self, alert: Alert) -> None:
        values = {
            "monitor_id": alert.monitor_id,
            "rule": alert.rule,
            "rule_key": alert.rule_key,
            "segment": alert.segment,
            "window_start": alert.window_start,
            "status": alert.status,
            "severity": alert.severity,
            "message": alert.message,
            "values": _dumps(alert.values),
            "deliveries": _dumps(alert.deliveries),
            "raised_at": alert.raised_at,
            "notified_at": alert.notified_at,
            "resolved_at": alert.resolved_at,
        }
        statement = upsert(self.db, monitor_alerts).values(id=alert.id, **values)
        with self.db.write() as conn:
            conn.execute(statement.on_conflict_do_update(index_elements=[monitor_alerts.c.id], set_=values))

    def alerts(self, monitor_id: str | None = None, *, status: str | None = None, limit: int = 200) -> list[Alert]:
        """Newest first."""
        where = []
        if monitor_id is not None:
            where.append(monitor_alerts.c.monitor_id == monitor_id)
        if status is not None:
            where.append(monitor_alerts.c.status == status)
        query = (
            select(monitor_alerts)
            .where(*where)
            .order_by(monitor_alerts.c.raised_at.desc(), monitor_alerts.c.id.desc())
            .limit(limit)
        )
        with self.db.read() as conn:
            return [_alert(row) for row in conn.execute(query)]

    # prediction log files ------------------------------------------------------------------------------------

    def ingested(self, paths: Iterable[str]) -> set[str]:
        wanted = {_path_id(path): path for path in paths}
        found: set[str] = set()
        keys = list(wanted)
        with self.db.read() as conn:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                found |= set(
                    conn.execute(select(monitor_log_files.c.id).where(monitor_log_files.c.id.in_(chunk))).scalars()
                )
        return {wanted[key] for key in found}

    def mark_ingested(self, path: str, rows: int) -> None:
        statement = upsert(self.db, monitor_log_files).values(
            id=_path_id(path), path=path, rows=rows, ingested_at=now_ms()
        )
        with self.db.write() as conn:
            conn.execute(statement.on_conflict_do_nothing())


def _path_id(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()


def _same_version(version: int | None) -> Any:
    column = monitor_periods.c.model_version
    return column.is_(None) if version is None else column == version


def _row(monitor: Monitor) -> dict[str, Any]:
    return {
        "id": monitor.id,
        "name": monitor.name,
        "alias": monitor.alias,
        "version": monitor.version,
        "features": None if monitor.features is None else _dumps(monitor.features),
        "window_s": monitor.window_s,
        "segment_by": _dumps(monitor.segment_by),
        "task": monitor.task,
        "policy": _dumps(monitor.policy),
        "quality": _dumps(monitor.quality),
        "rules": _dumps(monitor.rules),
        "channels": _dumps(monitor.channels),
        "cooldown_s": monitor.cooldown_s,
        "description": monitor.description,
        "created_by": monitor.created_by,
        "created_at": monitor.created_at,
        "updated_at": monitor.updated_at,
    }


def _monitor(row: Row[Any]) -> Monitor:
    loaded = {name: orjson.loads(getattr(row, name)) for name in _JSON_COLUMNS}
    return Monitor(
        id=row.id,
        name=row.name,
        model_name=row.model_name,
        alias=row.alias,
        version=row.version,
        features=None if row.features is None else orjson.loads(row.features),
        window_s=row.window_s,
        task=row.task,
        cooldown_s=row.cooldown_s,
        description=row.description,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        **loaded,
    )


def _alert(row: Row[Any]) -> Alert:
    return Alert(
        id=row.id,
        monitor_id=row.monitor_id,
        rule=row.rule,
        rule_key=row.rule_key,
        segment=row.segment,
        window_start=row.window_start,
        status=row.status,
        severity=row.severity,
        message=row.message,
        values=orjson.loads(row.values),
        deliveries=orjson.loads(row.deliveries),
        raised_at=row.raised_at,
        notified_at=row.notified_at,
        resolved_at=row.resolved_at,
    )
