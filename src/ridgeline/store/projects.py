"""Projects and workspaces in the metadata store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.exc import IntegrityError

from ridgeline.domain.entities import Project
from ridgeline.domain.errors import AlreadyExists, NotFound
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.store.database import Database
from ridgeline.store.schema import projects, runs

DEFAULT_WORKSPACE_ID = "0" * 32


def _project(row: Row[Any], run_count: int = 0, last_activity: int | None = None) -> Project:
    return Project(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
        run_count=run_count,
        last_activity=last_activity,
    )


class ProjectStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    def create(
        self,
        name: str,
        description: str = "",
        workspace_id: str = DEFAULT_WORKSPACE_ID,
        project_id: str | None = None,
    ) -> Project:
        now = now_ms()
        values: dict[str, Any] = {
            "id": project_id or new_id(),
            "workspace_id": workspace_id,
            "name": name,
            "description": description,
            "created_at": now,
            "updated_at": now,
            "deleted_at": None,
        }
        try:
            with self.db.write() as conn:
                conn.execute(projects.insert().values(**values))
        except IntegrityError as exc:
            existing = self.find_by_name(name, workspace_id)
            state = " (it is deleted: restore it or pick another name)" if existing and existing.deleted else ""
            raise AlreadyExists(f"a project named {name!r} already exists{state}", field="name") from exc
        return self.get(values["id"])

    def get(self, project_id: str) -> Project:
        with self.db.read() as conn:
            row = conn.execute(select(projects).where(projects.c.id == project_id)).first()
        if row is None:
            raise NotFound(f"project {project_id!r} does not exist", field="project_id")
        return _project(row)

    def find_by_name(self, name: str, workspace_id: str = DEFAULT_WORKSPACE_ID) -> Project | None:
        with self.db.read() as conn:
            row = conn.execute(
                select(projects).where(projects.c.workspace_id == workspace_id, projects.c.name == name)
            ).first()
        return None if row is None else _project(row)

    def list(
        self, workspace_id: str = DEFAULT_WORKSPACE_ID, *, deleted: bool = False, query: str | None = None
    ) -> list[Project]:
        live = runs.c.deleted_at.is_(None)
        stats = (
            select(
                runs.c.project_id,
                func.count().label("run_count"),
                func.max(runs.c.updated_at).label("last_activity"),
            )
            .where(live)
            .group_by(runs.c.project_id)
            .subquery()
        )
        stmt = (
            select(projects, stats.c.run_count, stats.c.last_activity)
            .outerjoin(stats, stats.c.project_id == projects.c.id)
            .where(projects.c.workspace_id == workspace_id)
            .where(projects.c.deleted_at.is_not(None) if deleted else projects.c.deleted_at.is_(None))
            .order_by(projects.c.name)
        )
        if query:
            escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(func.lower(projects.c.name).like(f"%{escaped.lower()}%", escape="\\"))
        with self.db.read() as conn:
            rows = conn.execute(stmt).all()
        return [_project(row, row.run_count or 0, max(row.last_activity or 0, row.updated_at)) for row in rows]

    def update(self, project_id: str, **values: Any) -> Project:
        values["updated_at"] = now_ms()
        try:
            with self.db.write() as conn:
                result = conn.execute(projects.update().where(projects.c.id == project_id).values(**values))
        except IntegrityError as exc:
            raise AlreadyExists(f"a project named {values.get('name')!r} already exists", field="name") from exc
        if result.rowcount == 0:
            raise NotFound(f"project {project_id!r} does not exist", field="project_id")
        return self.get(project_id)
