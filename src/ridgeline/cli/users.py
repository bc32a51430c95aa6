"""``ridgeline users create|list|disable|enable|set-role|set-password`` and ``ridgeline invite``: accounts,
managed directly on the server's metadata database (no server needed, no login: whoever may open the database is
its operator)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ridgeline.cli.account_services import administration, print_json, read_password, when
from ridgeline.cli.common import BackendOption, HomeOption, console, err_console
from ridgeline.domain.accounts import LOCAL_USER, ROLES, SYSTEM_ROLES, check_choice, check_user_name
from ridgeline.domain.errors import AlreadyExists, InvalidArgument

app = typer.Typer(help="User and service accounts of a server with accounts (--auth).", no_args_is_help=True)
PasswordStdinOption = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of standard input (for scripts)."
)
JsonOption = typer.Option(False, "--json", help="Print JSON on stdout instead of a table.")
ROLE_HELP = f"System role ({', '.join(SYSTEM_ROLES)}), or with --workspace the workspace role ({', '.join(ROLES)})."


def _workspace_and_role(workspace: str | None, role: str | None) -> None:
    if (workspace is None) != (role is None):
        raise InvalidArgument("give --workspace and --role together, or neither", field="role")
    if role is not None:
        check_choice(role, ROLES, "role")


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Login name: 2-64 lower-case letters, digits, '.', '_' or '-'."),
    admin: bool = typer.Option(False, "--admin", help="A system administrator (every workspace, all accounts)."),
    service: bool = typer.Option(False, "--service", help="A service account (CI, a model server): tokens only."),
    display_name: str = typer.Option("", "--display-name", help="Name shown in the UI (default: NAME)."),
    email: str | None = typer.Option(None, "--email", help="Email address."),
    workspace: str | None = typer.Option(None, "--workspace", help="A workspace to join (with --role)."),
    role: str | None = typer.Option(None, "--role", help=f"The role there: {', '.join(ROLES)}."),
    password_stdin: bool = PasswordStdinOption,
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """Create a person (asked for a password twice) or a service account (--service: no password)."""
    with administration(home, backend_uri) as ops:
        check_user_name(name)
        _workspace_and_role(workspace, role)
        if service and password_stdin:
            raise InvalidArgument("service accounts have no password: create a token for them", field="password")
        if ops.store.accounts.find_user(name) is not None:
            raise AlreadyExists(f"a user named {name!r} already exists", field="name")
        found = ops.workspaces.get(workspace) if workspace is not None else None
        password = None if service else read_password(password_stdin)
        user = ops.accounts.create_user(
            name,
            password,
            created_by=ops.operator,
            kind="service" if service else "user",
            system_role="admin" if admin else "user",
            display_name=display_name,
            email=email,
            workspace_id=found.id if found else None,
            role=role,
        )
        ops.record("users create", "create_user", f"user:{user.name}", found.id if found else None)
    joined = f", {role} of workspace {workspace}" if found else ""
    kind = "service account" if user.kind == "service" else "user"
    console.print(f"created {kind} {user.name} (system role {user.system_role}{joined})", highlight=False)
    if service:
        err_console.print(
            f"A service account logs in with API tokens: ridgeline tokens create --user {user.name} --name ci",
            highlight=False,
            soft_wrap=True,
        )


@app.command("list")
def list_users(
    json: bool = JsonOption, home: Path | None = HomeOption, backend_uri: str | None = BackendOption
) -> None:
    """Every account: kind, system role, disabled or not, workspaces with roles, last login."""
    with administration(home, backend_uri) as ops:
        users = ops.accounts.list_users()
        memberships = {user.id: ops.store.members.memberships(user_id=user.id) for user in users}
    if json:
        from ridgeline.server.api.accounts_wire import membership_json, user_json

        print_json(
            {"users": [{**user_json(u), "workspaces": [membership_json(m) for m in memberships[u.id]]} for u in users]}
        )
        return
    table = Table(title="users", title_justify="left")
    for column in ("name", "kind", "system role", "disabled", "workspaces", "last login (UTC)"):
        table.add_column(column)
    for user in users:
        joined = ", ".join(f"{m.workspace_name} ({m.role})" for m in memberships[user.id]) or "-"
        disabled = when(user.disabled_at) if user.disabled else "no"
        table.add_row(user.name, user.kind, user.system_role, disabled, joined, when(user.last_login_at))
    console.print(table)


def _set_disabled(name: str, disabled: bool, home: Path | None, backend_uri: str | None) -> None:
    command = "disable" if disabled else "enable"
    with administration(home, backend_uri) as ops:
        user = ops.accounts.set_disabled(name, disabled)
        ops.record(f"users {command}", f"{command}_user", f"user:{user.name}")
    console.print(f"{user.name}: {command}d", highlight=False)


@app.command("disable")
def disable(
    name: str = typer.Argument(..., help="User name."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """Disable an account: its web sessions end and its tokens stop working until it is enabled again."""
    _set_disabled(name, True, home, backend_uri)


@app.command("enable")
def enable(
    name: str = typer.Argument(..., help="User name."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """Enable a disabled account (its tokens work again; web logins start afresh)."""
    _set_disabled(name, False, home, backend_uri)


@app.command("set-role")
def set_role(
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Argument(..., help=ROLE_HELP),
    workspace: str | None = typer.Option(None, "--workspace", help="Set the role in this workspace (joining it)."),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """Set a system role (admin or user), or with --workspace a workspace role (adding the user as a member)."""
    with administration(home, backend_uri) as ops:
        if workspace is None:
            user = ops.accounts.set_system_role(name, role)
            ops.record("users set-role", "set_system_role", f"user:{user.name}")
            where = "system role"
        else:
            membership = ops.workspaces.set_member(workspace, name, role, LOCAL_USER, "owner")
            ops.record("users set-role", "set_member", f"user:{name}", membership.workspace_id)
            where = f"role in workspace {membership.workspace_name}"
    console.print(f"{name}: {where} {role}", highlight=False)


@app.command("set-password")
def set_password(
    name: str = typer.Argument(..., help="User name."),
    password_stdin: bool = PasswordStdinOption,
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """Set a new password (asked twice, or --password-stdin); the user's web sessions end."""
    with administration(home, backend_uri) as ops:
        if ops.accounts.get_user(name).kind != "user":
            raise InvalidArgument(f"{name} is a service account: it has tokens, no password", field="name")
        ops.accounts.set_password(name, read_password(password_stdin))
        ops.record("users set-password", "set_password", f"user:{name}")
    console.print(f"{name}: password changed, web sessions ended", highlight=False)


