"""Workspaces, their members with roles, and per-project roles, in the metadata store."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, delete, select
from sqlalchemy.exc import IntegrityError

from ridgeline.domain.accounts import Membership, Workspace
from ridgeline.domain.errors import AlreadyExists, NotFound
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.store.database import Database
from ridgeline.store.schema import (
    dataset_versions,
    datasets,
    logged_models,
    model_servers,
    project_members,
    projects,
    registered_models,
    runs,
    users,
    workspace_members,
    workspaces,
)


def _workspace(row: Row[Any]) -> Workspace:
    return Workspace(id=row.id, name=row.name, created_at=row.created_at)


class MemberStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    # workspaces

    def create_workspace(self, name: str) -> Workspace:
        workspace = Workspace(id=new_id(), name=name, created_at=now_ms())
        try:
            with self.db.write() as conn:
                conn.execute(workspaces.insert().values(id=workspace.id, name=name, created_at=workspace.created_at))
        except IntegrityError as exc:
            raise AlreadyExists(f"a workspace named {name!r} already exists", field="name") from exc
        return workspace

    def list_workspaces(self, ids: Iterable[str] | None = None) -> list[Workspace]:
        query = select(workspaces).order_by(workspaces.c.name)
        if ids is not None:
            query = query.where(workspaces.c.id.in_(list(ids)))
        with self.db.read() as conn:
            return [_workspace(row) for row in conn.execute(query).all()]

    def workspace_by_name(self, name: str) -> Workspace:
        found = self.workspace_by_name_or_none(name)
        if found is None:
            raise NotFound(f"workspace {name!r} does not exist", field="workspace")
        return found

    def workspace_by_name_or_none(self, name: str) -> Workspace | None:
        with self.db.read() as conn:
            row = conn.execute(select(workspaces).where(workspaces.c.name == name)).first()
        return None if row is None else _workspace(row)

    def workspace_by_id(self, workspace_id: str) -> Workspace | None:
        with self.db.read() as conn:
            row = conn.execute(select(workspaces).where(workspaces.c.id == workspace_id)).first()
        return None if row is None else _workspace(row)

    def delete_workspace(self, workspace_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(delete(workspaces).where(workspaces.c.id == workspace_id))

    # workspace members

    def set_member(self, workspace_id: str, user_id: str, role: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                delete(workspace_members).where(
                    workspace_members.c.workspace_id == workspace_id, workspace_members.c.user_id == user_id
                )
            )
            conn.execute(
                workspace_members.insert().values(
                    workspace_id=workspace_id, user_id=user_id, role=role, created_at=now_ms()
                )
            )

    def remove_member(self, workspace_id: str, user_id: str) -> bool:
        with self.db.write() as conn:
            result = conn.execute(
                delete(workspace_members).where(
                    workspace_members.c.workspace_id == workspace_id, workspace_members.c.user_id == user_id
                )
            )
        return result.rowcount > 0

    def memberships(self, *, user_id: str | None = None, workspace_id: str | None = None) -> list[Membership]:
        query = (
            select(
                workspace_members.c.workspace_id,
                workspaces.c.name,
                users.c.name.label("user"),
                workspace_members.c.role,
            )
            .join(workspaces, workspaces.c.id == workspace_members.c.workspace_id)
            .join(users, users.c.id == workspace_members.c.user_id)
            .order_by(workspaces.c.name, users.c.name)
        )
        if user_id is not None:
            query = query.where(workspace_members.c.user_id == user_id)
        if workspace_id is not None:
            query = query.where(workspace_members.c.workspace_id == workspace_id)
        with self.db.read() as conn:
            return [Membership(row[0], row[1], row[2], row[3]) for row in conn.execute(query).all()]

    # per-project roles

    def set_project_role(self, project_id: str, user_id: str, role: str | None) -> None:
        with self.db.write() as conn:
            conn.execute(
                delete(project_members).where(
                    project_members.c.project_id == project_id, project_members.c.user_id == user_id
                )
            )
            if role is not None:
                conn.execute(
                    project_members.insert().values(
                        project_id=project_id, user_id=user_id, role=role, created_at=now_ms()
                    )
                )

    def project_roles(self, project_id: str) -> list[tuple[str, str]]:
        """(user name, role) of each per-project role on the project."""
        query = (
            select(users.c.name, project_members.c.role)
            .join(users, users.c.id == project_members.c.user_id)
            .where(project_members.c.project_id == project_id)
            .order_by(users.c.name)
        )
        with self.db.read() as conn:
            return [(row[0], row[1]) for row in conn.execute(query).all()]

    def project_places(self, project_ids: Iterable[str], user_id: str | None) -> dict[str, tuple[str, str | None]]:
        """project id → (its workspace id, the user's per-project role or None), for the projects that exist."""
        ids = list(set(project_ids))
        query = select(projects.c.id, projects.c.workspace_id).where(projects.c.id.in_(ids))
        with self.db.read() as conn:
            places = {row[0]: row[1] for row in conn.execute(query).all()}
            overrides: dict[str, str] = {}
            if user_id is not None and places:
                found = conn.execute(
                    select(project_members.c.project_id, project_members.c.role).where(
                        project_members.c.user_id == user_id, project_members.c.project_id.in_(list(places))
                    )
                ).all()
                overrides = {row[0]: row[1] for row in found}
        return {pid: (ws, overrides.get(pid)) for pid, ws in places.items()}

    def run_projects(self, run_ids: Iterable[str]) -> dict[str, str]:
        """run id → its project id, for the runs that exist."""
        with self.db.read() as conn:
            rows = conn.execute(select(runs.c.id, runs.c.project_id).where(runs.c.id.in_(list(set(run_ids))))).all()
        return {row[0]: row[1] for row in rows}

    def logged_model_projects(self, model_ids: Iterable[str]) -> dict[str, str]:
        """logged model id → its project id, for the logged models that exist."""
        query = select(logged_models.c.id, logged_models.c.project_id).where(
            logged_models.c.id.in_(list(set(model_ids)))
        )
        with self.db.read() as conn:
            return {row[0]: row[1] for row in conn.execute(query).all()}

    def dataset_version_workspaces(self, version_ids: Iterable[str]) -> dict[str, str]:
        """dataset version id → its dataset's workspace id."""
        query = (
            select(dataset_versions.c.id, datasets.c.workspace_id)
            .join(datasets, datasets.c.id == dataset_versions.c.dataset_id)
            .where(dataset_versions.c.id.in_(list(set(version_ids))))
        )
        with self.db.read() as conn:
            return {row[0]: row[1] for row in conn.execute(query).all()}

    def model_server_workspaces(self, server_ids: Iterable[str]) -> dict[str, str]:
        """model server id → the workspace of the registered model it serves."""
        query = (
            select(model_servers.c.id, registered_models.c.workspace_id)
            .join(registered_models, registered_models.c.id == model_servers.c.model_id)
            .where(model_servers.c.id.in_(list(set(server_ids))))
        )
        with self.db.read() as conn:
            return {row[0]: row[1] for row in conn.execute(query).all()}
