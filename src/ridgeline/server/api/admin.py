"""Administration: /api/v1/users, /api/v1/tokens, /api/v1/invitations, /api/v1/workspaces (and members),
/api/v1/projects/{id}/members and /api/v1/audit. Who may call each is in server/permission_table.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ridgeline.domain.accounts import Principal
from ridgeline.domain.ids import now_ms
from ridgeline.server.api.accounts_wire import (
    InvitationCreate,
    RoleBody,
    TokenCreate,
    UserCreate,
    UserUpdate,
    WorkspaceCreate,
    accounts_of,
    audit_json,
    invitation_json,
    membership_json,
    token_json,
    user_json,
)
from ridgeline.server.responses import ERROR_RESPONSES, JSON
from ridgeline.services.workspaces import WorkspaceService

router = APIRouter(tags=["administration"], responses=ERROR_RESPONSES)
# The end of year 9999, in ms: later bounds are mistakes, and past 64 bits the database cannot compare them.
MAX_MS = 253_402_300_799_999


def _workspaces(request: Request) -> WorkspaceService:
    service: WorkspaceService = request.app.state.workspaces
    return service


def _principal(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


def _role_in(request: Request, workspace_id: str) -> str:
    principal = _principal(request)
    if principal.local or principal.system_admin or principal.user_id is None:
        return "owner"
    roles = {m.workspace_id: m.role for m in _workspaces(request).members.memberships(user_id=principal.user_id)}
    return roles.get(workspace_id, "")


@router.get("/users")
def list_users(request: Request) -> JSON:
    return JSON({"users": [user_json(user) for user in accounts_of(request).list_users()]})


@router.post("/users", status_code=201)
def create_user(body: UserCreate, request: Request) -> JSON:
    accounts = accounts_of(request)
    workspace_id = accounts.store.members.workspace_by_name(body.workspace).id if body.workspace else None
    user = accounts.create_user(
        body.name,
        body.password,
        created_by=_principal(request).name,
        kind=body.kind,
        system_role=body.system_role,
        display_name=body.display_name,
        email=body.email,
        workspace_id=workspace_id,
        role=body.role if workspace_id else None,
    )
    return JSON(user_json(user), status_code=201)


@router.get("/users/{name}")
def get_user(name: str, request: Request) -> JSON:
    accounts = accounts_of(request)
    user = accounts.get_user(name)
    return JSON(
        {
            **user_json(user),
            "workspaces": [membership_json(m) for m in accounts.store.members.memberships(user_id=user.id)],
            "tokens": [token_json(t) for t in accounts.list_tokens(user)],
        }
    )


@router.patch("/users/{name}")
def update_user(name: str, body: UserUpdate, request: Request) -> JSON:
    """Disable or enable an account, change its system role, or set a new password."""
    accounts = accounts_of(request)
    if body.system_role is not None:
        accounts.set_system_role(name, body.system_role)
    if body.disabled is not None:
        accounts.set_disabled(name, body.disabled)
    if body.password is not None:
        accounts.set_password(name, body.password)
    return get_user(name, request)


@router.post("/users/{name}/tokens", status_code=201)
def create_user_token(name: str, body: TokenCreate, request: Request) -> JSON:
    """A token for another account (a service account's, for CI or a model server), shown this once."""
    accounts = accounts_of(request)
    new = accounts.create_token(accounts.get_user(name), body.name, body.scope, body.expires_days)
    return JSON({**token_json(new.token), "token": new.secret}, status_code=201)


@router.get("/tokens")
def list_tokens(request: Request) -> JSON:
    return JSON({"tokens": [token_json(t) for t in accounts_of(request).list_tokens()]})


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: str, request: Request) -> JSON:
    return JSON(token_json(accounts_of(request).revoke_token(token_id)))


@router.get("/invitations")
def list_invitations(request: Request) -> JSON:
    accounts = accounts_of(request)
    names = {w.id: w.name for w in accounts.store.members.list_workspaces()}
    invitations = accounts.accounts.list_invitations()
    return JSON({"invitations": [invitation_json(i, names.get(i.workspace_id or "")) for i in invitations]})