def invite(
    workspace: str | None = typer.Option(None, "--workspace", help="The workspace the new user joins (with --role)."),
    role: str | None = typer.Option(None, "--role", help=f"The role there: {', '.join(ROLES)}."),
    admin: bool = typer.Option(False, "--admin", help="The new user is a system administrator."),
    days: float = typer.Option(7, "--days", help="Days the link works (at most 90)."),
    url: str | None = typer.Option(
        None, "--url", help="The server's address as users reach it. \\[default: http://HOST:PORT of the settings]"
    ),
    home: Path | None = HomeOption,
    backend_uri: str | None = BackendOption,
) -> None:
    """Print an invitation link: who opens it picks a name and password; it works once, until it expires."""
    with administration(home, backend_uri) as ops:
        _workspace_and_role(workspace, role)
        found = ops.workspaces.get(workspace) if workspace is not None else None
        invitation, secret = ops.accounts.invite(
            ops.operator,
            workspace_id=found.id if found else None,
            role=role,
            system_role="admin" if admin else "user",
            days=days,
        )
        ops.record("invite", "create_invitation", f"invitation:{invitation.id}", found.id if found else None)
        settings = ops.settings
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    base = (url or f"http://{host}:{settings.port}").rstrip("/")
    typer.echo(f"{base}/invitation?token={secret}")
    joins = f", joins {workspace} as {role}" if found else ""
    err_console.print(
        f"Invitation for a new {invitation.system_role}{joins}: works once, until {when(invitation.expires_at)} UTC.",
        highlight=False,
        soft_wrap=True,
    )
