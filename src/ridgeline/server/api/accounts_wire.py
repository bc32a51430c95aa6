"""JSON shapes of accounts, tokens, memberships, invitations and audit entries, and the request bodies."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import Field

from ridgeline.domain.accounts import ApiToken, AuditEntry, Invitation, Membership, Principal, User
from ridgeline.domain.errors import InvalidArgument
from ridgeline.server.schemas import Strict
from ridgeline.services.accounts import AccountService


def user_json(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "display_name": user.display_name,
        "email": user.email,
        "kind": user.kind,
        "system_role": user.system_role,
        "disabled": user.disabled,
        "created_at": user.created_at,
        "created_by": user.created_by,
        "last_login_at": user.last_login_at,
    }


def token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "user": token.user_name,
        "name": token.name,
        "prefix": token.prefix,
        "scope": token.scope,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "last_used_at": token.last_used_at,
    }


def membership_json(membership: Membership) -> dict[str, Any]:
    return {"workspace": membership.workspace_name, "user": membership.user_name, "role": membership.role}


def invitation_json(invitation: Invitation, workspace: str | None) -> dict[str, Any]:
    return {
        "id": invitation.id,
        "workspace": workspace,
        "role": invitation.role,
        "system_role": invitation.system_role,
        "note": invitation.note,
        "created_by": invitation.created_by,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "used_at": invitation.used_at,
        "used_by": invitation.used_by,
    }


def audit_json(entry: AuditEntry, workspace: str | None) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "method": entry.method,
        "path": entry.path,
        "object": entry.object,
        "workspace": workspace,
        "remote_addr": entry.remote_addr,
        "status": entry.status,
    }


def accounts_of(request: Request) -> AccountService:
    """The account service; refused in local single-user mode, which has no accounts to manage."""
    if not request.app.state.settings_auth:
        raise InvalidArgument(
            "this server runs in local single-user mode, without accounts: start it with --auth to use them",
            field="auth",
        )
    service: AccountService = request.app.state.accounts
    return service


def current_user(request: Request) -> User:
    principal: Principal = request.state.principal
    return accounts_of(request).get_user(principal.name)


class LoginBody(Strict):
    name: str = Field(max_length=100)
    password: str = Field(max_length=1024)


class NewAccountBody(Strict):
    name: str = Field(max_length=100)
    password: str = Field(max_length=1024)
    display_name: str = Field("", max_length=200)
    email: str | None = Field(None, max_length=320)


class AcceptBody(NewAccountBody):
    token: str = Field(max_length=200)


class AccountUpdate(Strict):
    display_name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320)
    default_workspace: str | None = Field(None, max_length=200)


class PasswordChange(Strict):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class TokenCreate(Strict):
    name: str = Field(max_length=100)
    scope: str = Field("write", description="read, write or admin")
    expires_days: float | None = Field(90, description="days until it expires; null: never")


class UserCreate(Strict):
    name: str = Field(max_length=100)
    password: str | None = Field(None, max_length=1024, description="people only; service accounts have none")
    kind: str = Field("user", description="user or service")
    system_role: str = Field("user", description="user or admin")
    display_name: str = Field("", max_length=200)
    email: str | None = Field(None, max_length=320)
    workspace: str | None = Field(None, max_length=200, description="a workspace to join")
    role: str | None = Field(None, description="the role there: owner, maintainer, editor or viewer")


class UserUpdate(Strict):
    disabled: bool | None = None
    system_role: str | None = None
    password: str | None = Field(None, max_length=1024)


class InvitationCreate(Strict):
    workspace: str | None = Field(None, max_length=200)
    role: str | None = None
    system_role: str = "user"
    note: str = Field("", max_length=200)
    days: float = 7


class WorkspaceCreate(Strict):
    name: str = Field(max_length=200)
    owner: str | None = Field(None, max_length=100)


class RoleBody(Strict):
    role: str
