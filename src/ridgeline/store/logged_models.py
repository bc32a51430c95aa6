"""Logged models (model packages saved by runs) in the metadata store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ridgeline.domain.errors import AlreadyExists, NotFound
from ridgeline.domain.ids import now_ms
from ridgeline.domain.registry import LoggedModel, LoggedModelStatus
from ridgeline.store.database import Database
from ridgeline.store.schema import logged_model_tags, logged_models, runs
from ridgeline.store.tags import TagTable


class LoggedModelStore:
    def __init__(self, database: Database) -> None:
        self.db = database
        self.tags = TagTable(database, logged_model_tags, "model_id")

    def create(self, values: dict[str, Any], params: Mapping[str, str], tags: Mapping[str, str]) -> LoggedModel:
        row = dict(values, params=orjson.dumps(dict(params)).decode())
        try:
            with self.db.write() as conn:
                conn.execute(logged_models.insert().values(**row))
                self.tags.set(conn, row["id"], tags)
        except IntegrityError as exc:
            raise AlreadyExists(f"logged model {row['id']} already exists", field="model_id") from exc
        return self.get(row["id"])

    def get(self, model_id: str) -> LoggedModel:
        found = self.select(ids=[model_id])
        if not found:
            raise NotFound(f"Logged model with ID '{model_id}' not found", field="model_id")
        return found[0]

    def select(
        self,
        *,
        ids: list[str] | None = None,
        project_ids: list[str] | None = None,
        run_ids: list[str] | None = None,
        live_runs_only: bool = False,
    ) -> list[LoggedModel]:
        """Newest first."""
        conditions: list[Any] = []
        if ids is not None:
            conditions.append(logged_models.c.id.in_(ids))
        if project_ids is not None:
            conditions.append(logged_models.c.project_id.in_(project_ids))
        if run_ids is not None:
            conditions.append(logged_models.c.run_id.in_(run_ids))
        query = select(logged_models).where(*conditions)
        if live_runs_only:
            query = query.join(runs, runs.c.id == logged_models.c.run_id).where(runs.c.deleted_at.is_(None))
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(logged_models.c.created_at.desc(), logged_models.c.id.desc())).all()
        tags = self.tags.read([row.id for row in rows])
        return [
            LoggedModel(
                id=row.id,
                project_id=row.project_id,
                run_id=row.run_id,
                name=row.name,
                artifact_path=row.artifact_path,
                status=LoggedModelStatus(row.status),
                status_message=row.status_message,
                model_type=row.model_type,
                created_at=row.created_at,
                updated_at=row.updated_at,
                params=orjson.loads(row.params),
                tags=tags[row.id],
            )
            for row in rows
        ]

    def update(self, model_id: str, **values: Any) -> LoggedModel:
        values["updated_at"] = now_ms()
        with self.db.write() as conn:
            result = conn.execute(logged_models.update().where(logged_models.c.id == model_id).values(**values))
        if result.rowcount == 0:
            raise NotFound(f"Logged model with ID '{model_id}' not found", field="model_id")
        return self.get(model_id)

    def set_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        self.get(model_id)
        with self.db.write() as conn:
            self.tags.set(conn, model_id, tags)

    def delete_tag(self, model_id: str, key: str) -> bool:
        with self.db.write() as conn:
            return self.tags.delete(conn, model_id, key)

    def delete(self, model_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(logged_model_tags.delete().where(logged_model_tags.c.model_id == model_id))
            conn.execute(logged_models.delete().where(logged_models.c.id == model_id))