@router.post("/invitations", status_code=201)
def create_invitation(body: InvitationCreate, request: Request) -> JSON:
    """An invitation link (it works once, until it expires): who follows it picks a name and password."""
    accounts = accounts_of(request)
    workspace = accounts.store.members.workspace_by_name(body.workspace) if body.workspace else None
    invitation, secret = accounts.invite(
        _principal(request).name,
        workspace_id=workspace.id if workspace else None,
        role=body.role,
        system_role=body.system_role,
        note=body.note,
        days=body.days,
    )
    url = f"{str(request.base_url).rstrip('/')}/invitation?token={secret}"
    body_json = invitation_json(invitation, workspace.name if workspace else None)
    return JSON({**body_json, "token": secret, "url": url}, status_code=201)


@router.delete("/invitations/{invitation_id}", status_code=204)
def delete_invitation(invitation_id: str, request: Request) -> Response:
    accounts_of(request).accounts.delete_invitation(invitation_id)
    return Response(status_code=204)


@router.get("/workspaces")
def list_workspaces(request: Request) -> JSON:
    """The workspaces the caller may use, with their role in each."""
    visible = _workspaces(request).visible(_principal(request))
    current = getattr(request.state, "workspace_id", None)
    return JSON(
        {
            "workspaces": [
                {"name": w.name, "role": role, "created_at": w.created_at, "current": w.id == current}
                for w, role in visible
            ]
        }
    )


@router.post("/workspaces", status_code=201)
def create_workspace(body: WorkspaceCreate, request: Request) -> JSON:
    workspace = _workspaces(request).create(body.name, body.owner)
    return JSON({"name": workspace.name, "created_at": workspace.created_at}, status_code=201)


@router.delete("/workspaces/{workspace}", status_code=204)
def delete_workspace(workspace: str, request: Request) -> Response:
    _workspaces(request).delete(workspace)
    return Response(status_code=204)


@router.get("/workspaces/{workspace}/members")
def list_members(workspace: str, request: Request) -> JSON:
    return JSON({"members": [membership_json(m) for m in _workspaces(request).list_members(workspace)]})


@router.put("/workspaces/{workspace}/members/{user}")
def set_member(workspace: str, user: str, body: RoleBody, request: Request) -> JSON:
    service = _workspaces(request)
    by_role = _role_in(request, service.get(workspace).id)
    return JSON(membership_json(service.set_member(workspace, user, body.role, _principal(request), by_role)))


@router.delete("/workspaces/{workspace}/members/{user}", status_code=204)
def remove_member(workspace: str, user: str, request: Request) -> Response:
    service = _workspaces(request)
    by_role = _role_in(request, service.get(workspace).id)
    service.remove_member(workspace, user, _principal(request), by_role)
    return Response(status_code=204)


@router.get("/projects/{project_id}/members")
def list_project_roles(project_id: str, request: Request) -> JSON:
    """Per-project roles: each replaces the member's workspace role on this project."""
    roles = _workspaces(request).project_roles(project_id)
    return JSON({"members": [{"user": user, "role": role} for user, role in roles]})


@router.put("/projects/{project_id}/members/{user}")
def set_project_role(project_id: str, user: str, body: RoleBody, request: Request) -> JSON:
    _workspaces(request).set_project_role(project_id, user, body.role, _principal(request))
    return JSON({"user": user, "role": body.role})


@router.delete("/projects/{project_id}/members/{user}", status_code=204)
def remove_project_role(project_id: str, user: str, request: Request) -> Response:
    _workspaces(request).set_project_role(project_id, user, None, _principal(request))
    return Response(status_code=204)


@router.get("/audit")
def audit_log(
    request: Request,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    object: Annotated[str | None, Query(max_length=200, description="object text contains")] = None,
    since: Annotated[int | None, Query(ge=0, le=MAX_MS, description="ms since the epoch")] = None,
    until: Annotated[int | None, Query(ge=0, le=MAX_MS)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**62, description="page: entries older than this id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSON:
    """Audit entries, newest first: administrators see every workspace's, maintainers and owners their
    workspace's. Page with ``before_id`` = the last id of the previous page."""
    principal = _principal(request)
    store = _workspaces(request).store
    entries = store.audit.query(
        actor=actor,
        action=action,
        object_contains=object,
        workspace_id=None if principal.local or principal.system_admin else request.state.workspace_id,
        since=since,
        until=until if until is not None else now_ms() + 1,
        before_id=before_id,
        limit=limit,
    )
    names = {w.id: w.name for w in store.members.list_workspaces()}
    return JSON({"entries": [audit_json(entry, names.get(entry.workspace_id or "")) for entry in entries]})
