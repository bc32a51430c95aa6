"""Workspaces, their members and roles, and per-project roles.

Rules a demanding team expects: a workspace always keeps an owner; only owners make or unmake owners; the
default workspace cannot be deleted, nor a workspace that still holds projects or models.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ridgeline.domain.accounts import ROLES, Membership, Principal, Workspace, check_choice
from ridgeline.domain.errors import Conflict, InvalidArgument, PermissionDenied
from ridgeline.domain.validation import check_name
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.schema import projects, registered_models
from ridgeline.store.scope import DEFAULT_WORKSPACE_ID


class WorkspaceService:
    def __init__(self, store: MetadataStore) -> None:
        self.store = store
        self.members = store.members

    def visible(self, principal: Principal) -> list[tuple[Workspace, str]]:
        """The workspaces the principal may use, with their role in each (owner everywhere for admins)."""
        if principal.local or principal.system_admin:
            return [(workspace, "owner") for workspace in self.members.list_workspaces()]
        roles = {m.workspace_id: m.role for m in self.members.memberships(user_id=principal.user_id)}
        return [(workspace, roles[workspace.id]) for workspace in self.members.list_workspaces(roles)]

    def create(self, name: str, owner: str | None) -> Workspace:
        workspace = self.members.create_workspace(check_name(name, "name"))
        if owner is not None:
            self.members.set_member(workspace.id, self.store.accounts.get_user(owner).id, "owner")
        return workspace

    def get(self, name: str) -> Workspace:
        return self.members.workspace_by_name(name)

    def delete(self, name: str) -> None:
        workspace = self.get(name)
        if workspace.id == DEFAULT_WORKSPACE_ID:
            raise InvalidArgument("the default workspace cannot be deleted", field="workspace")
        with self.store.database.read() as conn:
            held = sum(
                int(conn.execute(select(func.count()).where(table.c.workspace_id == workspace.id)).scalar_one())
                for table in (projects, registered_models)
            )
        if held:
            raise Conflict(f"workspace {name!r} still holds projects or models: move or delete them first")
        self.members.delete_workspace(workspace.id)

    def list_members(self, name: str) -> list[Membership]:
        return self.members.memberships(workspace_id=self.get(name).id)

    def set_member(self, name: str, user_name: str, role: str, by: Principal, by_role: str) -> Membership:
        check_choice(role, ROLES, "role")
        workspace = self.get(name)
        user = self.store.accounts.get_user(user_name)
        current = {m.user_name: m.role for m in self.members.memberships(workspace_id=workspace.id)}
        self._check_owner_change(by, by_role, role, current.get(user_name))
        if current.get(user_name) == "owner" and role != "owner":
            self._keep_an_owner(current, user_name)
        self.members.set_member(workspace.id, user.id, role)
        return Membership(workspace.id, workspace.name, user.name, role)

    def remove_member(self, name: str, user_name: str, by: Principal, by_role: str) -> None:
        workspace = self.get(name)
        user = self.store.accounts.get_user(user_name)
        current = {m.user_name: m.role for m in self.members.memberships(workspace_id=workspace.id)}
        self._check_owner_change(by, by_role, None, current.get(user_name))
        if current.get(user_name) == "owner":
            self._keep_an_owner(current, user_name)
        self.members.remove_member(workspace.id, user.id)

    @staticmethod
    def _check_owner_change(by: Principal, by_role: str, new: str | None, old: str | None) -> None:
        if "owner" in (new, old) and not (by.local or by.system_admin or by_role == "owner"):
            raise PermissionDenied("only owners make or unmake owners")

    @staticmethod
    def _keep_an_owner(current: dict[str, str], leaving: str) -> None:
        if not any(role == "owner" for user, role in current.items() if user != leaving):
            raise Conflict("a workspace must keep an owner: make someone else owner first")

    def project_roles(self, project_id: str) -> list[tuple[str, str]]:
        return self.members.project_roles(project_id)

    def set_project_role(self, project_id: str, user_name: str, role: str | None, by: Principal) -> None:
        """Give ``user_name`` a role on one project that replaces their workspace role there (None: remove it).
        Only owners make or unmake owners here too: a project role of owner, or one replacing an owner's."""
        if role is not None:
            check_choice(role, ROLES, "role")
        user = self.store.accounts.get_user(user_name)
        workspace_id = self.store.projects.get(project_id, stats=False).workspace_id
        roles = {m.user_name: m.role for m in self.members.memberships(workspace_id=workspace_id)}
        held = {roles.get(user_name), dict(self.members.project_roles(project_id)).get(user_name)}
        mine = self.members.memberships(user_id=by.user_id) if by.user_id is not None else []
        by_role = next((m.role for m in mine if m.workspace_id == workspace_id), "")
        self._check_owner_change(by, by_role, role, "owner" if "owner" in held else None)
        self.members.set_project_role(project_id, user.id, role)
