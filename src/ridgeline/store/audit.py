"""The audit log in the metadata store: appended to, read back newest first, never changed (triggers refuse it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, select

from ridgeline.domain.accounts import AuditEntry
from ridgeline.store.database import Database
from ridgeline.store.schema import audit_log


class AuditStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    def append(self, entries: Sequence[dict[str, Any]]) -> None:
        if entries:
            with self.db.write() as conn:
                conn.execute(audit_log.insert(), list(entries))

    def query(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        object_contains: str | None = None,
        workspace_id: str | None = None,
        since: int | None = None,
        until: int | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        where: list[ColumnElement[bool]] = []
        if actor is not None:
            where.append(audit_log.c.actor == actor)
        if action is not None:
            where.append(audit_log.c.action == action)
        if object_contains is not None:
            where.append(audit_log.c.object.contains(object_contains, autoescape=True))
        if workspace_id is not None:
            where.append(audit_log.c.workspace_id == workspace_id)
        if since is not None:
            where.append(audit_log.c.at >= since)
        if until is not None:
            where.append(audit_log.c.at < until)
        if before_id is not None:
            where.append(audit_log.c.id < before_id)
        query = select(audit_log).where(*where).order_by(audit_log.c.id.desc()).limit(limit)
        with self.db.read() as conn:
            return [AuditEntry(**row._mapping) for row in conn.execute(query).all()]
