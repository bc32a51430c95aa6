"""Projects and workspaces in the metadata store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.exc import IntegrityError

from ridgeline.domain.entities import Project
from ridgeline.domain.errors import AlreadyExists, NotFound
from ridgeline.domain.filters import ascii_lower
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.store.database import Database
from ridgeline.store.schema import project_tags, projects, runs
from ridgeline.store.scope import scoped
from ridgeline.store.sql import text_order
from ridgeline.store.tags import TagTable


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
        self.tag_table = TagTable(database, project_tags, "project_id")

    def create(
        self,
        name: str,
        description: str = "",
        workspace_id: str | None = None,
        project_id: str | None = None,
    ) -> Project:
        workspace_id = scoped(workspace_id)
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

    def get(self, project_id: str, *, stats: bool = True) -> Project:
        found = self._select(projects.c.id == project_id, stats=stats)
        if not found:
            raise NotFound(f"project {project_id!r} does not exist", field="project_id")
        return found[0]

    def find_by_name(self, name: str, workspace_id: str | None = None, *, stats: bool = True) -> Project | None:
        workspace_id = scoped(workspace_id)
        found = self._select(projects.c.workspace_id == workspace_id, projects.c.name == name, stats=stats)
        return found[0] if found else None

    def list_projects(
        self, workspace_id: str | None = None, *, deleted: bool = False, query: str | None = None
    ) -> list[Project]:
        workspace_id = scoped(workspace_id)
        conditions = [
            projects.c.workspace_id == workspace_id,
            projects.c.deleted_at.is_not(None) if deleted else projects.c.deleted_at.is_(None),
        ]
        if query:
            # SQL lower() folds ASCII only (SQLite, PostgreSQL's C collation); fold the query the same way.
            escaped = ascii_lower(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(func.lower(text_order(self.db, projects.c.name)).like(f"%{escaped}%", escape="\\"))
        return self._select(*conditions)

    def _select(self, *conditions: ColumnElement[bool], stats: bool = True) -> list[Project]:
        """Projects matching ``conditions``, by name; with ``stats``, their live run count and last activity
        (counted over the matching projects' runs only, so a look-up never scans the whole runs table)."""
        if not stats:
            with self.db.read() as conn:
                rows = conn.execute(select(projects).where(*conditions).order_by(projects.c.name)).all()
            return [_project(row) for row in rows]
        matching = select(projects.c.id).where(*conditions)
        stats_query = (
            select(
                runs.c.project_id,
                func.count().label("run_count"),
                func.max(runs.c.updated_at).label("last_activity"),
            )
            .where(runs.c.deleted_at.is_(None), runs.c.project_id.in_(matching))
            .group_by(runs.c.project_id)
            .subquery()
        )
        stmt = (
            select(projects, stats_query.c.run_count, stats_query.c.last_activity)
            .outerjoin(stats_query, stats_query.c.project_id == projects.c.id)
            .where(*conditions)
            .order_by(projects.c.name)
        )
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

    def set_tag(self, project_id: str, key: str, value: str) -> None:
        self.get(project_id, stats=False)
        with self.db.write() as conn:
            self.tag_table.set(conn, project_id, {key: value})

    def delete_tag(self, project_id: str, key: str) -> None:
        self.get(project_id, stats=False)
        with self.db.write() as conn:
            deleted = self.tag_table.delete(conn, project_id, key)
        if not deleted:
            raise NotFound(f"project {project_id!r} has no tag {key!r}", field="key")

    def tags(self, project_ids: list[str]) -> dict[str, dict[str, str]]:
        """The tags of each project (every id present, an empty dict for a project without tags)."""
        return self.tag_table.read(project_ids)

    # import -------------------------------------------------------------------------------------------------------

    def insert(self, values: dict[str, Any], tags: dict[str, str]) -> None:
        """Add a project as another system holds it (its own id and times) with its tags, in one transaction."""
        try:
            with self.db.write() as conn:
                conn.execute(projects.insert().values(workspace_id=scoped(None), **values))
                self.tag_table.set(conn, values["id"], tags)
        except IntegrityError as exc:
            raise AlreadyExists(
                f"a project named {values['name']!r} or with id {values['id']} exists", field="name"
            ) from exc

    def with_tag(self, key: str, value: str) -> list[Project]:
        """The projects whose tag ``key`` holds ``value``."""
        tagged = select(project_tags.c.project_id).where(project_tags.c.key == key, project_tags.c.value == value)
        return self._select(projects.c.id.in_(tagged), stats=False)
